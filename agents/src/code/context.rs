//! Per-file state shared by the detectors: the text with a lazy line index, and the findings
//! drafted for the file before they are deduplicated and sent.

use std::borrow::Cow;
use std::cell::{Cell, OnceCell};
use std::collections::BTreeMap;

use proto::FindingKind;

use crate::catalogue::{Category, Detector};

/// Maximum length of an evidence excerpt, in characters.
const MAX_EVIDENCE_CHARS: usize = 200;

/// A text with a line index built on first use.
pub(crate) struct TextView<'t> {
    pub(crate) text: &'t str,
    line_starts: OnceCell<Vec<usize>>,
    /// Bounds `(start, end)` of the line looked up last. Keyword hits arrive in text order,
    /// so this keeps a long line (minified code) from being searched once per hit.
    last_line: Cell<(usize, usize)>,
}

impl<'t> TextView<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        TextView {
            text,
            line_starts: OnceCell::new(),
            last_line: Cell::new((usize::MAX, usize::MAX)),
        }
    }

    /// Returns the start and end offsets of the line that contains `offset`, the end being
    /// the offset of its line break or the text length.
    fn line_bounds(&self, offset: usize) -> (usize, usize) {
        let (start, end) = self.last_line.get();
        if start <= offset && offset <= end && end != usize::MAX {
            return (start, end);
        }
        let bytes = self.text.as_bytes();
        let start = memchr::memrchr(b'\n', &bytes[..offset]).map_or(0, |newline| newline + 1);
        let end =
            memchr::memchr(b'\n', &bytes[offset..]).map_or(bytes.len(), |newline| offset + newline);
        self.last_line.set((start, end));
        (start, end)
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', self.text.as_bytes()).map(|offset| offset + 1))
                .collect()
        })
    }

    /// Returns the offset where the line that contains `offset` starts.
    pub(crate) fn line_start(&self, offset: usize) -> usize {
        self.line_bounds(offset).0
    }

    /// Returns the offset of the line break that ends the line that contains `offset`, or the
    /// text length for the last line.
    pub(crate) fn line_end(&self, offset: usize) -> usize {
        self.line_bounds(offset).1
    }

    /// Returns the 1-based line of a byte offset.
    pub(crate) fn line_of(&self, offset: usize) -> u32 {
        let starts = self.line_starts();
        let index = starts.partition_point(|start| *start <= offset);
        u32::try_from(index).unwrap_or(u32::MAX)
    }

    /// Returns the full line that contains a byte offset, without its line break.
    pub(crate) fn line_text(&self, offset: usize) -> &'t str {
        let (start, end) = self.line_bounds(offset);
        self.text[start..end].trim_end_matches('\r')
    }

    /// Tells whether the line holding `offset` is a whole-line comment (`#`, `//`, `/*`, `*`).
    pub(crate) fn is_comment_line(&self, offset: usize) -> bool {
        let line = self.line_text(offset).trim_start();
        line.starts_with('#')
            || line.starts_with("//")
            || line.starts_with("/*")
            || line.starts_with("* ")
    }

    /// Returns the trimmed, shortened line at `offset` as evidence.
    pub(crate) fn evidence_at(&self, offset: usize) -> String {
        shorten(self.line_text(offset).trim())
    }
}

/// Cuts a text to [`MAX_EVIDENCE_CHARS`] characters.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_EVIDENCE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A finding before the path, scope, project root and id are added.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub(crate) kind: FindingKind,
    pub(crate) subject: String,
    pub(crate) line: Option<u32>,
    pub(crate) confidence: f32,
    pub(crate) attributes: BTreeMap<String, String>,
    pub(crate) evidence: Option<String>,
}

impl Draft {
    /// Starts a draft with the kind's default confidence and a category.
    pub(crate) fn new(kind: FindingKind, subject: impl Into<String>, category: Category) -> Self {
        let mut attributes = BTreeMap::new();
        attributes.insert("category".to_owned(), category.as_str().to_owned());
        Draft {
            kind,
            subject: subject.into(),
            line: None,
            confidence: default_confidence(kind),
            attributes,
            evidence: None,
        }
    }

    /// Starts a draft for a catalogue detector, with its category, provider and gpai flag.
    pub(crate) fn for_detector(kind: FindingKind, detector: &Detector) -> Self {
        let draft = Draft::new(kind, detector.subject.clone(), detector.category);
        let draft = match &detector.provider {
            Some(provider) => draft.attr("provider", provider),
            None => draft,
        };
        draft.gpai(detector.gpai)
    }

    /// Sets the 1-based line.
    pub(crate) fn at_line(mut self, line: u32) -> Self {
        self.line = Some(line);
        self
    }

    /// Sets an attribute.
    pub(crate) fn attr(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attributes.insert(name.to_owned(), value.into());
        self
    }

    /// Sets `gpai = "true"` when the flag is set.
    pub(crate) fn gpai(self, gpai: bool) -> Self {
        if gpai {
            self.attr("gpai", "true")
        } else {
            self
        }
    }

    /// Sets the evidence excerpt.
    pub(crate) fn evidence(mut self, evidence: impl Into<String>) -> Self {
        self.evidence = Some(evidence.into());
        self
    }

    /// Returns the part of the finding's id that distinguishes it from other findings of its
    /// kind in the same file. That is the subject, followed for a secret by `#` and the key's
    /// SHA-256, so that two different keys of one format are two findings.
    pub(crate) fn identity(&self) -> Cow<'_, str> {
        match (self.kind, self.attributes.get("sha256")) {
            (FindingKind::Secret, Some(sha256)) => Cow::Owned(format!("{}#{sha256}", self.subject)),
            _ => Cow::Borrowed(&self.subject),
        }
    }

    /// Overrides the confidence.
    pub(crate) fn confidence(mut self, confidence: f32) -> Self {
        self.confidence = confidence;
        self
    }
}

fn default_confidence(kind: FindingKind) -> f32 {
    match kind {
        FindingKind::Declaration | FindingKind::CloudResource | FindingKind::InventoryEntry => 1.0,
        FindingKind::Client | FindingKind::Artefact | FindingKind::McpServer => 0.95,
        FindingKind::Dependency
        | FindingKind::Import
        | FindingKind::ModelCard
        | FindingKind::ServingContainer
        | FindingKind::IacResource
        | FindingKind::CiAction => 0.9,
        FindingKind::ApiEndpoint | FindingKind::Secret => 0.8,
        FindingKind::ModelId => 0.7,
    }
}

/// Keeps one draft per (kind, identity), the one with the lowest line.
pub(crate) fn deduplicate(drafts: &mut Vec<Draft>) {
    drafts.sort_by(|left, right| {
        (left.kind, left.identity(), left.line.unwrap_or(u32::MAX)).cmp(&(
            right.kind,
            right.identity(),
            right.line.unwrap_or(u32::MAX),
        ))
    });
    drafts
        .dedup_by(|later, first| later.kind == first.kind && later.identity() == first.identity());
}
