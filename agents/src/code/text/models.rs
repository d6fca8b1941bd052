//! Model identifiers and Hugging Face repository ids.

use std::ops::Range;
use std::sync::OnceLock;

use proto::FindingKind;
use regex::Regex;

use crate::catalogue::{Catalogue, Category, ModelFamily};
use crate::code::context::{Draft, TextView};

/// Runs one model family over `region` of a text. In code, only identifiers in string
/// literals count, since a bare `gpt4` or `llama` is more often a variable name than a model.
pub(super) fn scan_family(
    family: &ModelFamily,
    view: &TextView<'_>,
    region: Range<usize>,
    is_code: bool,
    drafts: &mut Vec<Draft>,
) {
    let base = region.start;
    for captures in family.regex.captures_iter(&view.text[region]) {
        let Some(identifier) = captures.get(1) else {
            continue;
        };
        let start = base + identifier.start();
        if is_code && !is_quoted(view.text, start) {
            continue;
        }
        if view.is_comment_line(start) {
            continue;
        }
        let subject = canonical_model_id(identifier.as_str());
        let draft = Draft::new(FindingKind::ModelId, subject, family.category)
            .attr("provider", &family.provider)
            .attr("model_id", identifier.as_str())
            .gpai(family.gpai)
            .at_line(view.line_of(start))
            .evidence(view.evidence_at(start));
        drafts.push(draft);
    }
}

/// Tells whether the identifier at `start` sits inside a string literal: a quote opens it,
/// possibly after a provider prefix such as `anthropic.` or `models/`.
fn is_quoted(text: &str, start: usize) -> bool {
    let line_start = text[..start].rfind('\n').map_or(0, |index| index + 1);
    let before = &text[line_start..start];
    let token_start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || "./:_-".contains(c)))
        .map(|index| &before[index..]);
    token_start.is_some_and(|token| token.starts_with(['"', '\'', '`']))
}

/// Lower-cases an identifier and removes date and version stamps from its end. Claude
/// versions are written with `-` (`claude-haiku-4-5`), so a `.` there becomes `-`.
pub(crate) fn canonical_model_id(identifier: &str) -> String {
    static STAMP: OnceLock<Regex> = OnceLock::new();
    let stamp = STAMP.get_or_init(|| {
        Regex::new(r"(?:-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-latest|-\d{3}|-v\d+(?::\d+)?|:latest|:\d+(?:\.\d+)?b)$")
            .expect("stamp pattern is valid")
    });
    let mut canonical = identifier.to_ascii_lowercase();
    while let Some(found) = stamp.find(&canonical) {
        if found.start() == 0 {
            break;
        }
        canonical.truncate(found.start());
    }
    if canonical.starts_with("claude-") {
        canonical = canonical.replace('.', "-");
    }
    canonical
}

/// Calls that take a Hugging Face repository id as a string argument.
fn hf_call_regex() -> &'static Regex {
    static CALLS: OnceLock<Regex> = OnceLock::new();
    CALLS.get_or_init(|| {
        Regex::new(concat!(
            r#"(?:from_pretrained|SentenceTransformer|hf_hub_download|snapshot_download)\(\s*"#,
            r#"(?:(?:repo_id|pretrained_model_name_or_path|model_name_or_path)\s*=\s*)?["']([^"'\s]+)["']"#,
            r#"|\bpipeline\([^)]*?\bmodel\s*=\s*["']([^"'\s]+)["']"#,
            r#"|\bpipeline\(\s*["'][\w-]+["']\s*,\s*["']([^"'\s]+)["']"#,
        ))
        .expect("hub call pattern is valid")
    })
}

/// Configuration entries such as `model_name_or_path: org/name` or `"base_model": "org/name"`.
/// Only `org/name` values count, since a bare name in configuration is as often a local one.
fn hf_config_regex() -> &'static Regex {
    static ENTRIES: OnceLock<Regex> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        Regex::new(concat!(
            r#"(?m)^[ \t-]*["']?(?:model_name_or_path|base_model|model_id|model_name|repo_id|pretrained_model_name_or_path)["']?"#,
            r#"[ \t]*[:=][ \t]*["']?([A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*)["']?[ \t]*,?[ \t]*(?:#.*)?\r?$"#,
        ))
        .expect("hub config pattern is valid")
    })
}

/// Reports repository ids passed to `from_pretrained`, `pipeline(model=...)` and similar calls
/// anywhere in a code text; a call may span lines.
pub(super) fn scan_hf_calls(catalogue: &Catalogue, view: &TextView<'_>, drafts: &mut Vec<Draft>) {
    scan_hf_region(catalogue, view, 0..view.text.len(), hf_call_regex(), drafts);
}

/// Reports repository ids set under a model key on one configuration line.
pub(super) fn scan_hf_config(
    catalogue: &Catalogue,
    view: &TextView<'_>,
    line: Range<usize>,
    drafts: &mut Vec<Draft>,
) {
    scan_hf_region(catalogue, view, line, hf_config_regex(), drafts);
}

fn scan_hf_region(
    catalogue: &Catalogue,
    view: &TextView<'_>,
    region: Range<usize>,
    pattern: &Regex,
    drafts: &mut Vec<Draft>,
) {
    let base = region.start;
    for captures in pattern.captures_iter(&view.text[region]) {
        let Some(repo) = captures.iter().skip(1).flatten().next() else {
            continue;
        };
        let start = base + repo.start();
        if !is_repo_id(repo.as_str()) || view.is_comment_line(start) {
            continue;
        }
        drafts.push(
            hf_repo_draft(catalogue, repo.as_str())
                .at_line(view.line_of(start))
                .evidence(view.evidence_at(start)),
        );
    }
}

fn hf_repo_draft(catalogue: &Catalogue, repo: &str) -> Draft {
    let family = catalogue
        .models
        .iter()
        .find(|family| family.whole.is_match(repo));
    let org_provider = repo
        .split_once('/')
        .and_then(|(org, _)| catalogue.hf_orgs.get(org));
    let provider = org_provider
        .cloned()
        .or_else(|| family.map(|family| family.provider.clone()))
        .unwrap_or_else(|| "huggingface".to_owned());
    let confidence = if repo.contains('/') { 0.8 } else { 0.6 };
    Draft::new(FindingKind::ModelId, repo, Category::MlLibrary)
        .attr("provider", provider)
        .attr("model_source", "huggingface")
        .gpai(family.is_some_and(|family| family.gpai))
        .confidence(confidence)
}

/// Tells whether a string looks like `org/name` or a bare hub name, not a local path or URL.
fn is_repo_id(candidate: &str) -> bool {
    let mut parts = candidate.split('/');
    let valid_part = |part: &str| {
        part.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            && !part.contains("..")
    };
    let first = parts.next().is_some_and(valid_part);
    let second = parts.next().is_none_or(valid_part);
    let no_third = parts.next().is_none();
    let has_file_extension = [
        ".json",
        ".bin",
        ".pt",
        ".pth",
        ".safetensors",
        ".onnx",
        ".gguf",
    ]
    .iter()
    .any(|extension| candidate.ends_with(extension));
    first && second && no_third && !has_file_extension
}

#[cfg(test)]
mod tests {
    use super::{canonical_model_id, is_repo_id};

    #[test]
    fn canonical_id_drops_date_and_version_stamps() {
        assert_eq!(canonical_model_id("gpt-4o-2024-08-06"), "gpt-4o");
        assert_eq!(
            canonical_model_id("claude-3-5-sonnet-20241022"),
            "claude-3-5-sonnet"
        );
        assert_eq!(
            canonical_model_id("claude-3-5-sonnet-latest"),
            "claude-3-5-sonnet"
        );
        assert_eq!(
            canonical_model_id("claude-3-5-sonnet-20240620-v1:0"),
            "claude-3-5-sonnet"
        );
        assert_eq!(canonical_model_id("gemini-1.5-pro-002"), "gemini-1.5-pro");
        assert_eq!(canonical_model_id("Llama3.1:8b"), "llama3.1");
        assert_eq!(canonical_model_id("gpt-4o-mini"), "gpt-4o-mini");
        assert_eq!(canonical_model_id("claude-haiku-4.5"), "claude-haiku-4-5");
        assert_eq!(canonical_model_id("gpt-5.4-nano"), "gpt-5.4-nano");
    }

    #[test]
    fn repo_id_rejects_paths_and_urls() {
        assert!(is_repo_id("meta-llama/Llama-3.1-8B-Instruct"));
        assert!(is_repo_id("bert-base-uncased"));
        assert!(!is_repo_id("./checkpoints/best"));
        assert!(!is_repo_id("/models/llama"));
        assert!(!is_repo_id("https://example.org/model"));
        assert!(!is_repo_id("out/config.json"));
    }
}
