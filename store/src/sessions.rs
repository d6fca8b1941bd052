//! Sign-in sessions, and the lookup of any bearer token before a tenant is
//! known.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tracing::instrument;
use uuid::Uuid;

use crate::{Error, Store, TenantTx};

/// Access level of a principal; each level includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Read data: auditors and `read` tokens.
    Read,
    /// Also change data: members and `write` tokens.
    Write,
    /// Also manage users and tokens: admins and `admin` tokens.
    Admin,
}

impl Access {
    /// Maps a user role (`admin`, `member`, `auditor`) or an API token scope (`admin`,
    /// `write`, `read`) to its access level.
    pub fn from_role(role: &str) -> Option<Access> {
        match role {
            "admin" => Some(Access::Admin),
            "member" | "write" => Some(Access::Write),
            "auditor" | "read" => Some(Access::Read),
            _ => None,
        }
    }

    /// Parses an API token scope (`read`, `write`, `admin`).
    pub fn parse_scope(scope: &str) -> Option<Access> {
        match scope {
            "read" => Some(Access::Read),
            "write" => Some(Access::Write),
            "admin" => Some(Access::Admin),
            _ => None,
        }
    }

    /// Returns the API token scope of this level: `read`, `write` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Admin => "admin",
        }
    }
}

/// Computes the SHA-256 under which a bearer token is stored.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A session as stored, without its token hash.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SessionRow {
    /// Session id.
    pub id: Uuid,
    /// User who signed in.
    pub user_id: Uuid,
    /// Sign-in time.
    pub created_at: DateTime<Utc>,
    /// Expiry time.
    pub expires_at: DateTime<Utc>,
}

/// Principal of a bearer token, as returned by [`Store::authenticate`].
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenPrincipal {
    /// `user` for a session token, `token` for an API token.
    pub principal_type: String,
    /// User id for a session, API token id for an API token.
    pub principal_id: Uuid,
    /// Tenant the token was bound to when issued, as ltree text.
    pub tenant_path: String,
    /// The user's role (`admin`, `member`, `auditor`) or the API token's
    /// scope (`read`, `write`, `admin`).
    pub role: String,
    /// Expiry time; `None` for an API token that does not expire.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Creates a session for `user_id` in the transaction's own tenant.
#[instrument(skip_all, name = "store.sessions.create", fields(tenant.path = %tx.tenant(), user.id = %user_id))]
pub async fn create(
    tx: &mut TenantTx,
    user_id: Uuid,
    token_hash: &[u8; 32],
    expires_at: DateTime<Utc>,
) -> Result<SessionRow, Error> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query_as(
        "INSERT INTO sessions (tenant_path, user_id, token_hash, expires_at) \
         VALUES ($1::ltree, $2, $3, $4) RETURNING id, user_id, created_at, expires_at",
    )
    .bind(&tenant)
    .bind(user_id)
    .bind(&token_hash[..])
    .bind(expires_at)
    .fetch_one(tx.conn())
    .await?;
    Ok(row)
}

/// Revokes the session whose token hashes to `token_hash` and returns it;
/// `None` when no unrevoked session of the tenant has that hash.
#[instrument(skip_all, name = "store.sessions.revoke", fields(tenant.path = %tx.tenant()))]
pub async fn revoke(tx: &mut TenantTx, token_hash: &[u8; 32]) -> Result<Option<SessionRow>, Error> {
    let row = sqlx::query_as(
        "UPDATE sessions SET revoked_at = now() \
         WHERE token_hash = $1 AND revoked_at IS NULL \
         RETURNING id, user_id, created_at, expires_at",
    )
    .bind(&token_hash[..])
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}

impl Store {
    /// Looks up the principal of a bearer token by the token's SHA-256, before
    /// any tenant is known, through the `secruna_authenticate` function.
    /// Returns `None` for an unknown, expired or revoked token.
    #[instrument(skip_all, name = "store.sessions.authenticate")]
    pub async fn authenticate(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<TokenPrincipal>, Error> {
        let row = sqlx::query_as(
            "SELECT principal_type, principal_id, tenant_path::text AS tenant_path, role, expires_at \
             FROM secruna_authenticate($1)",
        )
        .bind(&token_hash[..])
        .fetch_optional(self.pool())
        .await?;
        Ok(row)
    }

    /// Looks up the principal of a raw bearer token by its [`hash_token`] digest. Returns
    /// `None` for an unknown, expired or revoked token.
    pub async fn authenticate_bearer(&self, token: &str) -> Result<Option<TokenPrincipal>, Error> {
        self.authenticate(&hash_token(token)).await
    }

    /// Runs `SELECT 1`, so readiness probes learn whether the database is
    /// reachable.
    #[instrument(skip_all, name = "store.ping")]
    pub async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1").execute(self.pool()).await?;
        Ok(())
    }
}
