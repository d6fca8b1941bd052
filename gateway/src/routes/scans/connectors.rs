//! Loads stored connectors for a scan and turns them into connector specs, with their
//! secrets decrypted in memory only.

use std::path::Path;

use agents::ConnectorSpec;
use store::TenantTx;
use uuid::Uuid;

use crate::problem::ApiError;
use crate::state::AppState;

/// Loads the connectors `ids` visible to the transaction's tenant and builds their specs.
/// A `git` connector becomes a `code` connector over its folder under the scan root.
pub(crate) async fn load_specs(
    state: &AppState,
    tx: &mut TenantTx,
    ids: &[Uuid],
) -> Result<Vec<ConnectorSpec>, ApiError> {
    let mut specs = Vec::with_capacity(ids.len());
    for (index, id) in ids.iter().enumerate() {
        let field = format!("connector_ids[{index}]");
        if ids[..index].contains(id) {
            return Err(ApiError::invalid(
                field,
                format!("connector `{id}` is listed twice; list each connector once"),
            ));
        }
        let row = store::connectors::get(tx, *id).await?.ok_or_else(|| {
            ApiError::invalid(
                field.clone(),
                format!("connector `{id}` does not exist in this tenant; GET /api/v1/connectors lists them"),
            )
        })?;
        let secret = open_secret(state, tx, *id, &field).await?;
        let spec = ConnectorSpec {
            name: row.name,
            kind: row.kind,
            config: row.config,
            secret,
        };
        specs.push(code_spec_of_git(state, spec, &field)?);
    }
    Ok(specs)
}

/// Decrypts the secret of connector `id`, if it has one.
pub(crate) async fn open_secret(
    state: &AppState,
    tx: &mut TenantTx,
    id: Uuid,
    field: &str,
) -> Result<Option<serde_json::Value>, ApiError> {
    let Some(sealed) = store::connectors::secret(tx, id).await? else {
        return Ok(None);
    };
    let Some(key) = state.config().secret_key.as_ref() else {
        return Err(ApiError::invalid(
            field,
            format!(
                "connector `{id}` has a stored secret but this server has no key to decrypt it; \
                 the operator sets SECRUNA_SECRET_KEY to the key it was stored with"
            ),
        ));
    };
    let bytes = key
        .open(id, &sealed)
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    let secret = serde_json::from_slice(&bytes).map_err(|_| {
        ApiError::Internal(format!(
            "the stored secret of connector `{id}` is not a JSON object"
        ))
    })?;
    Ok(Some(secret))
}

/// Maps a `git` connector (`{"path": "<folder under the scan root>"}`) to the built-in
/// `code` connector; other kinds pass through unchanged.
fn code_spec_of_git(
    state: &AppState,
    mut spec: ConnectorSpec,
    field: &str,
) -> Result<ConnectorSpec, ApiError> {
    if spec.kind == "inventory" {
        let file = crate::routes::connectors::config::inventory_file(
            &spec.config,
            state.config().scan_root.as_deref(),
        )
        .map_err(|_| {
            ApiError::invalid(
                field,
                format!(
                    "inventory connector `{}` names a file that is not under the scan root; \
                     update its config.path",
                    spec.name
                ),
            )
        })?;
        spec.config["path"] = serde_json::Value::String(file.display().to_string());
        return Ok(spec);
    }
    if spec.kind != "git" {
        return Ok(spec);
    }
    let root = scan_root(state)?;
    let path = spec.config["path"].as_str().unwrap_or_default().to_owned();
    let folder = super::resolve_target(root, &path).map_err(|_| {
        ApiError::invalid(
            field,
            format!(
                "git connector `{}` names `{path}`, which is not a folder under the scan root; \
                 update its config.path",
                spec.name
            ),
        )
    })?;
    spec.kind = coordinator::CODE_KIND.to_owned();
    spec.config = serde_json::json!({ "paths": [folder] });
    Ok(spec)
}

/// Returns the operator's scan root, or 403 when scanning server folders is off.
pub(crate) fn scan_root(state: &AppState) -> Result<&Path, ApiError> {
    state.config().scan_root.as_deref().ok_or_else(|| {
        ApiError::Forbidden(
            "scanning server folders through the API is off; the operator turns it on with \
             `secruna serve --scan-root DIR`"
                .to_owned(),
        )
    })
}
