//! Validation of connector kinds, settings and secrets.
//!
//! Messages name the field at fault but never repeat a secret value.

use std::path::{Path, PathBuf};

use agents::{ConnectorSpec, SourceRegistry};

use serde_json::{Map, Value};

use crate::problem::ApiError;

/// Connector kinds the API accepts.
pub(crate) const KINDS: [&str; 6] = ["git", "aws", "azure", "gcp", "github", "inventory"];

/// Maximum number of entries in a secret object.
const MAX_SECRET_ENTRIES: usize = 16;

/// Maximum length of one secret value, in bytes.
const MAX_SECRET_VALUE_BYTES: usize = 8 * 1024;

/// Checks the kind name.
pub(crate) fn validate_kind(kind: &str) -> Result<(), ApiError> {
    if KINDS.contains(&kind) {
        return Ok(());
    }
    Err(ApiError::invalid(
        "kind",
        format!("kind `{kind}` is unknown; use one of {}", KINDS.join(", ")),
    ))
}

/// Checks the label.
pub(crate) fn validate_name(name: &str) -> Result<(), ApiError> {
    let len = name.chars().count();
    if (1..=200).contains(&len) && name.trim() == name {
        return Ok(());
    }
    Err(ApiError::invalid(
        "name",
        "name must be 1 to 200 characters without leading or trailing spaces",
    ))
}

/// Checks `config` (and `secret`) of a connector the way a scan will read them: `git`
/// and `inventory` connectors must name a folder or file under `scan_root`, and every
/// other kind is built with the same factory scans use, so a stored connector can
/// always be scanned.
pub(crate) fn validate_config(
    sources: &SourceRegistry,
    name: &str,
    kind: &str,
    config: &Value,
    secret: Option<&Value>,
    scan_root: Option<&Path>,
) -> Result<(), ApiError> {
    let Some(object) = config.as_object() else {
        return Err(ApiError::invalid(
            "config",
            "config must be a JSON object of the kind's settings",
        ));
    };
    match kind {
        "git" => validate_git(object, scan_root),
        "inventory" => {
            let file = inventory_file(config, scan_root)?;
            let mut resolved = config.clone();
            resolved["path"] = Value::String(file.display().to_string());
            build(sources, name, kind, &resolved, secret)
        }
        _ => build(sources, name, kind, config, secret),
    }
}

fn validate_git(object: &Map<String, Value>, scan_root: Option<&Path>) -> Result<(), ApiError> {
    for key in object.keys() {
        if key != "path" && key != "branch" {
            return Err(ApiError::invalid(
                format!("config.{key}"),
                format!("config.{key} is not a setting of git connectors; they take path, branch"),
            ));
        }
    }
    let Some(path) = object.get("path") else {
        return Err(ApiError::invalid(
            "config.path",
            "config.path is missing; git connectors require it",
        ));
    };
    let Some(path) = path.as_str() else {
        return Err(ApiError::invalid(
            "config.path",
            "config.path must be a string",
        ));
    };
    if let Some(branch) = object.get("branch") {
        let is_valid = branch.as_str().is_some_and(|text| {
            !text.is_empty() && text.len() <= 255 && !text.contains(['\0', ' ', '~', '^', ':'])
        });
        expect(
            is_valid,
            "config.branch".to_owned(),
            "config.branch must be a git branch name",
        )?;
    }
    validate_git_path(path, scan_root)
}

/// Builds the connector with the scans' factory and reports its complaint as a 422.
fn build(
    sources: &SourceRegistry,
    name: &str,
    kind: &str,
    config: &Value,
    secret: Option<&Value>,
) -> Result<(), ApiError> {
    let spec = ConnectorSpec {
        name: name.to_owned(),
        kind: kind.to_owned(),
        config: config.clone(),
        secret: secret.cloned(),
    };
    match sources.build(&spec) {
        Ok(_) => Ok(()),
        Err(error) if sources.kinds().any(|known| known == kind) => {
            Err(ApiError::invalid("config", error.message))
        }
        Err(_) => Err(ApiError::invalid(
            "kind",
            format!(
                "this server cannot crawl `{kind}` connectors; the operator's build lacks that connector"
            ),
        )),
    }
}

/// Resolves an inventory connector's `config.path` to a file under the scan root. The
/// file is read on the server, so it must stay inside the folder the operator allows.
pub(crate) fn inventory_file(
    config: &Value,
    scan_root: Option<&Path>,
) -> Result<PathBuf, ApiError> {
    let Some(root) = scan_root else {
        return Err(ApiError::invalid(
            "config.path",
            "inventory connectors read a file on the server, which is off; the operator turns it \
             on with `secruna serve --scan-root DIR`",
        ));
    };
    let Some(path) = config.get("path").and_then(Value::as_str) else {
        return Err(ApiError::invalid(
            "config.path",
            "config.path is missing; name a CSV or XLSX file under the scan root",
        ));
    };
    let canonical = std::fs::canonicalize(root.join(path))
        .ok()
        .filter(|canonical| canonical.starts_with(root) && canonical.is_file())
        .ok_or_else(|| {
            ApiError::invalid(
                "config.path",
                format!("config.path `{path}` is not a file under the scan root; name a CSV or XLSX file there"),
            )
        })?;
    Ok(canonical)
}

fn expect(is_valid: bool, field: String, detail: impl Into<String>) -> Result<(), ApiError> {
    if is_valid {
        Ok(())
    } else {
        Err(ApiError::invalid(field, detail))
    }
}

fn validate_git_path(path: &str, scan_root: Option<&Path>) -> Result<(), ApiError> {
    let Some(root) = scan_root else {
        return Err(ApiError::invalid(
            "config.path",
            "git connectors read folders on the server, which is off; the operator turns it on \
             with `secruna serve --scan-root DIR`",
        ));
    };
    super::super::scans::resolve_target(root, path)
        .map(drop)
        .map_err(|error| match error {
            ApiError::Invalid { detail, .. } => ApiError::invalid("config.path", detail),
            other => other,
        })
}

/// Checks a secret: an object of up to 16 string values of at most 8 KiB,
/// and returns its canonical bytes for encryption.
pub(crate) fn secret_bytes(secret: &Value) -> Result<Vec<u8>, ApiError> {
    let Some(object) = secret.as_object() else {
        return Err(ApiError::invalid(
            "secret",
            "secret must be a JSON object of names to string values",
        ));
    };
    if object.is_empty() || object.len() > MAX_SECRET_ENTRIES {
        return Err(ApiError::invalid(
            "secret",
            format!("secret must have 1 to {MAX_SECRET_ENTRIES} entries; send null to remove it"),
        ));
    }
    let mut sorted = Map::new();
    for (key, value) in object {
        let field = format!("secret.{key}");
        let is_valid_key = (1..=64).contains(&key.len())
            && key
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
        if !is_valid_key {
            return Err(ApiError::invalid(
                "secret",
                "secret names must be 1 to 64 letters, digits or underscores",
            ));
        }
        match value.as_str() {
            Some(text) if !text.is_empty() && text.len() <= MAX_SECRET_VALUE_BYTES => {}
            _ => {
                return Err(ApiError::invalid(
                    field.clone(),
                    format!(
                        "{field} must be a non-empty string of at most {MAX_SECRET_VALUE_BYTES} \
                         bytes"
                    ),
                ));
            }
        }
        sorted.insert(key.clone(), value.clone());
    }
    serde_json::to_vec(&Value::Object(sorted))
        .map_err(|error| ApiError::Internal(format!("serialising a secret failed: {error}")))
}
