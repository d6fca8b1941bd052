//! Keyword-prefiltered detection in source and configuration text: clients, endpoint hosts,
//! serving images, model identifiers, Hugging Face repository ids, IaC types and secrets.

mod models;

use proto::FindingKind;

use super::context::{Draft, TextView};
use super::{imports, secrets, structured};
use crate::catalogue::{Catalogue, Hint, Language, TextScanner};

/// What the prefilter pass asks the regular-expression pass to run.
#[derive(Default)]
struct Pending {
    imports: bool,
    hf_repos: bool,
    iac: bool,
    /// Bit `i` set: run model family `i`.
    models: u64,
    /// Bit `i` set: run secret format `i`.
    secrets: u64,
}

/// Runs one scanner over a text and appends drafts.
pub(crate) fn scan(
    catalogue: &Catalogue,
    view: &TextView<'_>,
    scanner: &TextScanner,
    language: Option<Language>,
    drafts: &mut Vec<Draft>,
) {
    let mut pending = Pending::default();
    for hit in scanner.automaton.find_overlapping_iter(view.text) {
        let pattern = &scanner.patterns[hit.pattern().as_usize()];
        match scanner.hints[hit.pattern().as_usize()] {
            Hint::Import => pending.imports = true,
            Hint::HfRepo => pending.hf_repos = true,
            Hint::Iac => pending.iac = true,
            Hint::Model(index) => pending.models |= bit(index),
            Hint::Secret(index) => pending.secrets |= bit(index),
            Hint::Client(detector) => client_hit(
                catalogue,
                view,
                hit.start(),
                pattern,
                detector,
                language,
                drafts,
            ),
            Hint::Host(detector) => {
                host_hit(catalogue, view, hit.start(), pattern, detector, drafts)
            }
            Hint::Image(detector) => {
                image_hit(catalogue, view, hit.start(), pattern, detector, drafts)
            }
        }
    }

    if let (true, Some(language)) = (pending.imports, language) {
        imports::scan(catalogue, view, language, drafts);
    }
    if pending.hf_repos {
        models::scan_hf_repos(catalogue, view, language.is_some(), drafts);
    }
    for (index, family) in catalogue.models.iter().enumerate() {
        if pending.models & bit(index) != 0 {
            models::scan_family(family, view, language.is_some(), drafts);
        }
    }
    if pending.iac {
        structured::cloudformation(catalogue, view, drafts);
    }
    if pending.secrets != 0 {
        secrets::scan(catalogue, view, pending.secrets, drafts);
    }
}

/// Sets bit `index`; the catalogue compiler keeps families and formats under 64.
pub(crate) fn bit(index: usize) -> u64 {
    1u64.checked_shl(u32::try_from(index).unwrap_or(u32::MAX))
        .unwrap_or(0)
}

fn exact_at<'t>(view: &TextView<'t>, start: usize, pattern: &str) -> Option<&'t str> {
    view.text
        .get(start..start + pattern.len())
        .filter(|found| *found == pattern)
}

fn is_identifier_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

fn byte_before(text: &str, start: usize) -> Option<u8> {
    start.checked_sub(1).map(|index| text.as_bytes()[index])
}

fn client_hit(
    catalogue: &Catalogue,
    view: &TextView<'_>,
    start: usize,
    pattern: &str,
    detector: usize,
    language: Option<Language>,
    drafts: &mut Vec<Draft>,
) {
    if exact_at(view, start, pattern).is_none() {
        return;
    }
    let starts_with_identifier = pattern
        .as_bytes()
        .first()
        .copied()
        .is_some_and(is_identifier_byte);
    if starts_with_identifier && byte_before(view.text, start).is_some_and(is_identifier_byte) {
        return;
    }
    if view.is_comment_line(start) {
        return;
    }
    let mut draft = Draft::for_detector(FindingKind::Client, &catalogue.detectors[detector])
        .at_line(view.line_of(start))
        .evidence(view.evidence_at(start));
    if let Some(language) = language {
        draft = draft.attr("language", language.as_str());
    }
    drafts.push(draft);
}

fn host_hit(
    catalogue: &Catalogue,
    view: &TextView<'_>,
    start: usize,
    pattern: &str,
    detector: usize,
    drafts: &mut Vec<Draft>,
) {
    if exact_at(view, start, pattern).is_none() {
        return;
    }
    let before_ok = byte_before(view.text, start)
        .is_none_or(|byte| byte == b'.' || !(byte.is_ascii_alphanumeric() || byte == b'-'));
    let after = view.text.as_bytes().get(start + pattern.len()).copied();
    let after_ok = pattern.ends_with('.')
        || after.is_none_or(|byte| !(byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'));
    if !before_ok || !after_ok || view.is_comment_line(start) {
        return;
    }
    let detector = &catalogue.detectors[detector];
    let draft = Draft::new(
        FindingKind::ApiEndpoint,
        detector.subject.clone(),
        crate::catalogue::Category::HostedApi,
    )
    .gpai(detector.gpai)
    .attr("host", pattern.trim_end_matches('.'))
    .at_line(view.line_of(start))
    .evidence(view.evidence_at(start));
    let draft = match &detector.provider {
        Some(provider) => draft.attr("provider", provider),
        None => draft,
    };
    drafts.push(draft);
}

fn image_hit(
    catalogue: &Catalogue,
    view: &TextView<'_>,
    start: usize,
    pattern: &str,
    detector: usize,
    drafts: &mut Vec<Draft>,
) {
    if exact_at(view, start, pattern).is_none() {
        return;
    }
    let before_ok = byte_before(view.text, start)
        .is_none_or(|byte| matches!(byte, b'/' | b'"' | b'\'' | b'=' | b' ' | b'\t'));
    let after = view.text.as_bytes().get(start + pattern.len()).copied();
    let after_ok = after.is_none_or(|byte| {
        matches!(
            byte,
            b':' | b'@' | b'"' | b'\'' | b' ' | b'\t' | b'\r' | b'\n'
        )
    });
    if !before_ok || !after_ok || view.is_comment_line(start) {
        return;
    }
    let detector = &catalogue.detectors[detector];
    let draft = Draft::new(
        FindingKind::ServingContainer,
        detector.subject.clone(),
        crate::catalogue::Category::Serving,
    )
    .attr("image", image_reference(view.line_text(start), pattern))
    .at_line(view.line_of(start))
    .evidence(view.evidence_at(start));
    let draft = match &detector.provider {
        Some(provider) => draft.attr("provider", provider),
        None => draft,
    };
    drafts.push(draft.gpai(detector.gpai));
}

/// Returns the whole image reference (registry, repository, tag) around a repository name.
fn image_reference(line: &str, repository: &str) -> String {
    let is_reference_char = |c: char| c.is_ascii_alphanumeric() || "./:@_-".contains(c);
    let Some(position) = line.find(repository) else {
        return repository.to_owned();
    };
    let start = line[..position]
        .rfind(|c: char| !is_reference_char(c))
        .map_or(0, |index| index + 1);
    let end = line[position..]
        .find(|c: char| !is_reference_char(c))
        .map_or(line.len(), |index| position + index);
    line[start..end].to_owned()
}
