//! Liveness and readiness probes; neither needs a token.

use axum::extract::State;

use crate::problem::ApiError;
use crate::state::AppState;

/// Reports that the process is up and serving HTTP.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process serves HTTP", body = String)))]
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// Reports whether the database responds to a trivial query.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "The database responds", body = String),
        (status = 503, description = "The database does not answer", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    match state.store().ping().await {
        Ok(()) => Ok("ready"),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            Err(ApiError::Unavailable)
        }
    }
}
