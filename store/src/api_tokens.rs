//! API tokens for integrations: scoped, revocable, stored as hashes.

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use crate::{Error, TenantTx};

/// An API token to create in the transaction's tenant.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    /// Label chosen by the creator.
    pub name: String,
    /// `read`, `write` or `admin`.
    pub scope: String,
    /// SHA-256 of the token.
    pub token_hash: [u8; 32],
    /// User, token or account that created it.
    pub created_by: String,
    /// Expiry time; `None` for a token that does not expire.
    pub expires_at: Option<DateTime<Utc>>,
}

/// An API token as stored, without its hash.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ApiTokenRow {
    /// Token id.
    pub id: Uuid,
    /// Tenant path the token acts for.
    pub tenant_path: String,
    /// Label.
    pub name: String,
    /// `read`, `write` or `admin`.
    pub scope: String,
    /// Creator.
    pub created_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Expiry time.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revocation time.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Column list of [`ApiTokenRow`], as a macro so `concat!` can build static SQL.
macro_rules! token_columns {
    () => {
        "id, tenant_path::text AS tenant_path, name, scope, created_by, created_at, expires_at, \
         revoked_at"
    };
}

/// Creates an API token for the transaction's own tenant.
#[instrument(skip_all, name = "store.api_tokens.create", fields(tenant.path = %tx.tenant(), token.scope = %token.scope))]
pub async fn create(tx: &mut TenantTx, token: &NewApiToken) -> Result<ApiTokenRow, Error> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query_as(concat!(
        "INSERT INTO api_tokens (tenant_path, name, scope, token_hash, created_by, expires_at) \
         VALUES ($1::ltree, $2, $3, $4, $5, $6) RETURNING ",
        token_columns!()
    ))
    .bind(&tenant)
    .bind(&token.name)
    .bind(&token.scope)
    .bind(&token.token_hash[..])
    .bind(&token.created_by)
    .bind(token.expires_at)
    .fetch_one(tx.conn())
    .await?;
    Ok(row)
}

/// Lists the API tokens visible to the tenant, revoked ones included, newest
/// first.
#[instrument(skip_all, name = "store.api_tokens.list", fields(tenant.path = %tx.tenant()))]
pub async fn list(tx: &mut TenantTx) -> Result<Vec<ApiTokenRow>, Error> {
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        token_columns!(),
        " FROM api_tokens ORDER BY created_at DESC, id"
    ))
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Revokes a token visible to the tenant and returns it; `None` when no such
/// token exists. Revoking a revoked token keeps its first revocation time.
#[instrument(skip_all, name = "store.api_tokens.revoke", fields(tenant.path = %tx.tenant(), token.id = %id))]
pub async fn revoke(tx: &mut TenantTx, id: Uuid) -> Result<Option<ApiTokenRow>, Error> {
    let row = sqlx::query_as(concat!(
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING ",
        token_columns!()
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}
