//! Errors of the REST API, returned as RFC 9457 problem details
//! (`application/problem+json`).
//!
//! A response names the failing field and the fix where there is one. It
//! never carries SQL, a database message or a stack trace. The cause of a
//! server-side fault rides in the response extensions, the request log
//! middleware logs it once, and the client sees a generic detail.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error returned to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request carries no usable bearer token.
    #[error("{0}")]
    Unauthorized(String),
    /// The principal may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The entity does not exist in the caller's tenant.
    #[error("{entity} `{id}` not found")]
    NotFound {
        /// Kind of entity (`system`, `scan`).
        entity: &'static str,
        /// Id as requested.
        id: String,
    },
    /// No route matches the path.
    #[error("no endpoint at `{0}`; the OpenAPI document at /api/v1/openapi.json lists them")]
    NoRoute(String),
    /// The route exists but not for this method.
    #[error("method not allowed on this endpoint; the OpenAPI document lists the allowed ones")]
    MethodNotAllowed,
    /// A request value is invalid.
    #[error("{detail}")]
    Invalid {
        /// Field, query parameter or path segment at fault, when known.
        field: Option<String>,
        /// Fault and its fix.
        detail: String,
    },
    /// The body is not JSON at all.
    #[error("{0}")]
    BadRequest(String),
    /// The body is not declared as JSON.
    #[error("the body must be JSON; send `Content-Type: application/json`")]
    UnsupportedMediaType,
    /// The body exceeds the size limit.
    #[error("the request body is larger than the limit of {limit_bytes} bytes")]
    PayloadTooLarge {
        /// Limit in bytes.
        limit_bytes: usize,
    },
    /// The change conflicts with existing data.
    #[error("{0}")]
    Conflict(String),
    /// The tenant's request rate is over its limit.
    #[error("too many requests for this tenant; retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a request will be accepted again.
        retry_after_secs: u64,
    },
    /// The database is not reachable.
    #[error("the database is not reachable")]
    Unavailable,
    /// A server-side fault; the cause is logged, never returned.
    #[error("internal error")]
    Internal(String),
}

/// Body of an `application/problem+json` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// URI naming the kind of problem.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Fault in this request and its fix.
    pub detail: String,
    /// Request field, query parameter or path segment at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    /// Builds a validation error on `field`.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            field: Some(field.into()),
            detail: detail.into(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } | ApiError::NoRoute(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound { .. } => "not-found",
            ApiError::NoRoute(_) => "no-route",
            ApiError::MethodNotAllowed => "method-not-allowed",
            ApiError::Invalid { .. } => "invalid-request",
            ApiError::BadRequest(_) => "malformed-body",
            ApiError::UnsupportedMediaType => "unsupported-media-type",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::Conflict(_) => "conflict",
            ApiError::RateLimited { .. } => "rate-limited",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal(_) => "internal-error",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Internal(_) => {
                "internal error; the x-request-id response header ties this request to the \
                 server log"
                    .to_owned()
            }
            other => other.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let cause = match &self {
            ApiError::Internal(cause) => Some(ErrorCause(cause.clone())),
            _ => None,
        };
        let problem = Problem {
            problem_type: format!("urn:secruna:problem:{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            field: match &self {
                ApiError::Invalid { field, .. } => field.clone(),
                _ => None,
            },
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match self {
            ApiError::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::RateLimited { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            _ => {}
        }
        if let Some(cause) = cause {
            response.extensions_mut().insert(cause);
        }
        response
    }
}

/// Cause of a server-side fault, carried in the response extensions so the
/// request log middleware logs it once, inside the request's span.
#[derive(Debug, Clone)]
pub(crate) struct ErrorCause(pub(crate) String);

impl From<store::Error> for ApiError {
    fn from(error: store::Error) -> Self {
        match error {
            store::Error::NotFound { entity, id, .. } => ApiError::NotFound { entity, id },
            store::Error::UnknownFrameworks { slugs } => ApiError::invalid(
                "frameworks",
                format!(
                    "unknown framework {slugs:?}; GET /api/v1/frameworks lists the slugs you \
                     can subscribe to"
                ),
            ),
            store::Error::Duplicate { constraint, .. } => {
                ApiError::Conflict(format!("an entry with the same key exists ({constraint})"))
            }
            store::Error::InvalidValue { constraint } => ApiError::Invalid {
                field: None,
                detail: format!("a value was rejected by {constraint}"),
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Returns a 404 problem for requests that match no route.
pub(crate) async fn no_route(uri: axum::http::Uri) -> ApiError {
    ApiError::NoRoute(uri.path().to_owned())
}

/// Returns a 405 problem for a method the route does not serve.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
