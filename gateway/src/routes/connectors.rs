//! Connectors: the code trees, cloud accounts and code hosts a tenant
//! connects for discovery. Secrets are write-only: they are encrypted with
//! the operator's key before they are stored, and no response, log line or
//! audit row carries them.

pub(crate) mod config;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use store::connectors::{ConnectorRow, ConnectorUpdate, NewConnector, SealedSecret};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audited::{AuditedTx, ReadTx};
use crate::extract::{ApiJson, ApiPath};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// A connector to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewConnectorBody {
    /// Label, 1 to 200 characters, unique within the tenant.
    pub(crate) name: String,
    /// `git`, `aws`, `azure`, `gcp`, `github` or `inventory`.
    pub(crate) kind: String,
    /// Settings of the kind: `git` takes `path` (a folder under the server's
    /// scan root) and `branch`; `aws` takes `account_id`, `regions` and
    /// `role_arn`; `azure` takes `tenant_id` and `subscription_id`; `gcp`
    /// takes `project_id`; `github` takes `organization` and `api_url`;
    /// `inventory` takes `url` and `format`.
    #[schema(value_type = Object)]
    pub(crate) config: serde_json::Value,
    /// Credentials as an object of names to strings; write-only.
    #[schema(value_type = Option<Object>)]
    #[serde(default)]
    pub(crate) secret: Option<serde_json::Value>,
}

/// Changes to a connector; omitted fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConnectorPatch {
    /// New label.
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// New settings, replacing the old ones, checked against the connector's kind.
    #[schema(value_type = Option<Object>)]
    #[serde(default)]
    pub(crate) config: Option<serde_json::Value>,
    /// New credentials; `null` removes them.
    #[schema(value_type = Option<Object>)]
    #[serde(default, deserialize_with = "present")]
    pub(crate) secret: Option<Option<serde_json::Value>>,
}

/// Deserialises a field that is present, so `null` and an omitted field differ.
fn present<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<serde_json::Value>>, D::Error> {
    Option::<serde_json::Value>::deserialize(deserializer).map(Some)
}

/// A connector, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConnectorView {
    /// Connector id.
    pub(crate) id: Uuid,
    /// Owning tenant path.
    pub(crate) tenant_path: String,
    /// Connector kind.
    pub(crate) kind: String,
    /// Label.
    pub(crate) name: String,
    /// Settings without secrets.
    #[schema(value_type = Object)]
    pub(crate) config: serde_json::Value,
    /// Whether credentials are stored; they are never returned.
    pub(crate) has_secret: bool,
    /// Creation time.
    pub(crate) created_at: DateTime<Utc>,
    /// Last change.
    pub(crate) updated_at: DateTime<Utc>,
}

impl From<ConnectorRow> for ConnectorView {
    fn from(row: ConnectorRow) -> Self {
        ConnectorView {
            id: row.id,
            tenant_path: row.tenant_path,
            kind: row.kind,
            name: row.name,
            config: row.config,
            has_secret: row.has_secret,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

fn not_found(id: Uuid) -> ApiError {
    ApiError::NotFound {
        entity: "connector",
        id: id.to_string(),
    }
}

/// Validates and encrypts a secret for connector `id`.
fn seal_secret(
    state: &AppState,
    id: Uuid,
    secret: &serde_json::Value,
) -> Result<SealedSecret, ApiError> {
    let bytes = config::secret_bytes(secret)?;
    let Some(key) = state.config().secret_key.as_ref() else {
        return Err(ApiError::invalid(
            "secret",
            "this server has no key to encrypt secrets with, so it stores none; the operator \
             sets SECRUNA_SECRET_KEY (32 random bytes in base64), or omit `secret`",
        ));
    };
    key.seal(id, &bytes)
        .map_err(|error| ApiError::Internal(error.to_string()))
}

/// Maps a name clash to a conflict that names the field.
fn name_conflict(error: store::Error, name: &str) -> ApiError {
    match error {
        store::Error::Duplicate { .. } => ApiError::Conflict(format!(
            "a connector named `{name}` exists in this tenant; pick another name"
        )),
        other => other.into(),
    }
}

/// Creates a connector.
#[utoipa::path(post, path = "/api/v1/connectors", tag = "connectors",
    request_body = NewConnectorBody, security(("bearer" = [])),
    responses(
        (status = 201, description = "Connector created", body = ConnectorView),
        (status = 403, description = "Read-only principal", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body, or a secret without a server key", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    mut tx: AuditedTx,
    ApiJson(body): ApiJson<NewConnectorBody>,
) -> Result<(StatusCode, Json<ConnectorView>), ApiError> {
    config::validate_name(&body.name)?;
    config::validate_kind(&body.kind)?;
    if let Some(secret) = &body.secret {
        config::secret_bytes(secret)?;
    }
    config::validate_config(
        state.coordinator().sources(),
        &body.name,
        &body.kind,
        &body.config,
        body.secret.as_ref(),
        state.config().scan_root.as_deref(),
    )?;
    let id = Uuid::new_v4();
    let secret = match &body.secret {
        Some(secret) => Some(seal_secret(&state, id, secret)?),
        None => None,
    };
    let new_connector = NewConnector {
        id,
        kind: body.kind,
        name: body.name,
        config: body.config,
        secret,
    };
    let row = store::connectors::create(tx.tx(), &new_connector)
        .await
        .map_err(|error| name_conflict(error, &new_connector.name))?;
    let diff = serde_json::json!({
        "kind": row.kind, "name": row.name, "config": row.config, "secret": row.has_secret.then_some("set"),
    });
    tx.record("connector", &row.id.to_string(), "connector.create", diff)
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Lists the tenant's connectors, oldest first.
#[utoipa::path(get, path = "/api/v1/connectors", tag = "connectors", security(("bearer" = [])),
    responses((status = 200, description = "Connectors", body = Vec<ConnectorView>)))]
pub(crate) async fn list(mut read: ReadTx) -> Result<Json<Vec<ConnectorView>>, ApiError> {
    let rows = store::connectors::list(&mut read.tx).await?;
    Ok(Json(rows.into_iter().map(ConnectorView::from).collect()))
}

/// Returns one connector.
#[utoipa::path(get, path = "/api/v1/connectors/{id}", tag = "connectors", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Connector id")),
    responses(
        (status = 200, description = "The connector", body = ConnectorView),
        (status = 404, description = "No such connector in the tenant", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get(
    mut read: ReadTx,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ConnectorView>, ApiError> {
    let row = store::connectors::get(&mut read.tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(Json(row.into()))
}

/// Changes a connector's name, settings or secret.
#[utoipa::path(patch, path = "/api/v1/connectors/{id}", tag = "connectors",
    request_body = ConnectorPatch, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Connector id")),
    responses(
        (status = 200, description = "Connector changed", body = ConnectorView),
        (status = 404, description = "No such connector in the tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn update(
    State(state): State<AppState>,
    mut tx: AuditedTx,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ConnectorPatch>,
) -> Result<Json<ConnectorView>, ApiError> {
    let before = store::connectors::get(tx.tx(), id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if let Some(name) = &body.name {
        config::validate_name(name)?;
    }
    if let Some(Some(secret)) = &body.secret {
        config::secret_bytes(secret)?;
    }
    if body.config.is_some() || body.secret.is_some() {
        // The connector must stay buildable with what it will hold after the change.
        let secret = match &body.secret {
            Some(secret) => secret.clone(),
            None => super::scans::connectors::open_secret(&state, tx.tx(), id, "secret").await?,
        };
        config::validate_config(
            state.coordinator().sources(),
            body.name.as_deref().unwrap_or(&before.name),
            &before.kind,
            body.config.as_ref().unwrap_or(&before.config),
            secret.as_ref(),
            state.config().scan_root.as_deref(),
        )?;
    }
    let secret = match &body.secret {
        Some(Some(secret)) => Some(Some(seal_secret(&state, id, secret)?)),
        Some(None) => Some(None),
        None => None,
    };
    let update = ConnectorUpdate {
        name: body.name.clone(),
        config: body.config.clone(),
        secret,
    };
    let name = body.name.as_deref().unwrap_or(&before.name);
    let after = store::connectors::update(tx.tx(), id, &update)
        .await
        .map_err(|error| name_conflict(error, name))?
        .ok_or_else(|| not_found(id))?;
    let diff = serde_json::json!({
        "name": changed(&before.name, &after.name),
        "config": changed(&before.config, &after.config),
        "secret": match body.secret {
            Some(Some(_)) => Some("replaced"),
            Some(None) if before.has_secret => Some("removed"),
            _ => None,
        },
    });
    tx.record("connector", &id.to_string(), "connector.update", diff)
        .await?;
    tx.commit().await?;
    Ok(Json(after.into()))
}

/// Returns `{"from": .., "to": ..}` when the value changed, `null` otherwise.
fn changed<T: Serialize + PartialEq>(before: &T, after: &T) -> serde_json::Value {
    if before == after {
        serde_json::Value::Null
    } else {
        serde_json::json!({"from": before, "to": after})
    }
}

/// Deletes a connector and its secret. Connectors that ran scans are kept,
/// because the scans refer to them.
#[utoipa::path(delete, path = "/api/v1/connectors/{id}", tag = "connectors", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Connector id")),
    responses(
        (status = 200, description = "Connector deleted", body = ConnectorView),
        (status = 404, description = "No such connector in the tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Scans refer to the connector", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete(
    mut tx: AuditedTx,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ConnectorView>, ApiError> {
    let row = store::connectors::delete(tx.tx(), id)
        .await
        .map_err(|error| match error {
            store::Error::MissingReference { .. } => ApiError::Conflict(format!(
                "scans refer to connector `{id}`, so it cannot be deleted"
            )),
            other => other.into(),
        })?
        .ok_or_else(|| not_found(id))?;
    let diff = serde_json::json!({"kind": row.kind, "name": row.name, "config": row.config});
    tx.record("connector", &id.to_string(), "connector.delete", diff)
        .await?;
    tx.commit().await?;
    Ok(Json(row.into()))
}
