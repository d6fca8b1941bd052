//! Connectors: validation by kind, write-only encrypted secrets, tenant
//! isolation and the audit trail.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode};
use base64::Engine;
use gateway::{GatewayConfig, SecretKey};
use serde_json::{Value, json};
use store::connectors::SealedSecret;
use uuid::Uuid;

use super::harness::{TestApp, examples_root};

/// A secret value that must never leave the server in clear.
const SECRET_VALUE: &str = "s3cr3t-do-not-echo-8c1f";

fn key() -> SecretKey {
    SecretKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([42u8; 32])).unwrap()
}

async fn app_with_key() -> TestApp {
    TestApp::with_config(GatewayConfig {
        scan_root: Some(examples_root()),
        secret_key: Some(key()),
        ..GatewayConfig::default()
    })
    .await
}

fn git_body(name: &str) -> Value {
    json!({
        "name": name,
        "kind": "git",
        "config": {"path": "loan-screening"},
        "secret": {"token": SECRET_VALUE},
    })
}

async fn sealed_secret(app: &TestApp, id: &str) -> SealedSecret {
    let pool = app.db.admin_pool().await;
    let (nonce, ciphertext): (Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT secret_nonce, secret_ciphertext FROM connectors WHERE id = $1::uuid",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    SealedSecret { nonce, ciphertext }
}

/// Collects every formatted log line of the test binary.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

/// Returns the buffer of the global subscriber, installing it on the first call. A
/// subscriber scoped to the test's thread missed log lines while other tests ran, so the
/// capture is global. The other tests' lines contain no secret of this test.
fn captured_logs() -> LogBuffer {
    static LOGS: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = LogBuffer::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other test of this binary installs a global subscriber");
        logs
    })
    .clone()
}

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn connector_secret_is_write_only_and_encrypted() {
    let logs = captured_logs();

    let app = app_with_key().await;
    let token = app.token("acme", "write").await;
    let created = app
        .call(
            Method::POST,
            "/api/v1/connectors",
            Some(&token),
            Some(git_body("repo")),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(created.json()["has_secret"], json!(true));
    assert_eq!(created.json()["config"], json!({"path": "loan-screening"}));

    let first = sealed_secret(&app, &id).await;
    let opened = key().open(id.parse().unwrap(), &first).unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&opened).unwrap(),
        json!({"token": SECRET_VALUE})
    );
    assert!(
        !first
            .ciphertext
            .windows(SECRET_VALUE.len())
            .any(|window| window == SECRET_VALUE.as_bytes())
    );
    assert!(key().open(Uuid::new_v4(), &first).is_err());

    let patch = json!({"secret": {"token": SECRET_VALUE}});
    let replaced = app
        .call(
            Method::PATCH,
            &format!("/api/v1/connectors/{id}"),
            Some(&token),
            Some(patch),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text());
    let second = sealed_secret(&app, &id).await;
    assert_ne!(first.nonce, second.nonce, "a rewrite reuses the nonce");

    let invalid = json!({"secret": {"token": 7, "other": SECRET_VALUE, "bad name": SECRET_VALUE}});
    let rejected = app
        .call(
            Method::PATCH,
            &format!("/api/v1/connectors/{id}"),
            Some(&token),
            Some(invalid),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::UNPROCESSABLE_ENTITY);

    let mut texts = vec![created.text(), replaced.text(), rejected.text()];
    for uri in [
        "/api/v1/connectors".to_owned(),
        format!("/api/v1/connectors/{id}"),
    ] {
        let response = app.call(Method::GET, &uri, Some(&token), None).await;
        assert_eq!(response.status, StatusCode::OK);
        texts.push(response.text());
    }
    let audit = app
        .call(Method::GET, "/api/v1/audit", Some(&token), None)
        .await;
    texts.push(audit.text());
    let pool = app.db.admin_pool().await;
    let diffs: Vec<(String,)> = sqlx::query_as("SELECT diff::text FROM audit_log")
        .fetch_all(&pool)
        .await
        .unwrap();
    texts.extend(diffs.into_iter().map(|(diff,)| diff));
    texts.push(String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned());
    for text in &texts {
        assert!(!text.contains(SECRET_VALUE), "secret leaked: {text}");
    }
    assert!(
        texts.last().unwrap().contains("store.connectors.update"),
        "no logs captured"
    );
}

#[tokio::test]
async fn connector_secret_needs_server_key() {
    let app = TestApp::new().await;
    let token = app.token("acme", "write").await;
    let response = app
        .call(
            Method::POST,
            "/api/v1/connectors",
            Some(&token),
            Some(git_body("repo")),
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.json()["field"], json!("secret"));
    assert!(response.text().contains("SECRUNA_SECRET_KEY"));
    let list = app
        .call(Method::GET, "/api/v1/connectors", Some(&token), None)
        .await;
    assert_eq!(list.json(), json!([]));

    let without_secret =
        json!({"name": "repo", "kind": "git", "config": {"path": "loan-screening"}});
    let created = app
        .call(
            Method::POST,
            "/api/v1/connectors",
            Some(&token),
            Some(without_secret),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["has_secret"], json!(false));
}

#[tokio::test]
async fn connector_config_is_validated_by_kind() {
    let app = app_with_key().await;
    let token = app.token("acme", "write").await;
    let cases = [
        (json!({"name": "x", "kind": "svn", "config": {}}), "kind"),
        (
            json!({"name": "", "kind": "git", "config": {"path": "loan-screening"}}),
            "name",
        ),
        (
            json!({"name": "x", "kind": "git", "config": {"path": "../.."}}),
            "config.path",
        ),
        (
            json!({"name": "x", "kind": "git", "config": {"path": "nope"}}),
            "config.path",
        ),
        (
            json!({"name": "x", "kind": "git", "config": {}}),
            "config.path",
        ),
        (
            json!({"name": "x", "kind": "git", "config": {"path": "loan-screening", "depth": 1}}),
            "config.depth",
        ),
        (
            json!({"name": "x", "kind": "azure", "config": {"subscriptions": [Uuid::new_v4()]}, "secret": {"client_secret": "s"}}),
            "config",
        ),
        (
            json!({"name": "x", "kind": "github", "config": {"organization": "acme"}, "secret": {"token": "t"}}),
            "config",
        ),
        (
            json!({"name": "x", "kind": "inventory", "config": {"path": "../../../etc/passwd"}}),
            "config.path",
        ),
        (
            json!({"name": "x", "kind": "inventory", "config": {"path": "loan-screening"}}),
            "config.path",
        ),
        (
            json!({"name": "x", "kind": "gcp", "config": ["project"]}),
            "config",
        ),
        (
            json!({"name": "x", "kind": "github", "config": {"organisations": ["acme"]}, "secret": "key"}),
            "secret",
        ),
        (
            json!({"name": "x", "kind": "github", "config": {"organisations": ["acme"]}, "secret": {"key": ""}}),
            "secret.key",
        ),
    ];
    for (body, field) in cases {
        let response = app
            .call(
                Method::POST,
                "/api/v1/connectors",
                Some(&token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            response.text()
        );
        assert_eq!(response.json()["field"], json!(field), "{body}");
    }
    let valid = [
        json!({"name": "a", "kind": "git", "config": {"path": "loan-screening"}}),
        json!({"name": "b", "kind": "azure", "config": {"tenant_id": Uuid::new_v4(), "client_id": Uuid::new_v4(), "subscriptions": [Uuid::new_v4()]}, "secret": {"client_secret": "s"}}),
        json!({"name": "d", "kind": "github", "config": {"organisations": ["acme-corp"]}, "secret": {"token": "t"}}),
    ];
    for body in valid {
        let response = app
            .call(
                Method::POST,
                "/api/v1/connectors",
                Some(&token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "{body}: {}",
            response.text()
        );
    }
    let duplicate = json!({"name": "a", "kind": "git", "config": {"path": "loan-screening"}});
    let response = app
        .call(
            Method::POST,
            "/api/v1/connectors",
            Some(&token),
            Some(duplicate),
        )
        .await;
    assert_eq!(response.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn connector_update_and_delete() {
    let app = app_with_key().await;
    let token = app.token("acme", "write").await;
    let created = app
        .call(
            Method::POST,
            "/api/v1/connectors",
            Some(&token),
            Some(git_body("repo")),
        )
        .await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let uri = format!("/api/v1/connectors/{id}");

    let renamed = app
        .call(
            Method::PATCH,
            &uri,
            Some(&token),
            Some(json!({"name": "main repo", "secret": null})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text());
    assert_eq!(renamed.json()["name"], json!("main repo"));
    assert_eq!(renamed.json()["has_secret"], json!(false));
    assert_eq!(renamed.json()["config"], json!({"path": "loan-screening"}));

    let wrong_kind = app
        .call(
            Method::PATCH,
            &uri,
            Some(&token),
            Some(json!({"config": {"account_id": "123456789012"}})),
        )
        .await;
    assert_eq!(wrong_kind.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong_kind.json()["field"], json!("config.account_id"));

    let deleted = app.call(Method::DELETE, &uri, Some(&token), None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    let gone = app.call(Method::GET, &uri, Some(&token), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let again = app.call(Method::DELETE, &uri, Some(&token), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn connectors_are_isolated_and_auditors_only_read() {
    let app = app_with_key().await;
    let acme = app.token("acme", "write").await;
    let globex = app.token("globex", "admin").await;
    let created = app
        .call(
            Method::POST,
            "/api/v1/connectors",
            Some(&acme),
            Some(git_body("repo")),
        )
        .await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let uri = format!("/api/v1/connectors/{id}");

    for method in [Method::GET, Method::DELETE] {
        let response = app.call(method.clone(), &uri, Some(&globex), None).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{method}");
    }
    let patch = app
        .call(
            Method::PATCH,
            &uri,
            Some(&globex),
            Some(json!({"name": "taken"})),
        )
        .await;
    assert_eq!(patch.status, StatusCode::NOT_FOUND);
    let list = app
        .call(Method::GET, "/api/v1/connectors", Some(&globex), None)
        .await;
    assert_eq!(list.json(), json!([]));

    let reader = app.token("acme", "read").await;
    let denied = app
        .call(
            Method::POST,
            "/api/v1/connectors",
            Some(&reader),
            Some(git_body("other")),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let denied = app.call(Method::DELETE, &uri, Some(&reader), None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let read = app.call(Method::GET, &uri, Some(&reader), None).await;
    assert_eq!(read.status, StatusCode::OK);
}

#[tokio::test]
async fn connector_stored_through_the_api_can_be_scanned() {
    let root = tempfile::tempdir().unwrap();
    let template = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/connectors/inventory-template.csv"
    );
    std::fs::copy(template, root.path().join("tools.csv")).unwrap();
    let app = TestApp::with_config(GatewayConfig {
        scan_root: Some(std::fs::canonicalize(root.path()).unwrap()),
        secret_key: Some(key()),
        ..GatewayConfig::default()
    })
    .await;
    let token = app.token("acme", "write").await;
    let body =
        json!({"name": "bought tools", "kind": "inventory", "config": {"path": "tools.csv"}});
    let created = app
        .call(Method::POST, "/api/v1/connectors", Some(&token), Some(body))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_owned();

    let started = app
        .call(
            Method::POST,
            "/api/v1/scans",
            Some(&token),
            Some(json!({"connector_ids": [id]})),
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text());
    let uri = format!("/api/v1/scans/{}", started.json()["id"].as_str().unwrap());
    let mut scan = Value::Null;
    for _ in 0..200 {
        scan = app.call(Method::GET, &uri, Some(&token), None).await.json();
        if scan["status"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    assert_eq!(scan["status"], "completed", "{scan:#}");
    assert_eq!(scan["scopes"][0]["connector"], "bought tools", "{scan:#}");
    assert_eq!(scan["scopes"][0]["status"], "covered", "{scan:#}");
    let systems = app
        .call(
            Method::GET,
            "/api/v1/systems?source=inventory",
            Some(&token),
            None,
        )
        .await
        .json();
    assert!(
        !systems["items"].as_array().unwrap().is_empty(),
        "{systems:#}"
    );
}
