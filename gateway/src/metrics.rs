//! Prometheus metrics of the gateway and the `/metrics` route that renders
//! them together with the actor tree's.
//!
//! Labels carry route templates (`/api/v1/systems/{id}`), methods and status
//! codes only. Tenant paths, ids and user data never become label values, so
//! a scrape shows nothing about any tenant.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::problem::ApiError;
use crate::state::AppState;

/// Path of the Prometheus text exposition.
pub const METRICS_PATH: &str = "/metrics";

/// HTTP requests served, labelled by `method`, `route` (the matched route
/// template, or `unmatched`) and `status`.
pub const HTTP_REQUESTS: &str = "secruna_http_requests_total";
/// Time to serve one HTTP request, in seconds, with the labels of
/// [`HTTP_REQUESTS`].
pub const HTTP_REQUEST_DURATION: &str = "secruna_http_request_duration_seconds";
/// Requests rejected with 429, labelled by `budget` (`tenant` or `sign_in`).
pub const RATE_LIMITED: &str = "secruna_rate_limited_total";

/// Webhook delivery attempts, labelled by `next` (`delivered`, `retry` or
/// `failed`, the event's state after the attempt).
pub const WEBHOOK_ATTEMPTS: &str = "secruna_webhook_attempts_total";

/// Bucket bounds of the latency histograms, in seconds: 1 ms to 30 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Errors of installing the metrics recorder.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The exporter rejected its configuration, or a recorder is already installed.
    #[error("installing the Prometheus recorder failed: {0}")]
    Install(#[from] metrics_exporter_prometheus::BuildError),
}

/// Installs the process-wide Prometheus recorder, with histogram buckets for
/// every `*_duration_seconds` metric, describes the gateway's and the actor
/// tree's metrics, and returns the handle that renders them.
///
/// Call it once per process; a second call fails because the `metrics`
/// facade accepts one recorder.
pub fn install_recorder() -> Result<PrometheusHandle, MetricsError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("duration_seconds".to_owned()),
            &LATENCY_BUCKETS,
        )?
        .install_recorder()?;
    describe();
    coordinator::metrics::describe();
    Ok(handle)
}

/// Registers a description for every gateway metric.
pub(crate) fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests served, by method, route and status"
    );
    metrics::describe_histogram!(
        HTTP_REQUEST_DURATION,
        metrics::Unit::Seconds,
        "time to serve one HTTP request, by method, route and status"
    );
    metrics::describe_counter!(RATE_LIMITED, "requests rejected by a rate limit, by budget");
    metrics::describe_counter!(
        WEBHOOK_ATTEMPTS,
        "webhook delivery attempts, by the event's next state"
    );
}

/// Counts one served request and records its duration.
pub(crate) fn request_served(method: &str, route: &str, status: u16, seconds: f64) {
    let labels = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION, &labels).record(seconds);
}

/// Counts one request rejected by the rate limit of `budget`.
pub(crate) fn rate_limited(budget: &'static str) {
    metrics::counter!(RATE_LIMITED, "budget" => budget).increment(1);
}

/// Counts one webhook delivery attempt.
pub(crate) fn webhook_attempt(next: store::webhooks::NextStep) {
    let label = match next {
        store::webhooks::NextStep::Delivered => "delivered",
        store::webhooks::NextStep::RetryAfter(_) => "retry",
        store::webhooks::NextStep::Failed => "failed",
    };
    metrics::counter!(WEBHOOK_ATTEMPTS, "next" => label).increment(1);
}

/// Renders every metric in the Prometheus text format.
///
/// When the operator set a metrics token, the scrape must send it as
/// `Authorization: Bearer <token>`; tenant API tokens are not accepted here.
/// Without a recorder (a gateway embedded in tests, say) the route is 404.
pub(crate) async fn render(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let config = state.config();
    let Some(handle) = config.metrics.as_ref() else {
        return ApiError::NoRoute(METRICS_PATH.to_owned()).into_response();
    };
    if let Some(expected) = config.metrics_token.as_deref() {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        if !presented.is_some_and(|token| constant_time_eq(token.as_bytes(), expected.as_bytes())) {
            return ApiError::Unauthorized(
                "the metrics endpoint requires the operator's metrics token as \
                 `Authorization: Bearer <token>`"
                    .to_owned(),
            )
            .into_response();
        }
    }
    let mut response = (StatusCode::OK, handle.render()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Compares two byte strings in time that depends on their lengths only.
fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}
