//! Rule schema, loader and evaluator; the rule packs live in `rule_book/v1/<framework>/`.
//!
//! - [`RuleBook::load_dir`] and [`RuleBook::embedded`] load and validate every framework folder
//!   (`framework.yaml` plus rule files) and abort on the first error, which names file, line and
//!   field.
//! - [`RuleBook::evaluate`] turns one system's [`Facts`] into one [`Verdict`] per rule.
//! - `schema/rule.schema.json` and `schema/framework.schema.json` describe the file formats.
//!
//! Modules: `positions` (duplicate keys, alias cap, line numbers), `schema` (JSON Schema),
//! `raw` (serde structs), `validate` (raw to model), `loader`, `evaluate`, `vocabulary` (fact
//! names).

mod error;
mod evaluate;
mod facts;
mod loader;
mod model;
mod positions;
mod raw;
mod schema;
mod validate;
mod vocabulary;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use chrono::NaiveDate;

pub use crate::error::{EvalError, LoadError};
pub use crate::evaluate::Verdict;
pub use crate::facts::{CONFIDENCE_FACT, EVIDENCE_FACT, FactValue, Facts};
pub use crate::model::{
    Check, EffectiveOverride, EvidenceItem, FactTest, Framework, Outcome, OutcomeWords, Predicate,
    Rule, Scalar, Severity,
};
pub use crate::positions::ALIAS_EXPANSION_LIMIT;
pub use crate::schema::{FRAMEWORK_SCHEMA, RULE_SCHEMA};
pub use crate::vocabulary::{FactSpec, FactType, built_in as built_in_facts};

use crate::loader::{SourceFile, load};

/// Files of `rule_book/v1`, compiled in by `build.rs`: `(path relative to v1, bytes)`.
const EMBEDDED_FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/embedded_files.rs"));

/// A loaded and validated rule book, indexed by framework slug.
#[derive(Debug, Clone)]
pub struct RuleBook {
    frameworks: BTreeMap<String, Framework>,
    version_hash: String,
    files: usize,
}

impl RuleBook {
    /// Loads the rule book compiled into the binary from `rule_book/v1`.
    ///
    /// # Errors
    /// Returns a [`LoadError`] when a compiled-in file is invalid; tests keep that from shipping.
    pub fn embedded() -> Result<RuleBook, LoadError> {
        let files = EMBEDDED_FILES
            .iter()
            .map(|(path, bytes)| SourceFile {
                path: (*path).to_owned(),
                bytes,
            })
            .collect();
        Self::from_files(files, Path::new("rule_book/v1 (embedded)"))
    }

    /// Loads every framework folder under `dir` (the `rule_book/v1` folder).
    ///
    /// # Errors
    /// Returns a [`LoadError`] naming file, line and field for the first invalid file, or an I/O
    /// error; nothing is loaded in that case.
    pub fn load_dir(dir: &Path) -> Result<RuleBook, LoadError> {
        let contents = read_tree(dir)?;
        let files = contents
            .iter()
            .map(|(path, bytes)| SourceFile {
                path: path.clone(),
                bytes,
            })
            .collect();
        Self::from_files(files, dir)
    }

    fn from_files(files: Vec<SourceFile<'_>>, root: &Path) -> Result<RuleBook, LoadError> {
        let loaded = load(files, root)?;
        Ok(RuleBook {
            frameworks: loaded.frameworks,
            version_hash: loaded.version_hash,
            files: loaded.files,
        })
    }

    /// Returns the SHA-256 (lower-case hex) over the sorted relative paths and bytes of the
    /// loaded files.
    pub fn version_hash(&self) -> &str {
        &self.version_hash
    }

    /// Iterates over the frameworks in slug order.
    pub fn frameworks(&self) -> impl Iterator<Item = &Framework> {
        self.frameworks.values()
    }

    /// Returns one framework by slug.
    pub fn framework(&self, slug: &str) -> Option<&Framework> {
        self.frameworks.get(slug)
    }

    /// Evaluates every rule of `framework` for one system, as of date `on`, in rule id order.
    ///
    /// # Errors
    /// Returns [`EvalError::UnknownFramework`] when the slug is not in the rule book.
    pub fn evaluate(
        &self,
        framework: &str,
        facts: &Facts,
        on: NaiveDate,
    ) -> Result<Vec<Verdict>, EvalError> {
        let Some(found) = self.frameworks.get(framework) else {
            let known = self
                .frameworks
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            return Err(EvalError::UnknownFramework {
                slug: framework.to_owned(),
                known,
            });
        };
        Ok(evaluate::evaluate_framework(found, facts, on))
    }
}

/// Summary of a rule-book folder that loaded without errors, for `secruna rules check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Version hash of the folder, as [`RuleBook::version_hash`].
    pub version_hash: String,
    /// Number of YAML files read.
    pub files: usize,
    /// Rule count per framework, in slug order.
    pub frameworks: Vec<FrameworkCount>,
}

/// Number of rules in one framework.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameworkCount {
    /// Framework slug.
    pub slug: String,
    /// Framework version.
    pub version: String,
    /// Number of rules.
    pub rules: usize,
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for framework in &self.frameworks {
            writeln!(
                f,
                "{}: {} rules ({})",
                framework.slug, framework.rules, framework.version
            )?;
        }
        write!(f, "{} files, version {}", self.files, self.version_hash)
    }
}

/// Loads the rule book in `dir` and reports what it holds.
///
/// # Errors
/// Returns the same [`LoadError`] as [`RuleBook::load_dir`].
pub fn check_dir(dir: &Path) -> Result<CheckReport, LoadError> {
    let book = RuleBook::load_dir(dir)?;
    let frameworks = book
        .frameworks()
        .map(|framework| FrameworkCount {
            slug: framework.slug.clone(),
            version: framework.version.clone(),
            rules: framework.rules.len(),
        })
        .collect();
    Ok(CheckReport {
        version_hash: book.version_hash.clone(),
        files: book.files,
        frameworks,
    })
}

/// Reads every file under `dir`, keyed by relative path with `/` separators. Folders below
/// `<framework>/<folder>/` are not walked; the loader rejects YAML files in any nested folder.
fn read_tree(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, LoadError> {
    let mut files = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((folder, prefix)) = pending.pop() {
        let io_error = |source| LoadError::Io {
            path: folder.clone(),
            source,
        };
        for entry in std::fs::read_dir(&folder).map_err(io_error)? {
            let path = entry.map_err(io_error)?.path();
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            let relative = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if path.is_dir() {
                if relative.matches('/').count() < 2 {
                    pending.push((path, relative));
                }
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|source| LoadError::Io {
                path: path.clone(),
                source,
            })?;
            files.push((relative, bytes));
        }
    }
    Ok(files)
}
