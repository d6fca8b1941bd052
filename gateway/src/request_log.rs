//! One span and one log line per request, with the request id.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::audited::{AuditFlag, REQUEST_ID_HEADER};
use crate::problem::ErrorCause;

/// Runs the request inside an `http.request` span and logs its outcome:
/// `error` with the cause for a 5xx response, `debug` otherwise. A mutating
/// request that succeeds without committing an [`AuditedTx`](crate::AuditedTx)
/// is logged as an error too.
pub(crate) async fn log_request(mut request: Request, next: Next) -> Response {
    let audit_flag = AuditFlag::default();
    request.extensions_mut().insert(audit_flag.clone());
    let mutating = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let method = request.method().clone();
    let span = tracing::info_span!(
        "http.request",
        http.method = %request.method(),
        http.route = %route,
        request.id = %request_id,
    );
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;

    let _entered = span.enter();
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    let duration_ms = elapsed.as_millis() as u64;
    crate::metrics::request_served(method.as_str(), &route, status, elapsed.as_secs_f64());
    match response.extensions().get::<ErrorCause>() {
        Some(ErrorCause(cause)) => {
            tracing::error!(http.status = status, duration_ms, error = %cause, "request failed");
        }
        None if response.status().is_server_error() => {
            tracing::warn!(http.status = status, duration_ms, "request failed");
        }
        None => tracing::debug!(http.status = status, duration_ms, "request served"),
    }
    if mutating && response.status().is_success() && !audit_flag.is_set() {
        tracing::error!(
            http.status = status,
            "mutating request succeeded without committing an audit row; route it through AuditedTx"
        );
    }
    response
}
