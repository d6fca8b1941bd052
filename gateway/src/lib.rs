//! REST gateway of Secruna: sign-in, API tokens, the inventory, scans and the
//! audit trail over HTTP, with errors as RFC 9457 problem details and an
//! OpenAPI 3.1 document at `/api/v1/openapi.json`.
//!
//! Every request runs in a transaction of the tenant its bearer token was
//! bound to when issued ([`Principal`]). Reads get a read-only transaction,
//! and changes get an [`AuditedTx`] that commits only with an audit row.

mod audited;
mod auth;
mod bootstrap;
mod csv;
mod extract;
mod metrics;
mod openapi;
mod pagination;
mod problem;
mod request_log;
mod routes;
mod secrets;
mod state;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

pub use audited::{
    AdminAccess, AnyAccess, AuditedTx, REQUEST_ID_HEADER, ReadTx, RequestMeta, RequiredAccess,
    WriteAccess,
};
pub use auth::{
    Access, Principal, PrincipalKind, TOKEN_PREFIX, generate_token, hash_password, hash_token,
    verify_password,
};
pub use bootstrap::{BootstrapError, CreatedToken, create_api_token, create_user};
pub use metrics::{
    HTTP_REQUEST_DURATION, HTTP_REQUESTS, METRICS_PATH, MetricsError, RATE_LIMITED,
    WEBHOOK_ATTEMPTS, install_recorder as install_metrics_recorder,
};
pub use pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use problem::{ApiError, PROBLEM_JSON, Problem};
pub use routes::{MIN_PASSWORD_LEN, validate_new_user};
pub use secrets::{SECRET_KEY_LEN, SecretError, SecretKey};
pub use state::{
    AppState, DEFAULT_BODY_LIMIT_BYTES, DEFAULT_RATE_BURST, DEFAULT_RATE_PER_SECOND,
    DEFAULT_SESSION_TTL, GatewayConfig,
};
pub use webhooks::{
    AllowedNetwork, EVENT_ID_HEADER, EVENT_TYPE_HEADER, EVENT_TYPES, InvalidNetwork,
    SIGNATURE_HEADER, TEST_EVENT, TIMESTAMP_HEADER, dispatch_due as dispatch_due_webhooks,
    sign as sign_webhook,
};

/// Path of the OpenAPI document.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// Returns the OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, document) = routes::api_router().split_for_parts();
    document
}

/// Builds the gateway's router with its middleware: request ids (a
/// `x-request-id` header is set when the client sends none, and echoed on the
/// response), the body size limit, and problem-details responses for unknown
/// routes and methods.
pub fn router(state: AppState) -> Router {
    let (routes, document) = routes::api_router().split_for_parts();
    let document = Arc::new(document);
    let body_limit = state.config().body_limit_bytes;
    routes
        .route(
            OPENAPI_PATH,
            get(move || {
                let document = document.clone();
                async move { axum::Json(document.as_ref().clone()) }
            }),
        )
        .route(METRICS_PATH, get(metrics::render))
        .fallback(problem::no_route)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(axum::middleware::from_fn(request_log::log_request))
                .layer(DefaultBodyLimit::max(body_limit)),
        )
        .with_state(state)
}

/// Serves the gateway on `listener` until `shutdown` completes, then waits
/// for in-flight requests to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let pruning = tokio::spawn(prune_rate_limits(state.clone()));
    let interval = state.config().webhook_poll_interval;
    let dispatcher = tokio::spawn(webhooks::run_dispatcher(state.clone(), interval));
    let service = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    pruning.abort();
    let _ = pruning.await;
    dispatcher.abort();
    let _ = dispatcher.await;
    served
}

/// Interval between prunings of idle rate-limiter keys.
const RATE_LIMIT_PRUNE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

async fn prune_rate_limits(state: AppState) {
    let mut interval = tokio::time::interval(RATE_LIMIT_PRUNE_INTERVAL);
    loop {
        interval.tick().await;
        state.forget_idle_rate_limits();
    }
}
