//! The connectors config file: which connectors to store or scan, with secrets read from
//! environment variables or files at load time, never from the config file itself.
//!
//! ```yaml
//! connectors:
//!   - name: prod-gcp
//!     kind: gcp
//!     config: { projects: [acme-prod] }
//!     secret_file: /run/secrets/gcp-sa.json
//!   - name: github-acme
//!     kind: github
//!     config: { organisations: [acme] }
//!     secret_env: { token: GITHUB_TOKEN }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use agents::ConnectorSpec;
use anyhow::{Context, bail};
use serde::Deserialize;

/// Maximum size of a secret file, in bytes; a larger file is surely the wrong one.
const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectorsFile {
    /// Connectors in the order they are applied and scanned.
    connectors: Vec<ConnectorEntry>,
}

/// One connector of the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectorEntry {
    /// Name, unique in the tenant.
    name: String,
    /// Connector kind: `aws`, `azure`, `gcp`, `github`, `inventory` or `code`.
    kind: String,
    /// Non-secret settings of the kind.
    #[serde(default)]
    config: serde_json::Value,
    /// Secret fields read from environment variables: field name to variable name.
    #[serde(default)]
    secret_env: BTreeMap<String, String>,
    /// File holding the secret as a JSON or YAML object, relative to the config file.
    #[serde(default)]
    secret_file: Option<PathBuf>,
}

/// Reads the config file at `path` and returns its connectors with their secrets.
pub(crate) fn load(path: &Path) -> anyhow::Result<Vec<ConnectorSpec>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading connectors file `{}` failed", path.display()))?;
    let file: ConnectorsFile = yaml_serde::from_str(&text).map_err(|error| {
        anyhow::anyhow!(
            "connectors file `{}` is invalid: {error}; see \"Connecting cloud accounts and code \
             hosts\" in the README for the format",
            path.display()
        )
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut specs: Vec<ConnectorSpec> = Vec::with_capacity(file.connectors.len());
    for entry in file.connectors {
        if specs.iter().any(|spec| spec.name == entry.name) {
            bail!(
                "connectors file `{}` names connector `{}` twice; give each its own name",
                path.display(),
                entry.name
            );
        }
        let secret = read_secret(&entry, base)?;
        let config = match entry.config {
            serde_json::Value::Null => serde_json::json!({}),
            config => config,
        };
        specs.push(ConnectorSpec {
            name: entry.name,
            kind: entry.kind,
            config,
            secret,
        });
    }
    Ok(specs)
}

/// Reads the secret of one entry from its environment variables or its file.
fn read_secret(entry: &ConnectorEntry, base: &Path) -> anyhow::Result<Option<serde_json::Value>> {
    match (&entry.secret_file, entry.secret_env.is_empty()) {
        (Some(_), false) => bail!(
            "connector `{}` sets both secret_env and secret_file; keep one",
            entry.name
        ),
        (Some(file), true) => read_secret_file(&entry.name, &base.join(file)).map(Some),
        (None, false) => read_secret_env(entry).map(Some),
        (None, true) => Ok(None),
    }
}

fn read_secret_env(entry: &ConnectorEntry) -> anyhow::Result<serde_json::Value> {
    let mut secret = serde_json::Map::new();
    for (field, variable) in &entry.secret_env {
        let value = std::env::var(variable).map_err(|_| {
            anyhow::anyhow!(
                "connector `{}`: environment variable {variable} (secret field `{field}`) is not \
                 set; export it before running secruna",
                entry.name
            )
        })?;
        secret.insert(field.clone(), serde_json::Value::String(value));
    }
    Ok(serde_json::Value::Object(secret))
}

fn read_secret_file(name: &str, path: &Path) -> anyhow::Result<serde_json::Value> {
    let size = std::fs::metadata(path)
        .with_context(|| {
            format!(
                "connector `{name}`: reading secret file `{}` failed",
                path.display()
            )
        })?
        .len();
    if size > MAX_SECRET_FILE_BYTES {
        bail!(
            "connector `{name}`: secret file `{}` is {size} bytes, more than the limit of \
             {MAX_SECRET_FILE_BYTES}; point secret_file at the secret object itself",
            path.display()
        );
    }
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "connector `{name}`: reading secret file `{}` failed",
            path.display()
        )
    })?;
    // The error text of a parser may quote the input, so it is not shown: the file contains
    // a secret.
    let secret: serde_json::Value = yaml_serde::from_str(&text).map_err(|_| {
        anyhow::anyhow!(
            "connector `{name}`: secret file `{}` is not a JSON or YAML object; write the secret \
             fields as an object such as {{\"token\": \"...\"}}",
            path.display()
        )
    })?;
    if !secret.is_object() {
        bail!(
            "connector `{name}`: secret file `{}` must hold an object of secret fields",
            path.display()
        );
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn secret_file_is_read_relative_to_the_config() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "gcp.json",
            r#"{"private_key": "k", "client_email": "e"}"#,
        );
        let config = "connectors:\n  - name: prod\n    kind: gcp\n    config: {projects: [p]}\n    secret_file: gcp.json\n";
        let path = write(dir.path(), "connectors.yaml", config);

        let specs = load(&path).unwrap();

        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0].config, serde_json::json!({"projects": ["p"]}));
        let expected = serde_json::json!({"private_key": "k", "client_email": "e"});
        assert_eq!(specs[0].secret, Some(expected));
    }

    #[test]
    fn unknown_field_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let config = "connectors:\n  - name: prod\n    kind: gcp\n    token: abc\n";
        let path = write(dir.path(), "connectors.yaml", config);

        let error = load(&path).unwrap_err().to_string();

        assert!(error.contains("unknown field `token`"), "{error}");
    }

    #[test]
    fn missing_secret_variable_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let config = "connectors:\n  - name: gh\n    kind: github\n    secret_env: {token: SECRUNA_TEST_UNSET_TOKEN}\n";
        let path = write(dir.path(), "connectors.yaml", config);

        let error = load(&path).unwrap_err().to_string();

        assert!(error.contains("SECRUNA_TEST_UNSET_TOKEN"), "{error}");
        assert!(error.contains("`gh`"), "{error}");
    }

    #[test]
    fn repeated_name_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let config = "connectors:\n  - {name: a, kind: gcp}\n  - {name: a, kind: azure}\n";
        let path = write(dir.path(), "connectors.yaml", config);

        let error = load(&path).unwrap_err().to_string();

        assert!(error.contains("twice"), "{error}");
    }

    #[test]
    fn non_object_secret_file_hides_content() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "token.txt", "ghp_secretvalue");
        let config = "connectors:\n  - {name: gh, kind: github, secret_file: token.txt}\n";
        let path = write(dir.path(), "connectors.yaml", config);

        let error = load(&path).unwrap_err().to_string();

        assert!(error.contains("must hold an object"), "{error}");
        assert!(!error.contains("ghp_secretvalue"), "{error}");
    }
}
