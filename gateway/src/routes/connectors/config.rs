//! Validation of connector kinds, settings and secrets.
//!
//! Messages name the field at fault but never repeat a secret value.

use std::path::Path;

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

/// Checks `config` against the settings of `kind`. A `git` connector's
/// `path` must be a folder under `scan_root`.
pub(crate) fn validate_config(
    kind: &str,
    config: &Value,
    scan_root: Option<&Path>,
) -> Result<(), ApiError> {
    let Some(object) = config.as_object() else {
        return Err(ApiError::invalid(
            "config",
            "config must be a JSON object of the kind's settings",
        ));
    };
    let (required, optional): (&[&str], &[&str]) = match kind {
        "git" => (&["path"], &["branch"]),
        "aws" => (&["account_id"], &["regions", "role_arn"]),
        "azure" => (&["tenant_id", "subscription_id"], &[]),
        "gcp" => (&["project_id"], &[]),
        "github" => (&["organization"], &["api_url"]),
        _ => (&["url"], &["format"]),
    };
    for key in object.keys() {
        if !required.contains(&key.as_str()) && !optional.contains(&key.as_str()) {
            let allowed: Vec<&str> = required.iter().chain(optional).copied().collect();
            return Err(ApiError::invalid(
                format!("config.{key}"),
                format!(
                    "config.{key} is not a setting of {kind} connectors; they take {}",
                    allowed.join(", ")
                ),
            ));
        }
    }
    for key in required {
        if !object.contains_key(*key) {
            return Err(ApiError::invalid(
                format!("config.{key}"),
                format!("config.{key} is missing; {kind} connectors require it"),
            ));
        }
    }
    for (key, value) in object {
        validate_setting(kind, key, value, scan_root)?;
    }
    Ok(())
}

fn validate_setting(
    kind: &str,
    key: &str,
    value: &Value,
    scan_root: Option<&Path>,
) -> Result<(), ApiError> {
    let field = format!("config.{key}");
    if key == "regions" {
        let is_valid = value.as_array().is_some_and(|regions| {
            !regions.is_empty()
                && regions
                    .iter()
                    .all(|region| region.as_str().is_some_and(is_aws_region))
        });
        return expect(
            is_valid,
            field,
            "config.regions must be a non-empty list such as [\"eu-west-1\"]",
        );
    }
    let Some(text) = value.as_str() else {
        return Err(ApiError::invalid(
            field.clone(),
            format!("{field} must be a string"),
        ));
    };
    match (kind, key) {
        ("git", "path") => validate_git_path(text, scan_root),
        ("git", "branch") => expect(
            !text.is_empty() && text.len() <= 255 && !text.contains(['\0', ' ', '~', '^', ':']),
            field,
            "config.branch must be a git branch name",
        ),
        ("aws", "account_id") => expect(
            text.len() == 12 && text.bytes().all(|byte| byte.is_ascii_digit()),
            field,
            "config.account_id must be the 12-digit AWS account id",
        ),
        ("aws", "role_arn") => expect(
            text.starts_with("arn:aws:iam::") && text.contains(":role/"),
            field,
            "config.role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
        ),
        ("azure", _) => expect(
            uuid::Uuid::parse_str(text).is_ok(),
            field.clone(),
            format!("{field} must be a UUID, as the Azure portal shows it"),
        ),
        ("gcp", "project_id") => expect(
            is_gcp_project_id(text),
            field,
            "config.project_id must be 6 to 30 lower-case letters, digits or hyphens, starting \
             with a letter",
        ),
        ("github", "organization") => expect(
            (1..=39).contains(&text.len())
                && !text.starts_with('-')
                && text
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-'),
            field,
            "config.organization must be a GitHub organization login",
        ),
        ("github", "api_url") | ("inventory", "url") => expect(
            text.starts_with("https://") && text.len() > "https://".len() && text.len() <= 2048,
            field.clone(),
            format!("{field} must be an https:// URL"),
        ),
        ("inventory", "format") => expect(
            matches!(text, "csv" | "json"),
            field,
            "config.format must be csv or json",
        ),
        _ => Ok(()),
    }
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

fn is_aws_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|part| !part.is_empty())
        && parts[..parts.len() - 1]
            .iter()
            .all(|part| part.bytes().all(|byte| byte.is_ascii_lowercase()))
        && parts[parts.len() - 1]
            .bytes()
            .all(|byte| byte.is_ascii_digit())
}

fn is_gcp_project_id(id: &str) -> bool {
    (6..=30).contains(&id.len())
        && id.starts_with(|ch: char| ch.is_ascii_lowercase())
        && !id.ends_with('-')
        && id
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
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
