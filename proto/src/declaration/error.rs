//! Errors for `secruna.yaml`, rewritten from the YAML parser's messages so that each one
//! names the line, the field and the fix.

/// Error for a `secruna.yaml` text or a declaration attribute map that is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeclarationError {
    /// The YAML text is malformed or a field has an invalid value.
    #[error("secruna.yaml line {line}: {message}")]
    Invalid {
        /// 1-based line of the offending value.
        line: usize,
        /// Dotted path of the field, such as `role` or `logging.retention_days`, when known.
        field: Option<String>,
        /// Description of the problem and of the fix.
        message: String,
    },
    /// The YAML parser reported an error without a position.
    #[error("secruna.yaml: {message}")]
    Unlocated {
        /// Description of the problem and of the fix.
        message: String,
    },
    /// A finding attribute that should hold a declaration field cannot be read back.
    #[error("declaration attribute `{key}` is invalid: {message}")]
    Attribute {
        /// The attribute key, such as `role` or `logging.enabled`.
        key: String,
        /// Description of the problem.
        message: String,
    },
}

impl DeclarationError {
    /// Returns the 1-based line in `secruna.yaml`, when the error has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            DeclarationError::Invalid { line, .. } => Some(*line),
            DeclarationError::Unlocated { .. } | DeclarationError::Attribute { .. } => None,
        }
    }

    /// Returns the field or attribute key the error is about, when known.
    pub fn field(&self) -> Option<&str> {
        match self {
            DeclarationError::Invalid { field, .. } => field.as_deref(),
            DeclarationError::Unlocated { .. } => None,
            DeclarationError::Attribute { key, .. } => Some(key),
        }
    }
}

/// Converts a parser error into a [`DeclarationError`] with a message that names the field.
///
/// yaml_serde formats a deserialisation error as `PATH: MESSAGE at line L column C`, where
/// MESSAGE is one of serde's standard texts (`unknown field`, `unknown variant`,
/// `invalid type`, ...). The path and message are recovered from that text, because the
/// error type exposes only the location.
pub(crate) fn from_yaml_error(error: &yaml_serde::Error, source: &str) -> DeclarationError {
    let text = error.to_string();
    let text = strip_position(&text);
    let (path, message) = split_path(text);
    let duplicate = message.starts_with("duplicate field ");
    let (field, message) = rewrite_message(path, message);
    let Some(location) = error.location() else {
        return DeclarationError::Unlocated { message };
    };
    // serde reports a duplicate key at the start of its mapping; point at the repeat instead.
    let line = match (duplicate, path, &field) {
        (true, None, Some(name)) => top_level_key_line(source, name, 1).unwrap_or(location.line()),
        _ => location.line(),
    };
    DeclarationError::Invalid {
        line,
        field,
        message,
    }
}

/// Finds the 1-based line of the unindented `name:` key, skipping the first `skip` of them.
pub(crate) fn top_level_key_line(source: &str, name: &str, skip: usize) -> Option<usize> {
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .nth(skip)
        .map(|(index, _)| index + 1)
}

/// Removes the trailing ` at line L column C` that yaml_serde appends.
fn strip_position(text: &str) -> &str {
    match text.rfind(" at line ") {
        Some(index) if text[index..].contains(" column ") => &text[..index],
        _ => text,
    }
}

/// Splits `PATH: MESSAGE`; a path never contains whitespace, while every message does.
fn split_path(text: &str) -> (Option<&str>, &str) {
    match text.split_once(": ") {
        Some((path, rest)) if !path.is_empty() && !path.contains(char::is_whitespace) => {
            (Some(path), rest)
        }
        _ => (None, text),
    }
}

/// Rewrites one of serde's standard messages as "`FIELD` is VALUE: expected ...".
fn rewrite_message(path: Option<&str>, message: &str) -> (Option<String>, String) {
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (name, expected) = split_quoted(rest);
        let field = join_path(path, &name);
        let expected = expected.trim_start_matches(", expected ");
        let message = match expected {
            "there are no fields" => format!("unknown field `{field}`: remove it"),
            _ => format!(
                "unknown field `{field}`: remove it or use one of {}",
                unquote(expected.trim_start_matches("one of "))
            ),
        };
        return (Some(field), message);
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let (value, expected) = split_quoted(rest);
        let expected = unquote(expected.trim_start_matches(", expected "));
        return with_field(path, |field| {
            format!("`{field}` is `{value}`: expected {expected}")
        });
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let (found, expected) = rest
                .split_once(", expected ")
                .unwrap_or((rest, "another value"));
            return with_field(path, |field| {
                format!(
                    "`{field}` is {found}: expected {}",
                    plain_expected(expected)
                )
            });
        }
    }
    if let Some(rest) = message.strip_prefix("duplicate field ") {
        let (name, _) = split_quoted(rest);
        let field = join_path(path, &name);
        return (
            Some(field.clone()),
            format!("`{field}` appears twice: keep one of them"),
        );
    }
    let field = path.map(str::to_owned);
    let message = match &field {
        Some(field) => format!("`{field}`: {message}"),
        None => message.to_owned(),
    };
    (field, message)
}

/// Builds the message for a value error; an error at the document root means the
/// file is not a mapping.
fn with_field(path: Option<&str>, message: impl Fn(&str) -> String) -> (Option<String>, String) {
    match path {
        Some(field) => (Some(field.to_owned()), message(field)),
        None => (
            None,
            "the document must be a mapping of fields such as `name:` and `purpose:`".to_owned(),
        ),
    }
}

/// Splits "`name`REST" into the quoted name and the rest.
fn split_quoted(text: &str) -> (String, &str) {
    let inner = text.strip_prefix('`').unwrap_or(text);
    match inner.find('`') {
        Some(end) => (inner[..end].to_owned(), &inner[end + 1..]),
        None => (inner.to_owned(), ""),
    }
}

fn join_path(path: Option<&str>, name: &str) -> String {
    match path {
        Some(path) => format!("{path}.{name}"),
        None => name.to_owned(),
    }
}

fn unquote(text: &str) -> String {
    text.replace('`', "")
}

/// Replaces serde's type names in an "expected" text with the words of a YAML file.
fn plain_expected(expected: &str) -> String {
    match expected {
        "a sequence" => "a list such as [a, b]".to_owned(),
        "u32" => "a whole number from 0 to 4294967295".to_owned(),
        "f64" => "a number".to_owned(),
        "struct Logging" => "a mapping with `enabled` and `retention_days`".to_owned(),
        "struct Declaration" => "a mapping of fields".to_owned(),
        other => unquote(other),
    }
}
