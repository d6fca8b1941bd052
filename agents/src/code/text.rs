//! Keyword-prefiltered detection in source and configuration text: clients, endpoint hosts,
//! serving images, model identifiers, Hugging Face repository ids, IaC types and secrets.

mod models;

use proto::FindingKind;

use super::context::{Draft, TextView};
use super::{imports, secrets, structured};
use crate::catalogue::{Catalogue, Hint, Language, TextScanner};

/// Regular-expression work that a keyword hit requests on its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum LineWork {
    /// Run the language's import grammar.
    Import,
    /// Run model family `i`.
    Model(usize),
    /// Run the configuration grammar of Hugging Face repository ids.
    HfConfig,
}

/// Work that the prefilter pass requests from the regular-expression pass. Most work is limited to
/// the lines that hold a keyword, so the cost follows the number of hits, not the file size.
#[derive(Default)]
struct Pending {
    /// `(line start, work)` pairs, deduplicated before they run.
    lines: Vec<(usize, LineWork)>,
    /// `(line start, bit mask of secret formats)`; formats of one line run together so that
    /// overlapping formats can be resolved.
    secret_lines: Vec<(usize, u64)>,
    /// Run the Hugging Face call grammar over the whole file (calls may span lines).
    hf_calls: bool,
    /// Run the CloudFormation and ARM resource grammar over the whole file.
    iac: bool,
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
        let pattern_index = hit.pattern().as_usize();
        let pattern = &scanner.patterns[pattern_index];
        let start = hit.start();
        // A keyword that continues a longer word (`ai` in `await`, `trl` in `control`,
        // `sk-` in `task-`) cannot start an import name, model id or key, so it is dropped
        // before any line work is queued.
        let starts_word = !byte_before(view.text, start).is_some_and(is_identifier_byte);
        match scanner.hints[pattern_index] {
            Hint::Import
                if language.is_some() && starts_word && ends_word(view.text, hit.end()) =>
            {
                pending
                    .lines
                    .push((view.line_start(start), LineWork::Import))
            }
            Hint::Import => {}
            Hint::HfRepo if language.is_some() => pending.hf_calls = true,
            Hint::HfRepo if starts_word => pending
                .lines
                .push((view.line_start(start), LineWork::HfConfig)),
            Hint::HfRepo => {}
            Hint::Iac => pending.iac = true,
            Hint::Model(index) if starts_word => pending
                .lines
                .push((view.line_start(start), LineWork::Model(index))),
            Hint::Model(_) => {}
            Hint::Secret(index) if starts_word && byte_before(view.text, start) != Some(b'-') => {
                pending
                    .secret_lines
                    .push((view.line_start(start), bit(index)))
            }
            Hint::Secret(_) => {}
            Hint::Client(detector) => {
                client_hit(catalogue, view, start, pattern, detector, language, drafts)
            }
            Hint::Host(detector) => host_hit(catalogue, view, start, pattern, detector, drafts),
            Hint::Image(detector) => image_hit(catalogue, view, start, pattern, detector, drafts),
        }
    }
    run_pending(catalogue, view, language, pending, drafts);
}

fn run_pending(
    catalogue: &Catalogue,
    view: &TextView<'_>,
    language: Option<Language>,
    mut pending: Pending,
    drafts: &mut Vec<Draft>,
) {
    pending.lines.sort_unstable();
    pending.lines.dedup();
    for (line_start, work) in pending.lines {
        let line = line_start..view.line_end(line_start);
        match (work, language) {
            (LineWork::Import, Some(language)) => {
                imports::scan(catalogue, view, line, language, drafts)
            }
            (LineWork::Import, None) => {}
            (LineWork::Model(index), _) => models::scan_family(
                &catalogue.models[index],
                view,
                line,
                language.is_some(),
                drafts,
            ),
            (LineWork::HfConfig, _) => models::scan_hf_config(catalogue, view, line, drafts),
        }
    }
    if pending.hf_calls {
        models::scan_hf_calls(catalogue, view, drafts);
    }
    if pending.iac {
        structured::cloudformation(catalogue, view, drafts);
    }
    pending.secret_lines.sort_unstable();
    let mut merged: Vec<(usize, u64)> = Vec::new();
    for (line_start, mask) in pending.secret_lines {
        match merged.last_mut() {
            Some((last_start, last_mask)) if *last_start == line_start => *last_mask |= mask,
            _ => merged.push((line_start, mask)),
        }
    }
    for (line_start, mask) in merged {
        secrets::scan(
            catalogue,
            view,
            line_start..view.line_end(line_start),
            mask,
            drafts,
        );
    }
}

/// Sets bit `index`; the catalogue compiler rejects more than 64 secret formats.
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

/// Tells whether a match ending at `end` is not followed by a letter, digit, `_` or `-`.
fn ends_word(text: &str, end: usize) -> bool {
    text.as_bytes()
        .get(end)
        .is_none_or(|byte| !(is_identifier_byte(*byte) || *byte == b'-'))
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
