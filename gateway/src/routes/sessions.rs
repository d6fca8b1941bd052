//! Signing in and out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::{TenantContext, TenantPath};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audited::{AnyAccess, AuditedTx, RequestMeta};
use crate::auth::{self, PrincipalKind};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Credentials of a sign-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignIn {
    /// Slug path of the user's tenant (`acme`, `acme/emea`).
    pub(crate) tenant: String,
    /// The user's e-mail address.
    pub(crate) email: String,
    /// The user's password.
    pub(crate) password: String,
}

/// A new session; the token is shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SessionCreated {
    /// Bearer token for `Authorization: Bearer <token>`.
    pub(crate) token: String,
    /// Session id.
    pub(crate) session_id: Uuid,
    /// Signed-in user.
    pub(crate) user_id: Uuid,
    /// Role of the user (`admin`, `member`, `auditor`).
    pub(crate) role: String,
    /// When the token stops working.
    pub(crate) expires_at: DateTime<Utc>,
}

fn rejected_credentials() -> ApiError {
    ApiError::Unauthorized(
        "unknown tenant, e-mail address or password; check all three and try again".to_owned(),
    )
}

/// Signs a user in and returns a session token bound to the user's tenant.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "auth", request_body = SignIn,
    responses(
        (status = 201, description = "Signed in", body = SessionCreated),
        (status = 401, description = "Credentials rejected", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests for the tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<(StatusCode, Json<SessionCreated>), ApiError> {
    let path = TenantPath::from_slug_path(&body.tenant)
        .map_err(|error| ApiError::invalid("tenant", error.to_string()))?;
    if let Some(ip) = meta.ip {
        auth::check_sign_in_budget(&state, ip)?;
    }
    auth::check_tenant_budget(&state, &path)?;
    let mut tx = AuditedTx::begin_unauthenticated(&state, &TenantContext::new(path), meta).await?;
    let user = store::users::find_for_sign_in(tx.tx(), &body.email).await?;
    let password = body.password.clone();
    let stored_hash = user.as_ref().map_or_else(
        || auth::decoy_hash().to_owned(),
        |user| user.password_hash.clone(),
    );
    let matches =
        tokio::task::spawn_blocking(move || auth::verify_password(&password, &stored_hash))
            .await
            .map_err(|error| ApiError::Internal(format!("password check panicked: {error}")))?;
    let Some(user) = user.filter(|_| matches) else {
        return Err(rejected_credentials());
    };

    let (token, token_hash) = auth::generate_token();
    let ttl = chrono::Duration::from_std(state.config().session_ttl)
        .map_err(|error| ApiError::Internal(format!("session lifetime out of range: {error}")))?;
    let session = store::sessions::create(tx.tx(), user.id, &token_hash, Utc::now() + ttl).await?;
    tx.set_actor(PrincipalKind::User.as_str(), user.id.to_string());
    let diff = serde_json::json!({"user_id": user.id, "expires_at": session.expires_at});
    tx.record("session", &session.id.to_string(), "session.create", diff)
        .await?;
    tx.commit().await?;

    let created = SessionCreated {
        token,
        session_id: session.id,
        user_id: user.id,
        role: user.role,
        expires_at: session.expires_at,
    };
    Ok((StatusCode::CREATED, Json(created)))
}

/// Signs out: revokes the session whose token authenticated this request.
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out; the token no longer works"),
        (status = 401, description = "Missing, expired or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The token is an API token, not a session", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn sign_out(mut tx: AuditedTx<AnyAccess>) -> Result<StatusCode, ApiError> {
    let principal = tx
        .principal()
        .cloned()
        .ok_or_else(|| ApiError::Internal("sign-out without a principal".to_owned()))?;
    if principal.kind != PrincipalKind::User {
        return Err(ApiError::invalid(
            "Authorization",
            "the bearer token is an API token, not a session; revoke it with DELETE \
             /api/v1/tokens/{id}",
        ));
    }
    let session = store::sessions::revoke(tx.tx(), &principal.token_hash)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the session is already revoked".to_owned()))?;
    let diff = serde_json::json!({"user_id": session.user_id});
    tx.record("session", &session.id.to_string(), "session.revoke", diff)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
