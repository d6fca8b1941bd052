//! Loads a rule book from `(relative path, bytes)` pairs: a folder on disk or the embedded copy.
//!
//! Layout: `<framework>/framework.yaml` plus any number of `<framework>/*.yaml` rule files, each
//! holding one rule or a list of rules. Files that do not end in `.yaml` or `.yml` are ignored.
//! The first error aborts the load, so a rule book is either complete or not loaded at all.

use std::collections::{BTreeMap, HashMap};

use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::LoadError;
use crate::model::Framework;
use crate::positions::{Positions, dotted, scan};
use crate::raw::{RawFramework, RawRule};
use crate::schema::{self, Kind};
use crate::validate::{self, Site};

/// Name of the metadata file in every framework folder.
pub(crate) const FRAMEWORK_FILE: &str = "framework.yaml";

/// One file of the rule book, with its path relative to the rule-book root (`/` separators).
pub(crate) struct SourceFile<'a> {
    pub(crate) path: String,
    pub(crate) bytes: &'a [u8],
}

/// Frameworks by slug, plus the version hash of the files they came from.
pub(crate) struct Loaded {
    pub(crate) frameworks: BTreeMap<String, Framework>,
    pub(crate) version_hash: String,
    pub(crate) files: usize,
}

/// Loads every framework from `files`; `root` only names the rule-book folder in errors.
pub(crate) fn load(
    mut files: Vec<SourceFile<'_>>,
    root: &std::path::Path,
) -> Result<Loaded, LoadError> {
    files.retain(|file| file.path.ends_with(".yaml") || file.path.ends_with(".yml"));
    files.sort_by(|a, b| a.path.cmp(&b.path));

    let mut folders: BTreeMap<&str, Vec<&SourceFile<'_>>> = BTreeMap::new();
    for file in &files {
        let parts: Vec<&str> = file.path.split('/').collect();
        let [folder, _name] = parts.as_slice() else {
            let message = "rule files belong directly in a framework folder such as `eu-ai-act/`";
            return Err(invalid(&file.path, message));
        };
        folders.entry(folder).or_default().push(file);
    }
    if folders.is_empty() {
        return Err(LoadError::Empty {
            dir: root.to_path_buf(),
        });
    }

    let mut frameworks = BTreeMap::new();
    let mut rule_files: HashMap<String, String> = HashMap::new();
    for (folder, folder_files) in folders {
        let framework = load_folder(folder, &folder_files, &mut rule_files)?;
        tracing::debug!(framework.slug = %framework.slug, framework.rules = framework.rules.len(), "loaded framework");
        frameworks.insert(framework.slug.clone(), framework);
    }

    Ok(Loaded {
        frameworks,
        version_hash: version_hash(&files),
        files: files.len(),
    })
}

fn invalid(file: &str, message: &str) -> LoadError {
    LoadError::Invalid {
        file: file.to_owned(),
        line: 1,
        field: String::new(),
        message: message.to_owned(),
    }
}

/// Loads one framework folder; `rule_files` maps every rule id seen so far to its file.
fn load_folder(
    folder: &str,
    files: &[&SourceFile<'_>],
    rule_files: &mut HashMap<String, String>,
) -> Result<Framework, LoadError> {
    let metadata_path = format!("{folder}/{FRAMEWORK_FILE}");
    let Some(metadata) = files.iter().find(|file| file.path == metadata_path) else {
        return Err(invalid(
            &metadata_path,
            "missing framework.yaml; every framework folder needs one",
        ));
    };
    let document = Document::parse(metadata, Kind::Framework)?;
    let raw: RawFramework = document.typed(&document.yaml, "")?;
    let (mut framework, vocabulary) = validate::framework(raw, folder, &document.site(""))?;

    for file in files.iter().filter(|file| file.path != metadata_path) {
        let document = Document::parse(file, Kind::Rule)?;
        let items: Vec<(String, &yaml_serde::Value)> = match &document.yaml {
            yaml_serde::Value::Sequence(items) => items
                .iter()
                .enumerate()
                .map(|(index, item)| (format!("/{index}"), item))
                .collect(),
            single => vec![(String::new(), single)],
        };
        for (prefix, item) in items {
            let raw: RawRule = document.typed(item, &prefix)?;
            let rule = validate::rule(raw, &framework, &vocabulary, &document.site(&prefix))?;
            if let Some(first) = rule_files.insert(rule.id.clone(), file.path.clone()) {
                let message = format!(
                    "rule id `{}` is already defined in {first}; rule ids must be unique",
                    rule.id
                );
                return Err(document.site(&prefix).error("/id", message));
            }
            framework.rules.push(rule);
        }
    }
    framework.rules.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(framework)
}

/// One parsed YAML file: its text as a YAML value and the line of every node.
struct Document<'a> {
    file: &'a str,
    yaml: yaml_serde::Value,
    positions: Positions,
}

impl<'a> Document<'a> {
    /// Parses and schema-checks one file.
    fn parse(source: &'a SourceFile<'_>, kind: Kind) -> Result<Self, LoadError> {
        let file = source.path.as_str();
        let text = std::str::from_utf8(source.bytes).map_err(|error| {
            invalid(
                file,
                &format!(
                    "the file is not valid UTF-8 (byte {}); save it as UTF-8",
                    error.valid_up_to()
                ),
            )
        })?;

        // The position pass runs first: it rejects duplicate keys and alias bombs before serde
        // would silently keep the last key or expand the aliases.
        let positions = scan(file, text)?;
        let yaml: yaml_serde::Value =
            yaml_serde::from_str(text).map_err(|error| LoadError::Syntax {
                file: file.to_owned(),
                line: error.location().map_or(1, |location| location.line()),
                message: error.to_string(),
            })?;
        let json: Value = serde_json::to_value(&yaml)
            .map_err(|error| invalid(file, &format!("{error}; mapping keys must be plain text")))?;
        schema::validate(kind, &json, file, &positions)?;
        Ok(Document {
            file,
            yaml,
            positions,
        })
    }

    fn site(&self, prefix: &str) -> Site<'_> {
        Site {
            file: self.file,
            positions: &self.positions,
            prefix: prefix.to_owned(),
        }
    }

    /// Deserialises the value at `prefix` into its serde struct.
    fn typed<T: DeserializeOwned>(
        &self,
        value: &yaml_serde::Value,
        prefix: &str,
    ) -> Result<T, LoadError> {
        yaml_serde::from_value(value.clone()).map_err(|error| LoadError::Invalid {
            file: self.file.to_owned(),
            line: self.positions.line_of(prefix),
            field: dotted(prefix),
            message: error.to_string(),
        })
    }
}

/// Computes SHA-256 over the files in path order. Each file contributes its path, a NUL byte,
/// its length as a little-endian u64 and its bytes, so moving bytes between files changes the hash.
fn version_hash(files: &[SourceFile<'_>]) -> String {
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(file.path.as_bytes());
        hasher.update([0]);
        hasher.update((file.bytes.len() as u64).to_le_bytes());
        hasher.update(file.bytes);
    }
    hex::encode(hasher.finalize())
}
