//! A gateway on a fresh database, called in-process through its router.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use agents::SourceRegistry;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use coordinator::{Coordinator, CoordinatorConfig};
use gateway::{AppState, GatewayConfig};
use http_body_util::BodyExt;
use serde_json::Value;
use store::testing::TestDb;
use tower::ServiceExt;

/// Client address every test request comes from.
pub(crate) const CLIENT_ADDRESS: &str = "127.0.0.7:40000";

/// Password of users created by [`TestApp::user`].
pub(crate) const PASSWORD: &str = "correct horse battery";

/// A gateway with its database and actor tree.
pub(crate) struct TestApp {
    pub(crate) db: TestDb,
    pub(crate) router: Router,
    pub(crate) state: AppState,
}

/// A response with its body read.
#[derive(Debug)]
pub(crate) struct TestResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl TestResponse {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("body is not JSON ({error}): {}", self.text()))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Returns the repository's example projects folder, the scan root of test
/// gateways.
pub(crate) fn examples_root() -> PathBuf {
    std::fs::canonicalize(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples")).unwrap()
}

/// The binary's connector factories, except AWS, which only the binary links.
pub(crate) fn connector_sources() -> SourceRegistry {
    use agents::net::{HttpClient, RateLimits, RetryPolicy};
    let http = Arc::new(HttpClient::new(
        RateLimits::with_provider_defaults(),
        RetryPolicy::default(),
    ));
    let mut sources = SourceRegistry::new();
    sources.register("inventory", Arc::new(agents::inventory::InventoryFactory));
    sources.register(
        "azure",
        Arc::new(agents::azure::AzureFactory::new(http.clone())),
    );
    sources.register("gcp", Arc::new(agents::gcp::GcpFactory::new(http.clone())));
    sources.register(
        "github",
        Arc::new(agents::github::GitHubFactory::new(HttpClient::clone(&http))),
    );
    sources
}

impl TestApp {
    /// Starts a gateway whose scan root is the example projects folder.
    pub(crate) async fn new() -> TestApp {
        TestApp::with_config(GatewayConfig {
            scan_root: Some(examples_root()),
            ..GatewayConfig::default()
        })
        .await
    }

    pub(crate) async fn with_config(config: GatewayConfig) -> TestApp {
        TestApp::with_sources(config, connector_sources()).await
    }

    /// Starts a gateway whose coordinator builds connectors with `sources`.
    pub(crate) async fn with_sources(config: GatewayConfig, sources: SourceRegistry) -> TestApp {
        let db = TestDb::new().await;
        let rule_book = Arc::new(rule_book::RuleBook::embedded().unwrap());
        let coordinator_config =
            CoordinatorConfig::new(db.store.clone(), rule_book.clone(), sources);
        let coordinator = Arc::new(Coordinator::spawn(coordinator_config).await.unwrap());
        let state = AppState::new(db.store.clone(), coordinator, rule_book, config);
        TestApp {
            router: gateway::router(state.clone()),
            state,
            db,
        }
    }

    /// Creates an API token with `scope` for `tenant` and returns its secret.
    pub(crate) async fn token(&self, tenant: &str, scope: &str) -> String {
        gateway::create_api_token(&self.db.store, tenant, "test", scope, None, "cli:test")
            .await
            .unwrap()
            .token
    }

    /// Creates a user and signs in, returning the session token.
    pub(crate) async fn session(&self, tenant: &str, email: &str, role: &str) -> String {
        gateway::create_user(&self.db.store, tenant, email, PASSWORD, role, "cli:test")
            .await
            .unwrap();
        let body = serde_json::json!({"tenant": tenant, "email": email, "password": PASSWORD});
        let response = self
            .call(Method::POST, "/api/v1/sessions", None, Some(body))
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        response.json()["token"].as_str().unwrap().to_owned()
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub(crate) async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    /// Sends a prepared request from [`CLIENT_ADDRESS`].
    pub(crate) async fn send(&self, mut request: Request<Body>) -> TestResponse {
        let address: SocketAddr = CLIENT_ADDRESS.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(address));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// Scans the example project `name` for the token's tenant, waits until the scan
    /// has finished, and returns `{"scan": <the scan>, "scopes": [...], "system_ids": [...]}`.
    pub(crate) async fn scan_example(&self, token: &str, name: &str) -> Value {
        let body = serde_json::json!({"path": name});
        let response = self
            .call(Method::POST, "/api/v1/scans", Some(token), Some(body))
            .await;
        assert_eq!(response.status, StatusCode::ACCEPTED, "{}", response.text());
        let id = response.json()["id"].as_str().unwrap().to_owned();
        let scan = self.wait_for_scan(token, &id).await;
        let system_ids = scan["summary"]["system_ids"].clone();
        let scopes = scan["scopes"].clone();
        serde_json::json!({"scan": scan, "scopes": scopes, "system_ids": system_ids})
    }

    /// Polls GET /api/v1/scans/{id} until the scan is no longer running, for at most
    /// 30 s, and returns it.
    pub(crate) async fn wait_for_scan(&self, token: &str, id: &str) -> Value {
        let uri = format!("/api/v1/scans/{id}");
        for _ in 0..3000 {
            let response = self.call(Method::GET, &uri, Some(token), None).await;
            assert_eq!(response.status, StatusCode::OK, "{}", response.text());
            let scan = response.json();
            if scan["status"] != "running" {
                return scan;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("scan {id} still running after 30 s");
    }

    /// Returns the ids of every system visible to the token, first page only.
    pub(crate) async fn system_ids(&self, token: &str) -> Vec<String> {
        let response = self
            .call(Method::GET, "/api/v1/systems", Some(token), None)
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["id"].as_str().unwrap().to_owned())
            .collect()
    }
}
