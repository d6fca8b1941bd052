//! Users who sign in to the API, with argon2id password hashes.

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use crate::{Error, TenantTx};

/// A user to create in the transaction's tenant.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Sign-in name; stored in lower case.
    pub email: String,
    /// argon2id hash in PHC string form.
    pub password_hash: String,
    /// `admin`, `member` or `auditor`.
    pub role: String,
}

/// A user as listed, without the password hash.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UserRow {
    /// User id.
    pub id: Uuid,
    /// Tenant path of the user.
    pub tenant_path: String,
    /// Sign-in name.
    pub email: String,
    /// `admin`, `member` or `auditor`.
    pub role: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When the user was disabled.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// What sign-in needs to check a password.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserCredentials {
    /// User id.
    pub id: Uuid,
    /// `admin`, `member` or `auditor`.
    pub role: String,
    /// argon2id hash in PHC string form.
    pub password_hash: String,
}

/// Creates a user in the transaction's own tenant.
#[instrument(skip_all, name = "store.users.create", fields(tenant.path = %tx.tenant(), user.role = %user.role))]
pub async fn create(tx: &mut TenantTx, user: &NewUser) -> Result<UserRow, Error> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query_as(
        "INSERT INTO users (tenant_path, email, password_hash, role) \
         VALUES ($1::ltree, lower($2), $3, $4) \
         RETURNING id, tenant_path::text AS tenant_path, email, role, created_at, disabled_at",
    )
    .bind(&tenant)
    .bind(&user.email)
    .bind(&user.password_hash)
    .bind(&user.role)
    .fetch_one(tx.conn())
    .await?;
    Ok(row)
}

/// Fetches the credentials of an enabled user of exactly the transaction's
/// tenant (not of a subsidiary), by e-mail address in any case.
#[instrument(skip_all, name = "store.users.find_for_sign_in", fields(tenant.path = %tx.tenant()))]
pub async fn find_for_sign_in(
    tx: &mut TenantTx,
    email: &str,
) -> Result<Option<UserCredentials>, Error> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query_as(
        "SELECT id, role, password_hash FROM users \
         WHERE tenant_path = $1::ltree AND email = lower($2) AND disabled_at IS NULL",
    )
    .bind(&tenant)
    .bind(email)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}

/// Lists the users visible to the tenant (its own and its subsidiaries'),
/// ordered by tenant and e-mail address.
#[instrument(skip_all, name = "store.users.list", fields(tenant.path = %tx.tenant()))]
pub async fn list(tx: &mut TenantTx) -> Result<Vec<UserRow>, Error> {
    let rows = sqlx::query_as(
        "SELECT id, tenant_path::text AS tenant_path, email, role, created_at, disabled_at \
         FROM users ORDER BY tenant_path, email",
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}
