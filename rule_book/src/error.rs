//! Errors returned by the loader and the evaluator.

use std::path::PathBuf;

/// A rule book that could not be loaded. Every variant about a file names the file (relative to
/// the rule-book root, `/` separators), the 1-based line and the field, so the author can fix it.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or folder could not be read.
    #[error("failed to read {}: {source}", path.display())]
    Io {
        /// Path that failed.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },

    /// The file is not well-formed YAML.
    #[error("{file}:{line}: invalid YAML: {message}")]
    Syntax {
        /// File relative to the rule-book root.
        file: String,
        /// 1-based line.
        line: usize,
        /// Parser message.
        message: String,
    },

    /// A mapping has the same key twice.
    #[error("{file}:{line}: duplicate key `{field}`; keep one entry and delete the other")]
    DuplicateKey {
        /// File relative to the rule-book root.
        file: String,
        /// 1-based line of the second occurrence.
        line: usize,
        /// Path of the duplicated key, for example `checks.0.id`.
        field: String,
    },

    /// The file uses more YAML aliases than the loader accepts.
    #[error(
        "{file}:{line}: field `{field}`: YAML aliases expand to more than {limit} nodes; write \
         the values out instead of using anchors and aliases"
    )]
    AliasLimit {
        /// File relative to the rule-book root.
        file: String,
        /// 1-based line of the alias that crossed the limit.
        line: usize,
        /// Path of that alias, for example `a3.7`.
        field: String,
        /// Maximum number of nodes that aliases may expand to in one file.
        limit: usize,
    },

    /// A field is missing, has the wrong type or value, or breaks a rule-book invariant.
    #[error("{file}:{line}: field `{field}`: {message}")]
    Invalid {
        /// File relative to the rule-book root.
        file: String,
        /// 1-based line of the field, or of its parent mapping when the field is missing.
        line: usize,
        /// Path of the field, for example `checks.1.require.fact`.
        field: String,
        /// The problem and its fix.
        message: String,
    },

    /// The folder contains no framework.
    #[error("no framework folder with a framework.yaml found under {}", dir.display())]
    Empty {
        /// Folder that was searched.
        dir: PathBuf,
    },
}

impl LoadError {
    /// Returns the file the error is about, if it is about one.
    pub fn file(&self) -> Option<&str> {
        match self {
            LoadError::Syntax { file, .. }
            | LoadError::DuplicateKey { file, .. }
            | LoadError::AliasLimit { file, .. }
            | LoadError::Invalid { file, .. } => Some(file),
            LoadError::Io { .. } | LoadError::Empty { .. } => None,
        }
    }

    /// Returns the 1-based line the error is about, if it is about one.
    pub fn line(&self) -> Option<usize> {
        match self {
            LoadError::Syntax { line, .. }
            | LoadError::DuplicateKey { line, .. }
            | LoadError::AliasLimit { line, .. }
            | LoadError::Invalid { line, .. } => Some(*line),
            LoadError::Io { .. } | LoadError::Empty { .. } => None,
        }
    }

    /// Returns the field path the error is about, if it is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            LoadError::DuplicateKey { field, .. }
            | LoadError::AliasLimit { field, .. }
            | LoadError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// A rule book that loaded but could not be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The requested framework is not in the rule book.
    #[error("unknown framework `{slug}`; known frameworks: {known}")]
    UnknownFramework {
        /// Slug that was requested.
        slug: String,
        /// Comma-separated slugs that exist.
        known: String,
    },
}
