//! Bearer tokens, password hashes and the authenticated principal of a
//! request.
//!
//! A token is 32 random bytes from the operating system, written as
//! `sec_` and 64 hex digits. Only its SHA-256 is stored, and a request's
//! principal (tenant, role or scope) comes from the row that hash finds, so
//! no request parameter can name a tenant.

use std::net::IpAddr;
use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use store::{TenantContext, TenantPath};
use uuid::Uuid;

use crate::problem::ApiError;
use crate::state::AppState;

pub use store::sessions::Access;

/// Prefix of every secret token, so leaked tokens are easy to recognise.
pub const TOKEN_PREFIX: &str = "sec_";

/// Kind of principal behind a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// A signed-in user; the id is the user id.
    User,
    /// An API token; the id is the token id.
    Token,
}

impl PrincipalKind {
    /// Returns the actor type recorded in audit rows.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Token => "token",
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// User or API token.
    pub kind: PrincipalKind,
    /// User id or API token id.
    pub id: Uuid,
    /// Tenant the token was bound to when issued.
    pub tenant: TenantContext,
    /// Access level from the user's role or the token's scope.
    pub access: Access,
    /// SHA-256 of the bearer token, to revoke the current session.
    pub token_hash: [u8; 32],
}

impl Principal {
    /// Rejects the request with 403 unless the principal has `needed` access.
    pub fn require(&self, needed: Access) -> Result<(), ApiError> {
        if self.access >= needed {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!(
            "this endpoint needs {} access, and the bearer token has {} access; use a token \
             of a user or scope that has it",
            needed.as_str(),
            self.access.as_str()
        )))
    }

    /// Returns the actor id recorded in audit rows and on scans (`user:<id>`).
    pub fn actor(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.id)
    }
}

/// Generates a new secret token and returns it with its SHA-256.
pub fn generate_token() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let hash = hash_token(&token);
    (token, hash)
}

/// Computes the SHA-256 under which a token is stored.
pub fn hash_token(token: &str) -> [u8; 32] {
    store::sessions::hash_token(token)
}

/// Hashes a password with argon2id (the crate's default parameters: 19 MiB,
/// two passes) and a random salt, in PHC string form.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| ApiError::Internal(format!("hashing a password failed: {error}")))
}

/// Checks a password against a PHC hash; a malformed hash never matches.
pub fn verify_password(password: &str, phc_hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc_hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Hash of a random password, checked when a sign-in names no known
/// user, so a wrong e-mail address costs the same time as a wrong password.
pub(crate) fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        hash_password(&hex::encode(bytes)).unwrap_or_default()
    })
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(principal) = parts.extensions.get::<Arc<Principal>>() {
            return Ok(principal.as_ref().clone());
        }
        let token = bearer_token(parts)?;
        let hash = hash_token(token);
        let Some(found) = state.store().authenticate(&hash).await? else {
            return Err(ApiError::Unauthorized(
                "the bearer token is unknown, expired or revoked; sign in again with POST \
                 /api/v1/sessions or use a valid API token"
                    .to_owned(),
            ));
        };
        let principal = principal_from_row(found, hash)?;
        check_rate_limit(state, &principal)?;
        parts.extensions.insert(Arc::new(principal.clone()));
        Ok(principal)
    }
}

fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let missing = || {
        ApiError::Unauthorized(
            "missing bearer token; send `Authorization: Bearer <token>` with a session token \
             from POST /api/v1/sessions or an API token"
                .to_owned(),
        )
    };
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(missing());
    }
    Ok(token.trim())
}

fn principal_from_row(
    found: store::sessions::TokenPrincipal,
    token_hash: [u8; 32],
) -> Result<Principal, ApiError> {
    let kind = match found.principal_type.as_str() {
        "user" => PrincipalKind::User,
        "token" => PrincipalKind::Token,
        other => {
            return Err(ApiError::Internal(format!(
                "unknown principal type `{other}`"
            )));
        }
    };
    let access = Access::from_role(&found.role)
        .ok_or_else(|| ApiError::Internal(format!("unknown role `{}`", found.role)))?;
    let path = TenantPath::from_ltree(&found.tenant_path)
        .map_err(|error| ApiError::Internal(format!("stored tenant path is invalid: {error}")))?;
    Ok(Principal {
        kind,
        id: found.principal_id,
        tenant: TenantContext::new(path),
        access,
        token_hash,
    })
}

/// Takes one request from the tenant's budget, or returns a 429 problem with
/// the number of seconds until the next request would be accepted.
fn check_rate_limit(state: &AppState, principal: &Principal) -> Result<(), ApiError> {
    check_tenant_budget(state, principal.tenant.path())
}

/// Takes one request from the budget of `tenant`; sign-in attempts share it,
/// so password guessing against a tenant is bounded by the same rate.
pub(crate) fn check_tenant_budget(state: &AppState, tenant: &TenantPath) -> Result<(), ApiError> {
    check_budget(state, tenant.as_str().to_owned())
}

/// Takes one sign-in attempt from the budget of the client address, so
/// attempts spread over many tenant names are bounded too.
pub(crate) fn check_sign_in_budget(state: &AppState, ip: IpAddr) -> Result<(), ApiError> {
    check_budget(state, format!("sign-in:{ip}"))
}

fn check_budget(state: &AppState, key: String) -> Result<(), ApiError> {
    match state.limiter().check_key(&key) {
        Ok(()) => Ok(()),
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            tracing::debug!(tenant.path = %key, retry_after_secs, "rate limit reached");
            let budget = if key.starts_with("sign-in:") {
                "sign_in"
            } else {
                "tenant"
            };
            crate::metrics::rate_limited(budget);
            Err(ApiError::RateLimited {
                retry_after_secs: retry_after_secs.max(1),
            })
        }
    }
}
