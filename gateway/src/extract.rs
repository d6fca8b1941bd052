//! Body, query and path extractors whose rejections are problem details
//! naming the field at fault.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::Uri;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;
use crate::state::AppState;

/// A JSON request body.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection, state.config().body_limit_bytes)),
        }
    }
}

fn json_rejection(rejection: JsonRejection, limit_bytes: usize) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(error) => {
            let text = error.body_text();
            ApiError::Invalid {
                field: json_error_field(&text),
                detail: format!("{text}; see the request schema in /api/v1/openapi.json"),
            }
        }
        JsonRejection::JsonSyntaxError(error) => {
            ApiError::BadRequest(format!("{}; send one JSON object", error.body_text()))
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
        JsonRejection::BytesRejection(error) => {
            if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge { limit_bytes }
            } else {
                ApiError::BadRequest(format!("reading the body failed: {}", error.body_text()))
            }
        }
        other => ApiError::BadRequest(other.body_text()),
    }
}

/// Finds the field in axum's JSON data error text, which reads
/// `Failed to deserialize the JSON body into the target type: <path>: <message>`
/// for a bad value and names the field in backquotes for a missing or unknown one.
fn json_error_field(text: &str) -> Option<String> {
    let message = text
        .split_once("target type: ")
        .map_or(text, |(_, rest)| rest);
    for marker in ["missing field `", "unknown field `"] {
        if let Some((_, rest)) = message.split_once(marker) {
            return rest.split_once('`').map(|(field, _)| field.to_owned());
        }
    }
    let (path, _) = message.split_once(": ")?;
    let is_path = !path.is_empty()
        && path
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '[' | ']'));
    is_path.then(|| path.to_owned())
}

/// Query parameters.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(query_rejection::<T>(parts.uri.query(), rejection)),
        }
    }
}

/// Names the parameter at fault by parsing each `key=value` pair of the
/// query on its own, which works because every query type's fields are
/// optional. Without a culprit the problem carries the whole message.
fn query_rejection<T: DeserializeOwned>(
    query: Option<&str>,
    rejection: QueryRejection,
) -> ApiError {
    let hint = "the OpenAPI document lists each query parameter and its type";
    for pair in query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
    {
        let Ok(uri) = format!("/?{pair}").parse::<Uri>() else {
            continue;
        };
        if let Err(pair_rejection) = axum::extract::Query::<T>::try_from_uri(&uri) {
            let key = pair.split_once('=').map_or(pair, |(key, _)| key);
            return ApiError::invalid(
                key,
                format!(
                    "query parameter `{key}`: {}; {hint}",
                    pair_rejection.body_text()
                ),
            );
        }
    }
    ApiError::Invalid {
        field: None,
        detail: format!("{}; {hint}", rejection.body_text()),
    }
}

/// Path parameters.
#[derive(Debug)]
pub(crate) struct ApiPath<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(path_rejection(rejection)),
        }
    }
}

fn path_rejection(rejection: PathRejection) -> ApiError {
    ApiError::invalid(
        "id",
        format!("{}; ids in paths are UUIDs", rejection.body_text()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_error_field_reads_path_and_backquoted_names() {
        let prefix = "Failed to deserialize the JSON body into the target type: ";
        let cases = [
            (
                "frameworks: invalid type: string \"x\", expected a sequence at line 1 column 20",
                Some("frameworks"),
            ),
            (
                "frameworks[1]: invalid type: integer `3`, expected a string at line 1 column 9",
                Some("frameworks[1]"),
            ),
            ("missing field `path` at line 1 column 2", Some("path")),
            (
                "unknown field `extra`, expected `frameworks` at line 1 column 9",
                Some("extra"),
            ),
            (
                "invalid type: integer `1`, expected struct Body at line 1 column 1",
                None,
            ),
        ];
        for (message, field) in cases {
            let text = format!("{prefix}{message}");
            assert_eq!(json_error_field(&text).as_deref(), field, "{message}");
        }
    }
}
