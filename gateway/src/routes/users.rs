//! Users of the tenant: create and list (admins only).

use axum::Json;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audited::{AdminAccess, AuditedTx, ReadTx};
use crate::auth::{self, Access};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Maximum password length; argon2 accepts any length, so this bounds the
/// hashing work per request.
const MAX_PASSWORD_LEN: usize = 1024;

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUserBody {
    /// E-mail address used to sign in.
    pub(crate) email: String,
    /// Password, 12 to 1024 characters.
    pub(crate) password: String,
    /// `admin`, `member` or `auditor`.
    pub(crate) role: String,
}

/// A user, without the password hash.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserView {
    /// User id.
    pub(crate) id: Uuid,
    /// Tenant path of the user.
    pub(crate) tenant_path: String,
    /// E-mail address.
    pub(crate) email: String,
    /// `admin`, `member` or `auditor`.
    pub(crate) role: String,
    /// Creation time.
    pub(crate) created_at: DateTime<Utc>,
    /// When the user was disabled, `null` while enabled.
    pub(crate) disabled_at: Option<DateTime<Utc>>,
}

impl From<store::users::UserRow> for UserView {
    fn from(row: store::users::UserRow) -> Self {
        UserView {
            id: row.id,
            tenant_path: row.tenant_path,
            email: row.email,
            role: row.role,
            created_at: row.created_at,
            disabled_at: row.disabled_at,
        }
    }
}

/// Checks the fields of a new user; shared with the command line.
pub fn validate_new_user(email: &str, password: &str, role: &str) -> Result<(), ApiError> {
    let at = email.find('@');
    if !matches!(at, Some(index) if index > 0 && index + 1 < email.len()) || email.len() > 320 {
        return Err(ApiError::invalid(
            "email",
            format!("`{email}` is not an e-mail address; use the form name@example.org"),
        ));
    }
    let password_len = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&password_len) {
        return Err(ApiError::invalid(
            "password",
            format!("password must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"),
        ));
    }
    if !matches!(role, "admin" | "member" | "auditor") {
        return Err(ApiError::invalid(
            "role",
            format!("role `{role}` is unknown; use admin, member or auditor"),
        ));
    }
    Ok(())
}

/// Creates a user in the caller's tenant.
#[utoipa::path(post, path = "/api/v1/users", tag = "auth", request_body = NewUserBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "User created", body = UserView),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The e-mail address is taken in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create(
    mut tx: AuditedTx<AdminAccess>,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    validate_new_user(&body.email, &body.password, &body.role)?;
    let password = body.password;
    let password_hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|error| ApiError::Internal(format!("password hashing panicked: {error}")))??;
    let new_user = store::users::NewUser {
        email: body.email,
        password_hash,
        role: body.role,
    };
    let row = match store::users::create(tx.tx(), &new_user).await {
        Ok(row) => row,
        Err(store::Error::Duplicate { constraint, .. })
            if constraint == "users_tenant_email_key" =>
        {
            return Err(ApiError::Conflict(format!(
                "a user with e-mail address `{}` exists in this tenant; sign in as that user or \
                 pick another address",
                new_user.email
            )));
        }
        Err(error) => return Err(error.into()),
    };
    let diff = serde_json::json!({"email": row.email, "role": row.role});
    tx.record("user", &row.id.to_string(), "user.create", diff)
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Lists the users of the tenant and its subsidiaries.
#[utoipa::path(get, path = "/api/v1/users", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "Users, by tenant and e-mail address", body = Vec<UserView>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list(mut read: ReadTx) -> Result<Json<Vec<UserView>>, ApiError> {
    read.principal.require(Access::Admin)?;
    let rows = store::users::list(&mut read.tx).await?;
    Ok(Json(rows.into_iter().map(UserView::from).collect()))
}
