//! `GET /metrics` renders the gateway's request metrics in the Prometheus
//! text format, behind the operator's metrics token when one is set.

use std::sync::OnceLock;

use axum::http::{Method, StatusCode};
use gateway::GatewayConfig;
use metrics_exporter_prometheus::PrometheusHandle;

use super::harness::{TestApp, examples_root};

/// Returns the handle of the process-wide recorder, installed on first use
/// because the `metrics` facade takes one recorder per process.
fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| gateway::install_metrics_recorder().unwrap())
        .clone()
}

async fn app_with_metrics(metrics_token: Option<&str>) -> TestApp {
    TestApp::with_config(GatewayConfig {
        scan_root: Some(examples_root()),
        metrics: Some(recorder()),
        metrics_token: metrics_token.map(str::to_owned),
        ..GatewayConfig::default()
    })
    .await
}

#[tokio::test]
async fn metrics_show_requests_by_route_and_status() {
    let app = app_with_metrics(None).await;
    let token = app.token("metrics-acme", "read").await;
    let system_id = uuid::Uuid::new_v4();
    let missing = app
        .call(
            Method::GET,
            &format!("/api/v1/systems/{system_id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let response = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert!(
        response
            .header("content-type")
            .is_some_and(|value| value.starts_with("text/plain; version=0.0.4"))
    );
    let text = response.text();
    assert!(
        text.contains(
            r#"secruna_http_requests_total{method="GET",route="/api/v1/systems/{id}",status="404"}"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"secruna_http_request_duration_seconds_bucket{method="GET",route="/api/v1/systems/{id}",status="404",le="0.001"}"#
        ),
        "{text}"
    );
    assert!(
        text.contains("# TYPE secruna_actors_running gauge"),
        "{text}"
    );
    assert!(
        !text.contains("metrics-acme"),
        "a tenant path leaked into a label"
    );
    assert!(
        !text.contains(&system_id.to_string()),
        "an id leaked into a label"
    );
}

#[tokio::test]
async fn metrics_count_rate_limit_rejections() {
    let app = TestApp::with_config(GatewayConfig {
        metrics: Some(recorder()),
        rate_per_second: std::num::NonZeroU32::MIN,
        rate_burst: std::num::NonZeroU32::MIN,
        ..GatewayConfig::default()
    })
    .await;
    let token = app.token("metrics-busy", "read").await;
    for _ in 0..3 {
        app.call(Method::GET, "/api/v1/systems", Some(&token), None)
            .await;
    }
    let text = app.call(Method::GET, "/metrics", None, None).await.text();
    assert!(
        text.lines()
            .any(|line| line.starts_with(r#"secruna_rate_limited_total{budget="tenant"}"#)),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_token_is_required_when_set() {
    let app = app_with_metrics(Some("scrape-secret")).await;
    let anonymous = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let tenant_token = app.token("metrics-acme", "admin").await;
    let with_tenant_token = app
        .call(Method::GET, "/metrics", Some(&tenant_token), None)
        .await;
    assert_eq!(with_tenant_token.status, StatusCode::UNAUTHORIZED);
    let scraper = app
        .call(Method::GET, "/metrics", Some("scrape-secret"), None)
        .await;
    assert_eq!(scraper.status, StatusCode::OK);
}

#[tokio::test]
async fn metrics_route_is_absent_without_recorder() {
    let app = TestApp::new().await;
    let response = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
}
