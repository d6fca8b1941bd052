//! Import statements per language, looked up in the catalogue's import tables.

use std::ops::Range;
use std::sync::OnceLock;

use proto::FindingKind;
use regex::Regex;

use super::context::{Draft, TextView};
use crate::catalogue::{Catalogue, Language};

/// Import grammar of each language; every capture group that matches contains module names.
fn grammar(language: Language) -> &'static Regex {
    static GRAMMARS: OnceLock<[Regex; 6]> = OnceLock::new();
    let grammars = GRAMMARS.get_or_init(|| {
        Language::ALL.map(|language| {
            let pattern = match language {
                Language::Python => concat!(
                    r"(?m)^[ \t]*(?:from[ \t]+([A-Za-z_][\w.]*)[ \t]+import\b",
                    r"|import[ \t]+([A-Za-z_][\w.]*(?:[ \t]+as[ \t]+\w+)?(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*(?:[ \t]+as[ \t]+\w+)?)*))",
                ),
                Language::Javascript => {
                    r#"(?:\bfrom|\bimport|\brequire[ \t]*\(|\bimport[ \t]*\()[ \t]*["']([^"'\n]+)["']"#
                }
                Language::Go => r#"(?m)^[ \t]*(?:import[ \t]+)?(?:[\w.]+[ \t]+)?"([\w.\-~]+(?:/[\w.\-~]+)+)""#,
                Language::Java => r"(?m)^[ \t]*import[ \t]+(?:static[ \t]+)?([\w.]+)",
                Language::Rust => r"(?m)^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?(?:use[ \t]+(?:::)?|extern[ \t]+crate[ \t]+)(\w+)",
                Language::Csharp => {
                    r"(?m)^[ \t]*(?:global[ \t]+)?using[ \t]+(?:static[ \t]+)?(?:\w+[ \t]*=[ \t]*)?([\w.]+)[ \t]*;"
                }
            };
            Regex::new(pattern).expect("import grammar is valid")
        })
    });
    &grammars[language.index()]
}

/// Reports every import of a catalogue module within `region` of the text.
pub(crate) fn scan(
    catalogue: &Catalogue,
    view: &TextView<'_>,
    region: Range<usize>,
    language: Language,
    drafts: &mut Vec<Draft>,
) {
    let base = region.start;
    for captures in grammar(language).captures_iter(&view.text[region]) {
        for group in captures.iter().skip(1).flatten() {
            let start = base + group.start();
            if language == Language::Go && !inside_go_import(view.text, start) {
                continue;
            }
            if view.is_comment_line(start) {
                continue;
            }
            for module in module_names(language, group.as_str()) {
                let Some(detector) = catalogue.import(language, module) else {
                    continue;
                };
                let draft =
                    Draft::for_detector(FindingKind::Import, &catalogue.detectors[detector])
                        .attr("language", language.as_str())
                        .attr("module", module)
                        .at_line(view.line_of(start))
                        .evidence(view.evidence_at(start));
                drafts.push(draft);
            }
        }
    }
}

/// Splits a Python `import a as b, c` list; other languages capture one module.
fn module_names(language: Language, captured: &str) -> Vec<&str> {
    if language != Language::Python {
        return vec![captured];
    }
    captured
        .split(',')
        .filter_map(|part| part.split_whitespace().next())
        .collect()
}

/// Tells whether a quoted Go path is in an `import` statement or an `import ( ... )` block,
/// rather than any string literal at the start of a line.
fn inside_go_import(text: &str, start: usize) -> bool {
    let line_start = text[..start].rfind('\n').map_or(0, |index| index + 1);
    if text[line_start..start].trim_start().starts_with("import") {
        return true;
    }
    let before = &text[..line_start];
    match (before.rfind("import ("), before.rfind("import(")) {
        (None, None) => false,
        (left, right) => {
            let open = left.max(right).unwrap_or(0);
            !before[open..].contains(')')
        }
    }
}
