//! Position-aware pass over a YAML file, run before serde parses it.
//!
//! serde cannot report where a value came from, and a map type takes the last of two duplicate
//! keys without a word. This pass walks the parser events once and
//! - rejects duplicate keys in every mapping, at any depth;
//! - caps how many nodes aliases may expand to, so a "billion laughs" document fails fast;
//! - records the line of every node by JSON pointer, so schema and validation errors can name
//!   the line of the field they are about.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, Span};

use crate::LoadError;

/// Maximum number of nodes that all aliases in one file may expand to together. Rule files have
/// no need for aliases beyond a few shared lists, and the cap keeps expansion linear in the input.
pub const ALIAS_EXPANSION_LIMIT: usize = 10_000;

/// Line of every node in one YAML file, by JSON pointer (`/checks/0/require`).
#[derive(Debug, Default)]
pub(crate) struct Positions {
    lines: HashMap<String, usize>,
}

impl Positions {
    /// Returns the line of the node at `pointer`, or of its nearest recorded ancestor.
    pub(crate) fn line_of(&self, pointer: &str) -> usize {
        let mut current = pointer;
        loop {
            if let Some(line) = self.lines.get(current) {
                return *line;
            }
            match current.rfind('/') {
                Some(cut) => current = &current[..cut],
                None => return 1,
            }
        }
    }
}

/// Turns a JSON pointer into the dotted field path used in messages (`checks.0.require`).
pub(crate) fn dotted(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

/// Appends one key or index to a JSON pointer, escaping it as RFC 6901 requires.
pub(crate) fn child_pointer(parent: &str, segment: &str) -> String {
    format!("{parent}/{}", segment.replace('~', "~0").replace('/', "~1"))
}

/// One open collection while walking the events.
enum Frame {
    Mapping {
        pointer: String,
        keys: HashSet<String>,
        pending_key: Option<String>,
        anchor: usize,
        size: usize,
    },
    Sequence {
        pointer: String,
        next_index: usize,
        anchor: usize,
        size: usize,
    },
}

/// State of one pass over one file.
struct Walk<'a> {
    file: &'a str,
    frames: Vec<Frame>,
    anchor_sizes: HashMap<usize, usize>,
    expanded: usize,
    documents: usize,
    positions: Positions,
}

/// Checks one YAML file for syntax errors, duplicate keys and alias bombs, and returns the line of
/// every node.
pub(crate) fn scan(file: &str, text: &str) -> Result<Positions, LoadError> {
    let mut walk = Walk {
        file,
        frames: Vec::new(),
        anchor_sizes: HashMap::new(),
        expanded: 0,
        documents: 0,
        positions: Positions::default(),
    };
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|error| LoadError::Syntax {
            file: file.to_owned(),
            line: error.marker().line(),
            message: error.info().to_owned(),
        })?;
        walk.event(event, span)?;
    }
    if walk.documents == 0 {
        return Err(walk.invalid(
            1,
            "",
            "the file is empty; write a rule mapping or a list of rules",
        ));
    }
    Ok(walk.positions)
}

impl Walk<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), LoadError> {
        let line = span.start.line();
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(self.invalid(
                        line,
                        "",
                        "a rule file holds one YAML document; remove the extra `---`",
                    ));
                }
            }
            Event::Scalar(value, _, anchor, _) => {
                if self.is_key_position() {
                    return self.key(value.into_owned(), line);
                }
                self.node(line)?;
                self.finish_node(anchor, 1);
            }
            Event::Alias(anchor) => {
                if self.is_key_position() {
                    return Err(self.invalid(
                        line,
                        &self.parent_pointer(),
                        "mapping keys must be plain text, not aliases",
                    ));
                }
                let pointer = self.node(line)?;
                let size = self.anchor_sizes.get(&anchor).copied().unwrap_or(1);
                self.expanded = self.expanded.saturating_add(size);
                if self.expanded > ALIAS_EXPANSION_LIMIT {
                    return Err(LoadError::AliasLimit {
                        file: self.file.to_owned(),
                        line,
                        field: dotted(&pointer),
                        limit: ALIAS_EXPANSION_LIMIT,
                    });
                }
                self.finish_node(0, size);
            }
            Event::MappingStart(anchor, _) => {
                let pointer = self.open(line)?;
                self.frames.push(Frame::Mapping {
                    pointer,
                    keys: HashSet::new(),
                    pending_key: None,
                    anchor,
                    size: 1,
                });
            }
            Event::SequenceStart(anchor, _) => {
                let pointer = self.open(line)?;
                self.frames.push(Frame::Sequence {
                    pointer,
                    next_index: 0,
                    anchor,
                    size: 1,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let (anchor, size) = match self.frames.pop() {
                    Some(
                        Frame::Mapping { anchor, size, .. } | Frame::Sequence { anchor, size, .. },
                    ) => (anchor, size),
                    None => (0, 1),
                };
                self.finish_node(anchor, size);
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    /// Returns whether the next node is a mapping key.
    fn is_key_position(&self) -> bool {
        matches!(
            self.frames.last(),
            Some(Frame::Mapping {
                pending_key: None,
                ..
            })
        )
    }

    fn parent_pointer(&self) -> String {
        match self.frames.last() {
            Some(Frame::Mapping { pointer, .. } | Frame::Sequence { pointer, .. }) => {
                pointer.clone()
            }
            None => String::new(),
        }
    }

    /// Records a mapping key, rejecting a repeat.
    fn key(&mut self, key: String, line: usize) -> Result<(), LoadError> {
        let Some(Frame::Mapping {
            pointer,
            keys,
            pending_key,
            ..
        }) = self.frames.last_mut()
        else {
            return Ok(());
        };
        let child = child_pointer(pointer, &key);
        if !keys.insert(key.clone()) {
            return Err(LoadError::DuplicateKey {
                file: self.file.to_owned(),
                line,
                field: dotted(&child),
            });
        }
        self.positions.lines.insert(child, line);
        *pending_key = Some(key);
        Ok(())
    }

    /// Places a value node under its parent and returns its pointer.
    fn node(&mut self, line: usize) -> Result<String, LoadError> {
        let pointer = match self.frames.last_mut() {
            None => String::new(),
            Some(Frame::Mapping {
                pointer,
                pending_key,
                ..
            }) => {
                let key = pending_key.take().unwrap_or_default();
                child_pointer(pointer, &key)
            }
            Some(Frame::Sequence {
                pointer,
                next_index,
                ..
            }) => {
                let child = child_pointer(pointer, &next_index.to_string());
                *next_index += 1;
                child
            }
        };
        self.positions.lines.entry(pointer.clone()).or_insert(line);
        Ok(pointer)
    }

    /// Places a collection node, rejecting collections used as mapping keys.
    fn open(&mut self, line: usize) -> Result<String, LoadError> {
        if self.is_key_position() {
            return Err(self.invalid(
                line,
                &self.parent_pointer(),
                "mapping keys must be plain text",
            ));
        }
        self.node(line)
    }

    /// Adds a finished node's expanded size to its parent and remembers it under its anchor.
    fn finish_node(&mut self, anchor: usize, size: usize) {
        if anchor != 0 {
            self.anchor_sizes.insert(anchor, size);
        }
        if let Some(Frame::Mapping { size: total, .. } | Frame::Sequence { size: total, .. }) =
            self.frames.last_mut()
        {
            *total = total.saturating_add(size);
        }
    }

    fn invalid(&self, line: usize, pointer: &str, message: &str) -> LoadError {
        LoadError::Invalid {
            file: self.file.to_owned(),
            line,
            field: dotted(pointer),
            message: message.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_recorded_by_pointer() {
        let text = "id: a/b\nchecks:\n  - id: one\n    require:\n      fact: x\n";
        let positions = scan("f.yaml", text).unwrap();
        assert_eq!(positions.line_of("/id"), 1);
        assert_eq!(positions.line_of("/checks"), 2);
        assert_eq!(positions.line_of("/checks/0"), 3);
        assert_eq!(positions.line_of("/checks/0/require/fact"), 5);
        assert_eq!(positions.line_of("/checks/0/require/missing"), 4);
    }

    #[test]
    fn nested_duplicate_key_is_rejected() {
        let text = "a:\n  b: 1\n  c: 2\n  b: 3\n";
        let error = scan("f.yaml", text).unwrap_err();
        assert_eq!(error.line(), Some(4));
        assert_eq!(error.field(), Some("a.b"));
    }

    #[test]
    fn same_key_in_sibling_mappings_is_allowed() {
        assert!(scan("f.yaml", "- id: 1\n- id: 2\n").is_ok());
    }

    #[test]
    fn small_alias_use_is_allowed() {
        let text = "a: &list [x, y]\nb: *list\n";
        assert!(scan("f.yaml", text).is_ok());
    }

    #[test]
    fn dotted_unescapes_pointer_segments() {
        assert_eq!(dotted("/a~1b/0/c~0d"), "a/b.0.c~d");
        assert_eq!(child_pointer("/x", "a/b"), "/x/a~1b");
    }
}
