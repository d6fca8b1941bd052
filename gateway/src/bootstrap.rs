//! Creating the first users and API tokens from the command line, before any
//! bearer token exists to call the API with.

use chrono::Utc;
use store::audit::AuditEntry;
use store::{Store, TenantContext, TenantPath};

use crate::auth::{self, Access};
use crate::problem::ApiError;

/// Maximum lifetime of a token created from the command line, in days.
const MAX_TOKEN_DAYS: u32 = 3650;

/// Errors of the bootstrap commands.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// A value given on the command line is invalid.
    #[error("{0}")]
    Invalid(String),
    /// The database rejected the change.
    #[error(transparent)]
    Store(#[from] store::Error),
}

impl From<ApiError> for BootstrapError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Invalid { field, detail } => match field {
                Some(field) => BootstrapError::Invalid(format!("{field}: {detail}")),
                None => BootstrapError::Invalid(detail),
            },
            other => BootstrapError::Invalid(other.to_string()),
        }
    }
}

/// A token created from the command line.
#[derive(Debug)]
pub struct CreatedToken {
    /// The secret, shown once.
    pub token: String,
    /// The stored token.
    pub row: store::api_tokens::ApiTokenRow,
}

/// Creates the tenant `tenant_slug` if missing and an API token for it, with
/// an audit row naming `actor`.
pub async fn create_api_token(
    store: &Store,
    tenant_slug: &str,
    name: &str,
    scope: &str,
    expires_in_days: Option<u32>,
    actor: &str,
) -> Result<CreatedToken, BootstrapError> {
    if Access::parse_scope(scope).is_none() {
        return Err(BootstrapError::Invalid(format!(
            "scope `{scope}` is unknown; use read, write or admin"
        )));
    }
    let expires_at = match expires_in_days {
        None => None,
        Some(days) if (1..=MAX_TOKEN_DAYS).contains(&days) => {
            Some(Utc::now() + chrono::Duration::days(i64::from(days)))
        }
        Some(days) => {
            return Err(BootstrapError::Invalid(format!(
                "--expires-in-days {days} is out of range; pass 1 to {MAX_TOKEN_DAYS}"
            )));
        }
    };
    let (token, token_hash) = auth::generate_token();
    let mut tx = begin_for_tenant(store, tenant_slug).await?;
    let new_token = store::api_tokens::NewApiToken {
        name: name.to_owned(),
        scope: scope.to_owned(),
        token_hash,
        created_by: actor.to_owned(),
        expires_at,
    };
    let row = store::api_tokens::create(&mut tx, &new_token).await?;
    let diff =
        serde_json::json!({"name": row.name, "scope": row.scope, "expires_at": row.expires_at});
    store::audit::append(
        &mut tx,
        cli_entry(
            actor,
            "api_token",
            &row.id.to_string(),
            "api_token.create",
            diff,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedToken { token, row })
}

/// Creates the tenant `tenant_slug` if missing and a user in it, with an
/// audit row naming `actor`.
pub async fn create_user(
    store: &Store,
    tenant_slug: &str,
    email: &str,
    password: &str,
    role: &str,
    actor: &str,
) -> Result<store::users::UserRow, BootstrapError> {
    crate::routes::validate_new_user(email, password, role)?;
    let password_hash = auth::hash_password(password)?;
    let mut tx = begin_for_tenant(store, tenant_slug).await?;
    let new_user = store::users::NewUser {
        email: email.to_owned(),
        password_hash,
        role: role.to_owned(),
    };
    let row = store::users::create(&mut tx, &new_user).await?;
    let diff = serde_json::json!({"email": row.email, "role": row.role});
    store::audit::append(
        &mut tx,
        cli_entry(actor, "user", &row.id.to_string(), "user.create", diff),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

async fn begin_for_tenant(
    store: &Store,
    tenant_slug: &str,
) -> Result<store::TenantTx, BootstrapError> {
    let path = TenantPath::from_slug_path(tenant_slug)
        .map_err(|error| BootstrapError::Invalid(format!("--tenant: {error}")))?;
    let mut tx = store.begin(&TenantContext::new(path)).await?;
    store::tenants::ensure(&mut tx, tenant_slug).await?;
    Ok(tx)
}

fn cli_entry(
    actor: &str,
    entity_type: &str,
    entity_id: &str,
    action: &str,
    diff: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        actor_type: "cli".to_owned(),
        actor_id: actor.to_owned(),
        entity_type: entity_type.to_owned(),
        entity_id: entity_id.to_owned(),
        action: action.to_owned(),
        diff,
        ip: None,
        user_agent: None,
        request_id: None,
    }
}
