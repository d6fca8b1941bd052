//! Bounds checked on `secruna.yaml` text before the YAML parser reads it.
//!
//! The parser's time grows with the square of the nesting depth of flow collections
//! (`[[[…]]]`), so a 120 KB file of brackets would stall a scan for seconds. A declaration
//! is a short, flat file, and these bounds are far above what a real one needs.

use super::DeclarationError;

/// Maximum size of a `secruna.yaml` file, in bytes.
pub(crate) const MAX_DECLARATION_BYTES: usize = 64 * 1024;

/// Maximum nesting depth of flow collections (`[` and `{`) outside quoted strings and comments.
pub(crate) const MAX_FLOW_DEPTH: usize = 64;

/// Rejects a text larger than [`MAX_DECLARATION_BYTES`] or nested deeper than
/// [`MAX_FLOW_DEPTH`], naming the line where the limit is crossed.
pub(crate) fn check(text: &str) -> Result<(), DeclarationError> {
    if text.len() > MAX_DECLARATION_BYTES {
        let line = text.as_bytes()[..=MAX_DECLARATION_BYTES]
            .iter()
            .filter(|byte| **byte == b'\n')
            .count()
            + 1;
        return Err(DeclarationError::Invalid {
            line,
            field: None,
            message: format!(
                "the file is {} bytes, more than the limit of {MAX_DECLARATION_BYTES} bytes: \
                 keep secruna.yaml to the declared facts and move long documents to files \
                 listed under `evidence`",
                text.len()
            ),
        });
    }
    match deepest_flow_line(text) {
        Some(line) => Err(DeclarationError::Invalid {
            line,
            field: None,
            message: format!(
                "lists or mappings are nested more than {MAX_FLOW_DEPTH} levels deep: \
                 remove the extra `[` or `{{` levels"
            ),
        }),
        None => Ok(()),
    }
}

/// Lexical state of the scan in [`deepest_flow_line`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Comment,
}

/// Returns the 1-based line where the flow nesting first exceeds [`MAX_FLOW_DEPTH`], if it does.
///
/// Brackets inside quoted strings and comments do not count. A quote opens a string only
/// where YAML starts a new token (see [`opens_quote`]), so the apostrophe in `it's` is plain
/// text. Every state ends at a line break, so a quote that the parser reads as plain text
/// hides brackets on one line at most. Misreading in the other direction only counts too
/// many brackets, which can reject a file but never lets a deep one through.
fn deepest_flow_line(text: &str) -> Option<usize> {
    let mut state = State::Plain;
    let mut depth = 0usize;
    let mut line = 1usize;
    let mut cursor = LineCursor::default();
    let mut bytes = text.bytes().peekable();
    while let Some(byte) = bytes.next() {
        if byte == b'\n' {
            state = State::Plain;
            line += 1;
            cursor = LineCursor::default();
            continue;
        }
        match (state, byte) {
            (State::Comment, _) => {}
            (State::DoubleQuoted, b'\\') => {
                bytes.next_if(|next| *next != b'\n');
            }
            (State::DoubleQuoted, b'"') => state = State::Plain,
            (State::SingleQuoted, b'\'') => {
                if bytes.next_if_eq(&b'\'').is_none() {
                    state = State::Plain;
                }
            }
            (State::SingleQuoted | State::DoubleQuoted, _) => {}
            (State::Plain, b'"') if cursor.opens_quote() => state = State::DoubleQuoted,
            (State::Plain, b'\'') if cursor.opens_quote() => state = State::SingleQuoted,
            (State::Plain, b'#')
                if cursor
                    .previous
                    .is_none_or(|byte| byte.is_ascii_whitespace()) =>
            {
                state = State::Comment;
            }
            (State::Plain, b'[' | b'{') => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Some(line);
                }
            }
            (State::Plain, b']' | b'}') => depth = depth.saturating_sub(1),
            (State::Plain, _) => {}
        }
        cursor.advance(byte);
    }
    None
}

/// Position of the scan within its line, with the bytes before the current one.
#[derive(Default)]
struct LineCursor {
    /// The byte just before, or `None` at the start of the line.
    previous: Option<u8>,
    /// The byte before `previous`.
    before_previous: Option<u8>,
    /// The last byte that is not a blank, or `None` when there is none yet on this line.
    last_visible: Option<u8>,
    /// Whether the visible bytes so far are only block indicators `-` and `?`.
    indicators_only: bool,
}

impl LineCursor {
    fn advance(&mut self, byte: u8) {
        self.before_previous = self.previous;
        self.previous = Some(byte);
        if byte == b' ' || byte == b'\t' {
            return;
        }
        let first = self.last_visible.is_none();
        self.indicators_only = matches!(byte, b'-' | b'?') && (first || self.indicators_only);
        self.last_visible = Some(byte);
    }

    /// Tells whether a quote here starts a quoted string, as YAML reads it.
    ///
    /// That is the case at the start of a line, right after `[`, `{` or `,`, and right after
    /// the `:` of a quoted key (`"a":"b"`). It is also the case after blanks that follow one
    /// of those or a block indicator (`- `, `? `, `key: `).
    fn opens_quote(&self) -> bool {
        match self.previous {
            None => true,
            Some(b'[' | b'{' | b',') => true,
            Some(b':') => matches!(self.before_previous, Some(b'"' | b'\'')),
            Some(b' ' | b'\t') => match self.last_visible {
                None => true,
                Some(b'[' | b'{' | b',' | b':') => true,
                Some(_) => self.indicators_only,
            },
            Some(_) => false,
        }
    }
}
