//! Jupyter notebooks: the code detectors run over each code cell; markdown and outputs are
//! not searched.

use serde::Deserialize;

use crate::catalogue::{Catalogue, Language};
use crate::code::context::{Draft, TextView, deduplicate};
use crate::code::manifests::pip_installs;
use crate::code::text;

#[derive(Deserialize)]
struct Notebook {
    #[serde(default)]
    cells: Vec<Cell>,
    #[serde(default)]
    metadata: serde_json::Value,
}

#[derive(Deserialize)]
struct Cell {
    cell_type: String,
    #[serde(default)]
    source: Source,
}

/// nbformat stores a cell's source as one string or as a list of lines.
#[derive(Deserialize)]
#[serde(untagged)]
enum Source {
    Text(String),
    Lines(Vec<String>),
}

impl Default for Source {
    fn default() -> Self {
        Source::Text(String::new())
    }
}

/// Runs the code detectors over every code cell. Lines are counted within the cell, and each
/// finding also carries the cell's 0-based index in the `cell` attribute.
pub(crate) fn notebook(
    catalogue: &Catalogue,
    text: &str,
    drafts: &mut Vec<Draft>,
) -> Result<(), String> {
    let notebook: Notebook = serde_json::from_str(text).map_err(|error| {
        format!("invalid notebook JSON: {error}; the notebook was not searched")
    })?;
    let language = kernel_language(&notebook.metadata);
    let scanner = &catalogue.code_scanners[language.index()];
    for (index, cell) in notebook
        .cells
        .iter()
        .enumerate()
        .filter(|(_, cell)| cell.cell_type == "code")
    {
        let source = match &cell.source {
            Source::Text(text) => text.clone(),
            Source::Lines(lines) => lines.concat(),
        };
        let code = mask_shell_lines(&source);
        let mut cell_drafts = Vec::new();
        text::scan(
            catalogue,
            &TextView::new(&code),
            scanner,
            Some(language),
            &mut cell_drafts,
        );
        pip_installs(catalogue, &source, &mut cell_drafts);
        deduplicate(&mut cell_drafts);
        // The first cell that shows a subject wins, whatever its line number within the cell.
        cell_drafts.retain(|draft| {
            !drafts
                .iter()
                .any(|seen| seen.kind == draft.kind && seen.subject == draft.subject)
        });
        drafts.extend(
            cell_drafts
                .into_iter()
                .map(|draft| draft.attr("cell", index.to_string())),
        );
    }
    Ok(())
}

/// Blanks IPython magics and shell escapes (`%pip`, `!pip`) so that the import grammar does
/// not read them, keeping the line count.
fn mask_shell_lines(source: &str) -> String {
    source
        .split('\n')
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with('%') || trimmed.starts_with('!') {
                ""
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn kernel_language(metadata: &serde_json::Value) -> Language {
    let name = metadata
        .pointer("/kernelspec/language")
        .or_else(|| metadata.pointer("/language_info/name"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("python");
    match name.to_ascii_lowercase().as_str() {
        "javascript" | "typescript" => Language::Javascript,
        "go" => Language::Go,
        "java" | "kotlin" | "scala" => Language::Java,
        "rust" => Language::Rust,
        "c#" | "csharp" => Language::Csharp,
        _ => Language::Python,
    }
}
