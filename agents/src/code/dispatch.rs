//! Runs the detectors that a file's route selects.

use proto::FindingKind;

use super::artefact::Artefact;
use super::context::{Draft, TextView};
use super::route::{Config, Route};
use super::{manifests, structured, text};
use crate::catalogue::{Catalogue, Category};

/// JSON files above this size, in bytes, are taken for data (document dumps, embeddings,
/// evaluation results) rather than configuration, and are searched for secrets only.
// NOTE: the bound is a judgement call; hand-written JSON configuration is rarely this large.
const DATA_JSON_BYTES: usize = 256 * 1024;

/// Runs the detectors for one text file; an `Err` is a non-fatal message about the file.
pub(crate) fn text(
    catalogue: &Catalogue,
    route: Route,
    relative: &str,
    text: &str,
    drafts: &mut Vec<Draft>,
) -> Result<(), String> {
    let view = TextView::new(text);
    let config = &catalogue.config_scanner;
    match route {
        Route::Declaration => return structured::declaration(&view, drafts),
        Route::Mcp => {
            text::scan(catalogue, &view, config, None, drafts);
            return structured::mcp(&view, drafts);
        }
        Route::Workflow => {
            text::scan(catalogue, &view, config, None, drafts);
            structured::workflow(catalogue, &view, drafts);
        }
        Route::Manifest(manifest) => {
            text::scan(catalogue, &view, &catalogue.prose_scanner, None, drafts);
            return manifests::scan(catalogue, manifest, &view, drafts);
        }
        Route::Code(language) => {
            let scanner = &catalogue.code_scanners[language.index()];
            text::scan(catalogue, &view, scanner, Some(language), drafts);
        }
        Route::Notebook => return structured::notebook(catalogue, text, drafts),
        Route::Markdown => {
            text::scan(catalogue, &view, &catalogue.prose_scanner, None, drafts);
            if is_readme(relative) {
                return structured::model_card(relative, &view, drafts);
            }
        }
        Route::Dockerfile | Route::Config(Config::Other) => {
            text::scan(catalogue, &view, config, None, drafts);
            manifests::pip_installs(catalogue, text, drafts);
        }
        Route::Config(Config::Json) if text.len() > DATA_JSON_BYTES => {
            text::scan(catalogue, &view, &catalogue.prose_scanner, None, drafts);
        }
        Route::Config(Config::Yaml | Config::Json) => {
            text::scan(catalogue, &view, config, None, drafts);
        }
        Route::Config(Config::Terraform) => {
            text::scan(catalogue, &view, config, None, drafts);
            structured::terraform(catalogue, &view, drafts);
        }
        Route::Config(Config::Bicep) => {
            text::scan(catalogue, &view, config, None, drafts);
            structured::bicep(catalogue, &view, drafts);
        }
        Route::Prose => text::scan(catalogue, &view, &catalogue.prose_scanner, None, drafts),
        Route::Artefact(_) => {}
    }
    Ok(())
}

fn is_readme(relative: &str) -> bool {
    let name = relative.rsplit('/').next().unwrap_or(relative);
    name.eq_ignore_ascii_case("readme.md")
}

/// Builds the finding of a confirmed model artefact.
pub(crate) fn artefact_draft(artefact: &Artefact) -> Draft {
    let format = artefact.format.as_str();
    let draft = Draft::new(FindingKind::Artefact, format, Category::Artefact)
        .attr("format", format)
        .attr("size_bytes", artefact.size_bytes.to_string());
    match &artefact.sha256 {
        Some(sha256) => draft.attr("sha256", sha256),
        None => draft,
    }
}
