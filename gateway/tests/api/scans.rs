//! Scans of stored connectors: started at once with 202, per-scope coverage while and
//! after they run, cancel with its audit row, and tenant isolation.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use agents::{
    BoxFuture, ConnectorSpec, CoverageGap, CrawlError, CrawlReport, FindingSink, Scope, Source,
    SourceFactory, SourceRegistry,
};
use axum::http::{Method, StatusCode};
use proto::{Finding, FindingKind};
use serde_json::{Value, json};
use store::{TenantContext, TenantPath};
use uuid::Uuid;

use super::harness::TestApp;

/// Secrets the fake GCP factory received, to check they were decrypted.
type SeenSecrets = Arc<Mutex<Vec<Option<Value>>>>;

/// Stands in for the GCP connector: project `hang-project` crawls until cancelled; any
/// other project has one covered scope and one region denied for lack of a permission.
struct FakeGcp {
    project: String,
}

fn finding(scope: &str) -> Finding {
    let path = format!("projects/{scope}/endpoints/chat");
    let kind = FindingKind::CloudResource;
    Finding {
        source: "gcp".to_owned(),
        scope: scope.to_owned(),
        external_id: Finding::stable_id(scope, &path, kind, "vertex-ai-endpoint"),
        kind,
        subject: "vertex-ai-endpoint".to_owned(),
        path,
        line: None,
        confidence: 0.9,
        project_root: "vertex/chat".to_owned(),
        attributes: BTreeMap::from([
            ("category".to_owned(), "serving".to_owned()),
            ("provider".to_owned(), "google-vertex".to_owned()),
        ]),
        evidence: None,
    }
}

impl Source for FakeGcp {
    fn provider(&self) -> &str {
        "gcp"
    }

    fn scopes(&self) -> BoxFuture<'_, Result<Vec<Scope>, CrawlError>> {
        let project = &self.project;
        let scopes = vec![
            Scope::new("gcp", format!("gcp:{project}")),
            Scope::new("gcp", format!("gcp:{project}:us-central1")),
        ];
        Box::pin(async move { Ok(scopes) })
    }

    fn crawl<'a>(
        &'a self,
        scope: &'a Scope,
        sink: FindingSink,
    ) -> BoxFuture<'a, Result<CrawlReport, CrawlError>> {
        Box::pin(async move {
            if self.project == "hang-project" {
                std::future::pending::<()>().await;
            }
            let mut report = CrawlReport::default();
            if scope.id.ends_with("us-central1") {
                report.gaps.push(CoverageGap {
                    service: "aiplatform.endpoints.list".to_owned(),
                    permission: "aiplatform.endpoints.list".to_owned(),
                    message: "permission denied".to_owned(),
                });
            } else {
                sink(finding(&scope.id));
                report.num_items = 1;
            }
            Ok(report)
        })
    }
}

struct FakeGcpFactory {
    seen_secrets: SeenSecrets,
}

impl SourceFactory for FakeGcpFactory {
    fn build(&self, spec: &ConnectorSpec) -> Result<Arc<dyn Source>, CrawlError> {
        self.seen_secrets.lock().unwrap().push(spec.secret.clone());
        let project = spec.config["project_id"].as_str().unwrap_or_default();
        Ok(Arc::new(FakeGcp {
            project: project.to_owned(),
        }))
    }
}

async fn app_with_fake_gcp() -> (TestApp, SeenSecrets) {
    let seen_secrets = SeenSecrets::default();
    let mut sources = SourceRegistry::new();
    let factory = FakeGcpFactory {
        seen_secrets: seen_secrets.clone(),
    };
    sources.register("gcp", Arc::new(factory));
    let key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [5u8; 32]);
    let config = gateway::GatewayConfig {
        scan_root: Some(super::harness::examples_root()),
        secret_key: Some(gateway::SecretKey::from_base64(&key).unwrap()),
        ..gateway::GatewayConfig::default()
    };
    (TestApp::with_sources(config, sources).await, seen_secrets)
}

/// Creates a GCP connector for `project` with a secret and returns its id.
async fn gcp_connector(app: &TestApp, token: &str, project: &str) -> String {
    let body = json!({
        "name": format!("gcp-{project}"),
        "kind": "gcp",
        "config": {"project_id": project},
        "secret": {"private_key": "fake-key-material"},
    });
    let created = app
        .call(Method::POST, "/api/v1/connectors", Some(token), Some(body))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    created.json()["id"].as_str().unwrap().to_owned()
}

async fn start_scan(app: &TestApp, token: &str, body: Value) -> Value {
    let response = app
        .call(Method::POST, "/api/v1/scans", Some(token), Some(body))
        .await;
    assert_eq!(response.status, StatusCode::ACCEPTED, "{}", response.text());
    response.json()
}

/// Records a scan as running for `tenant` without any coordinator crawling it, as a
/// server that exited mid-scan leaves it; returns its id.
pub(crate) async fn orphan_scan(app: &TestApp, tenant: &str) -> Uuid {
    let ctx = TenantContext::new(TenantPath::from_slug_path(tenant).unwrap());
    let mut tx = app.db.store.begin(&ctx).await.unwrap();
    store::tenants::ensure(&mut tx, tenant).await.unwrap();
    let scan = store::scans::NewScan {
        source: "gcp".to_owned(),
        target: "connector:gone".to_owned(),
        requested_by: "test".to_owned(),
    };
    let scan = store::scans::create(&mut tx, scan).await.unwrap();
    let pending = store::scans::ScopeRecord::pending("gone", "gcp:proj-123", "gcp");
    store::scans::upsert_scopes(&mut tx, scan.id, &[pending])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    scan.id
}

fn scope_statuses(scan: &Value) -> Vec<(String, String)> {
    scan["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|scope| {
            let id = scope["scope"].as_str().unwrap().to_owned();
            (id, scope["status"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn connector_scan_is_accepted_and_reports_coverage() {
    let (app, seen_secrets) = app_with_fake_gcp().await;
    let token = app.token("acme", "admin").await;
    let id = gcp_connector(&app, &token, "proj-123").await;

    let started = start_scan(&app, &token, json!({"connector_ids": [id]})).await;

    let scan_id = started["id"].as_str().unwrap();
    let scan = app.wait_for_scan(&token, scan_id).await;
    assert_eq!(scan["status"], "partial");
    assert_eq!(
        scope_statuses(&scan),
        [
            ("gcp:proj-123".to_owned(), "covered".to_owned()),
            ("gcp:proj-123:us-central1".to_owned(), "partial".to_owned()),
        ]
    );
    let denied = &scan["scopes"][1];
    assert_eq!(denied["connector"], "gcp-proj-123");
    assert_eq!(denied["provider"], "gcp");
    assert_eq!(denied["gaps"][0]["permission"], "aiplatform.endpoints.list");
    assert_eq!(scan["scopes"][0]["num_findings"], 1);
    let error = scan["error"].as_str().unwrap();
    assert!(error.contains("aiplatform.endpoints.list"), "{error}");
    // Built once to check the connector when it was stored, once by the scan: both
    // times with the decrypted secret.
    let secrets = seen_secrets.lock().unwrap().clone();
    let expected = Some(json!({"private_key": "fake-key-material"}));
    assert_eq!(secrets, [expected.clone(), expected]);
    assert!(!scan.to_string().contains("fake-key-material"));
}

#[tokio::test]
async fn cancel_stops_running_connector_scan() {
    let (app, _) = app_with_fake_gcp().await;
    let token = app.token("acme", "admin").await;
    let id = gcp_connector(&app, &token, "hang-project").await;
    let started = start_scan(&app, &token, json!({"connector_ids": [id]})).await;
    let scan_id = started["id"].as_str().unwrap().to_owned();
    let uri = format!("/api/v1/scans/{scan_id}");
    for _ in 0..1000 {
        let scan = app.call(Method::GET, &uri, Some(&token), None).await.json();
        if scan["scopes"].as_array().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    let cancel_uri = format!("/api/v1/scans/{scan_id}/cancel");
    let cancelled = app
        .call(Method::POST, &cancel_uri, Some(&token), None)
        .await;

    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text());
    let scan = cancelled.json();
    assert_eq!(scan["status"], "cancelled");
    assert_eq!(
        scope_statuses(&scan),
        [
            ("gcp:hang-project".to_owned(), "cancelled".to_owned()),
            (
                "gcp:hang-project:us-central1".to_owned(),
                "cancelled".to_owned()
            ),
        ]
    );
    let admin = app.db.admin_pool().await;
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE entity_type = 'scan' AND entity_id = $1 \
         AND actor_type = 'token' ORDER BY seq",
    )
    .bind(&scan_id)
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(actions, ["scan.requested", "scan.cancel"]);
    let again = app
        .call(Method::POST, &cancel_uri, Some(&token), None)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
}

#[tokio::test]
async fn cancel_closes_scan_no_server_runs() {
    let app = TestApp::new().await;
    let token = app.token("acme", "write").await;
    let scan_id = orphan_scan(&app, "acme").await;

    let response = app
        .call(
            Method::POST,
            &format!("/api/v1/scans/{scan_id}/cancel"),
            Some(&token),
            None,
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let scan = response.json();
    assert_eq!(scan["status"], "cancelled");
    assert_eq!(
        scope_statuses(&scan),
        [("gcp:proj-123".to_owned(), "cancelled".to_owned())]
    );
}

#[tokio::test]
async fn cancel_of_ingest_scan_conflicts() {
    let app = TestApp::new().await;
    let token = app.token("acme", "write").await;
    let ctx = TenantContext::new(TenantPath::from_slug_path("acme").unwrap());
    let mut tx = app.db.store.begin(&ctx).await.unwrap();
    let scan = store::scans::NewScan {
        source: store::scans::INGEST_SOURCE.to_owned(),
        target: "Ingest.StreamFindings".to_owned(),
        requested_by: "test".to_owned(),
    };
    let scan = store::scans::create(&mut tx, scan).await.unwrap();
    tx.commit().await.unwrap();

    let response = app
        .call(
            Method::POST,
            &format!("/api/v1/scans/{}/cancel", scan.id),
            Some(&token),
            None,
        )
        .await;

    assert_eq!(response.status, StatusCode::CONFLICT, "{}", response.text());
    let detail = response.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("Ingest.StreamFindings"), "{detail}");
}

#[tokio::test]
async fn cancel_of_finished_scan_conflicts() {
    let app = TestApp::new().await;
    let token = app.token("acme", "admin").await;
    let scan = app.scan_example(&token, "loan-screening").await;
    let scan_id = scan["scan"]["id"].as_str().unwrap();

    let response = app
        .call(
            Method::POST,
            &format!("/api/v1/scans/{scan_id}/cancel"),
            Some(&token),
            None,
        )
        .await;

    assert_eq!(response.status, StatusCode::CONFLICT, "{}", response.text());
    assert!(
        response.json()["detail"]
            .as_str()
            .unwrap()
            .contains("completed")
    );
}

#[tokio::test]
async fn other_tenant_cannot_cancel_or_read_a_scan() {
    let app = TestApp::new().await;
    let owner = app.token("acme", "admin").await;
    let stranger = app.token("globex", "admin").await;
    let scan_id = orphan_scan(&app, "acme").await;

    let cancel = app
        .call(
            Method::POST,
            &format!("/api/v1/scans/{scan_id}/cancel"),
            Some(&stranger),
            None,
        )
        .await;
    let read = app
        .call(
            Method::GET,
            &format!("/api/v1/scans/{scan_id}"),
            Some(&stranger),
            None,
        )
        .await;

    assert_eq!(cancel.status, StatusCode::NOT_FOUND, "{}", cancel.text());
    assert_eq!(read.status, StatusCode::NOT_FOUND);
    let still = app
        .call(
            Method::GET,
            &format!("/api/v1/scans/{scan_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(still.json()["status"], "running");
}

#[tokio::test]
async fn auditor_cannot_cancel() {
    let app = TestApp::new().await;
    let scan_id = orphan_scan(&app, "acme").await;
    let auditor = app.token("acme", "read").await;

    let response = app
        .call(
            Method::POST,
            &format!("/api/v1/scans/{scan_id}/cancel"),
            Some(&auditor),
            None,
        )
        .await;

    assert_eq!(
        response.status,
        StatusCode::FORBIDDEN,
        "{}",
        response.text()
    );
}

#[tokio::test]
async fn unknown_connector_id_names_the_field() {
    let (app, _) = app_with_fake_gcp().await;
    let token = app.token("acme", "admin").await;
    let other = app.token("globex", "admin").await;
    let foreign = gcp_connector(&app, &other, "proj-456").await;

    let response = app
        .call(
            Method::POST,
            "/api/v1/scans",
            Some(&token),
            Some(json!({"connector_ids": [foreign]})),
        )
        .await;

    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        response.text()
    );
    assert_eq!(response.json()["field"], "connector_ids[0]");
}
