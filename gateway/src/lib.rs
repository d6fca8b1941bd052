//! REST gateway for the dashboard API. For now it serves the liveness endpoint that
//! process supervisors and load balancers poll.

use axum::Router;
use axum::routing::get;

/// Builds the gateway's router.
pub fn router() -> Router {
    Router::new().route("/healthz", get(healthz))
}

/// Reports that the process is up and serving HTTP.
async fn healthz() -> &'static str {
    "ok"
}

/// Serves the router on `listener` until `shutdown` completes, finishing in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router()).with_graceful_shutdown(shutdown).await
}
