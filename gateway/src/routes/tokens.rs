//! API tokens for integrations: create, list, revoke (admins only).

use axum::Json;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audited::{AdminAccess, AuditedTx, ReadTx};
use crate::auth::{self, Access};
use crate::extract::{ApiJson, ApiPath};
use crate::problem::{ApiError, Problem};

/// Maximum lifetime of an API token, in days.
const MAX_TOKEN_DAYS: u32 = 3650;

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    /// Label, 1 to 200 characters (`ci`, `siem-export`).
    pub(crate) name: String,
    /// `read`, `write` or `admin`.
    pub(crate) scope: String,
    /// Days until the token expires, 1 to 3650; omit for a token that does not expire.
    pub(crate) expires_in_days: Option<u32>,
}

/// An API token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenView {
    /// Token id.
    pub(crate) id: Uuid,
    /// Label.
    pub(crate) name: String,
    /// `read`, `write` or `admin`.
    pub(crate) scope: String,
    /// Creator (`user:<id>`, `token:<id>`, `cli:<account>`).
    pub(crate) created_by: String,
    /// Creation time.
    pub(crate) created_at: DateTime<Utc>,
    /// Expiry time, `null` when it does not expire.
    pub(crate) expires_at: Option<DateTime<Utc>>,
    /// Revocation time, `null` while active.
    pub(crate) revoked_at: Option<DateTime<Utc>>,
}

/// A new token; the secret is shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenCreated {
    /// Bearer token for `Authorization: Bearer <token>`.
    pub(crate) token: String,
    /// The stored token.
    #[serde(flatten)]
    pub(crate) view: TokenView,
}

impl From<store::api_tokens::ApiTokenRow> for TokenView {
    fn from(row: store::api_tokens::ApiTokenRow) -> Self {
        TokenView {
            id: row.id,
            name: row.name,
            scope: row.scope,
            created_by: row.created_by,
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        }
    }
}

fn validate(body: &NewToken) -> Result<Option<DateTime<Utc>>, ApiError> {
    let name_len = body.name.chars().count();
    if !(1..=200).contains(&name_len) {
        return Err(ApiError::invalid(
            "name",
            "name must be 1 to 200 characters",
        ));
    }
    if !matches!(body.scope.as_str(), "read" | "write" | "admin") {
        return Err(ApiError::invalid(
            "scope",
            format!(
                "scope `{}` is unknown; use read, write or admin",
                body.scope
            ),
        ));
    }
    match body.expires_in_days {
        None => Ok(None),
        Some(days) if (1..=MAX_TOKEN_DAYS).contains(&days) => {
            Ok(Some(Utc::now() + chrono::Duration::days(i64::from(days))))
        }
        Some(days) => Err(ApiError::invalid(
            "expires_in_days",
            format!(
                "expires_in_days {days} is out of range; pass 1 to {MAX_TOKEN_DAYS} or omit it"
            ),
        )),
    }
}

/// Creates an API token for the caller's tenant.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", request_body = NewToken,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Token created", body = TokenCreated),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create(
    mut tx: AuditedTx<AdminAccess>,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    let expires_at = validate(&body)?;
    let created_by = tx
        .principal()
        .map(|principal| principal.actor())
        .unwrap_or_default();
    let (token, token_hash) = auth::generate_token();
    let new_token = store::api_tokens::NewApiToken {
        name: body.name,
        scope: body.scope,
        token_hash,
        created_by,
        expires_at,
    };
    let row = store::api_tokens::create(tx.tx(), &new_token).await?;
    let diff =
        serde_json::json!({"name": row.name, "scope": row.scope, "expires_at": row.expires_at});
    tx.record("api_token", &row.id.to_string(), "api_token.create", diff)
        .await?;
    tx.commit().await?;
    let created = TokenCreated {
        token,
        view: row.into(),
    };
    Ok((StatusCode::CREATED, Json(created)))
}

/// Lists the tenant's API tokens, revoked ones included.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "Tokens, newest first", body = Vec<TokenView>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list(mut read: ReadTx) -> Result<Json<Vec<TokenView>>, ApiError> {
    read.principal.require(Access::Admin)?;
    let rows = store::api_tokens::list(&mut read.tx).await?;
    Ok(Json(rows.into_iter().map(TokenView::from).collect()))
}

/// Revokes an API token; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Token id")),
    responses(
        (status = 200, description = "Token revoked", body = TokenView),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token in the tenant", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn revoke(
    mut tx: AuditedTx<AdminAccess>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TokenView>, ApiError> {
    let row = store::api_tokens::revoke(tx.tx(), id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            entity: "api token",
            id: id.to_string(),
        })?;
    let diff = serde_json::json!({"revoked_at": row.revoked_at});
    tx.record("api_token", &row.id.to_string(), "api_token.revoke", diff)
        .await?;
    tx.commit().await?;
    Ok(Json(row.into()))
}
