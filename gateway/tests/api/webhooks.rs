//! Webhooks against a receiver on 127.0.0.1: signed bodies, stable event
//! ids, retries, recorded attempts, and refused internal destinations.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode};
use base64::Engine;
use gateway::{GatewayConfig, SecretKey};
use serde_json::{Value, json};

use super::harness::{TestApp, examples_root};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).unwrap().to_str().unwrap()
    }
}

/// An HTTP receiver on 127.0.0.1 that returns 500 to the first `failures`
/// requests and 204 afterwards.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

async fn receiver(failures: usize) -> Receiver {
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let log = received.clone();
    let handler = move |headers: HeaderMap, body: axum::body::Bytes| {
        let log = log.clone();
        async move {
            let mut log = log.lock().unwrap();
            log.push(Received {
                headers,
                body: body.to_vec(),
            });
            if log.len() <= failures {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::NO_CONTENT
            }
        }
    };
    let app = axum::Router::new().route("/hook", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver {
        url: format!("http://{address}/hook"),
        received,
    }
}

fn config(allow_loopback: bool) -> GatewayConfig {
    let key = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    GatewayConfig {
        scan_root: Some(examples_root()),
        secret_key: Some(SecretKey::from_base64(&key).unwrap()),
        webhook_allow: if allow_loopback {
            vec!["127.0.0.0/8".parse().unwrap()]
        } else {
            Vec::new()
        },
        webhook_retry_base: Duration::ZERO,
        webhook_max_attempts: 3,
        ..GatewayConfig::default()
    }
}

async fn create_endpoint(
    app: &TestApp,
    token: &str,
    url: &str,
    format: &str,
    events: Value,
) -> Value {
    let body = json!({"url": url, "format": format, "events": events});
    let response = app
        .call(Method::POST, "/api/v1/webhooks", Some(token), Some(body))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    response.json()
}

fn assert_signed(request: &Received, secret: &str) {
    let timestamp: i64 = request.header(gateway::TIMESTAMP_HEADER).parse().unwrap();
    let expected = gateway::sign_webhook(secret.as_bytes(), timestamp, &request.body);
    assert_eq!(request.header(gateway::SIGNATURE_HEADER), expected);
}

#[tokio::test]
async fn audit_event_is_delivered_signed() {
    let app = TestApp::with_config(config(true)).await;
    let admin = app.token("acme", "admin").await;
    let hook = receiver(0).await;
    let endpoint =
        create_endpoint(&app, &admin, &hook.url, "json", json!(["audit.appended"])).await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let listed = app
        .call(Method::GET, "/api/v1/webhooks", Some(&admin), None)
        .await;
    assert!(!listed.text().contains(&secret), "the secret is listed");

    let created = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(&admin),
            Some(json!({"name": "ci", "scope": "read"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let num_attempts = gateway::dispatch_due_webhooks(&app_state(&app))
        .await
        .unwrap();
    assert_eq!(num_attempts, 2, "endpoint creation and token creation");

    let received = hook.received.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    let actions: Vec<String> = received
        .iter()
        .map(|request| {
            assert_signed(request, &secret);
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            assert_eq!(body["type"], json!("audit.appended"));
            assert_eq!(body["tenant"], json!("acme"));
            assert_eq!(
                body["id"].as_str().unwrap(),
                request.header(gateway::EVENT_ID_HEADER)
            );
            assert_eq!(request.header(gateway::EVENT_TYPE_HEADER), "audit.appended");
            body["data"]["action"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(actions, ["webhook.create", "api_token.create"]);

    let pool = app.db.admin_pool().await;
    let statuses: Vec<(String, i32)> =
        sqlx::query_as("SELECT status, num_attempts FROM webhook_outbox ORDER BY created_at")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        statuses,
        [("delivered".to_owned(), 1), ("delivered".to_owned(), 1)]
    );
    let deliveries: Vec<(Option<i32>,)> =
        sqlx::query_as("SELECT response_status FROM webhook_deliveries")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(deliveries, [(Some(204),), (Some(204),)]);
}

/// Rebuilds the state of the app's router for direct dispatcher calls.
fn app_state(app: &TestApp) -> gateway::AppState {
    app.state.clone()
}

#[tokio::test]
async fn failed_delivery_retries_same_bytes() {
    let app = TestApp::with_config(config(true)).await;
    let admin = app.token("acme", "admin").await;
    let hook = receiver(1).await;
    let endpoint =
        create_endpoint(&app, &admin, &hook.url, "slack", json!(["audit.appended"])).await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();

    let state = app_state(&app);
    assert_eq!(gateway::dispatch_due_webhooks(&state).await.unwrap(), 1);
    assert_eq!(gateway::dispatch_due_webhooks(&state).await.unwrap(), 1);
    assert_eq!(gateway::dispatch_due_webhooks(&state).await.unwrap(), 0);

    let received = hook.received.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].body, received[1].body,
        "the retry changed the body"
    );
    assert_eq!(
        received[0].header(gateway::EVENT_ID_HEADER),
        received[1].header(gateway::EVENT_ID_HEADER)
    );
    for request in &received {
        assert_signed(request, &secret);
    }
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert!(
        body["text"].as_str().unwrap().contains("webhook.create"),
        "{body}"
    );

    let pool = app.db.admin_pool().await;
    let attempts: Vec<(i32, Option<i32>)> =
        sqlx::query_as("SELECT attempt, response_status FROM webhook_deliveries ORDER BY attempt")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(attempts, [(1, Some(500)), (2, Some(204))]);
}

#[tokio::test]
async fn delivery_gives_up_after_max_attempts() {
    let app = TestApp::with_config(config(true)).await;
    let admin = app.token("acme", "admin").await;
    let hook = receiver(usize::MAX).await;
    create_endpoint(&app, &admin, &hook.url, "teams", json!(["audit.appended"])).await;
    let state = app_state(&app);
    for _ in 0..5 {
        gateway::dispatch_due_webhooks(&state).await.unwrap();
    }
    assert_eq!(hook.received.lock().unwrap().len(), 3);
    let pool = app.db.admin_pool().await;
    let (status,): (String,) = sqlx::query_as("SELECT status FROM webhook_outbox")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "failed");
}

#[tokio::test]
async fn internal_destination_is_refused_without_allow_list() {
    let app = TestApp::with_config(config(false)).await;
    let admin = app.token("acme", "admin").await;
    let hook = receiver(0).await;
    for url in [
        hook.url.as_str(),
        "http://169.254.169.254/latest",
        "http://[::1]:9/hook",
        "http://10.0.0.1/",
    ] {
        let body = json!({"url": url, "events": ["scan.completed"]});
        let response = app
            .call(Method::POST, "/api/v1/webhooks", Some(&admin), Some(body))
            .await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(response.json()["field"], json!("url"), "{url}");
        assert!(
            response.text().contains("--webhook-allow"),
            "{}",
            response.text()
        );
    }
    assert!(hook.received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn test_delivery_reports_outcome() {
    let app = TestApp::with_config(config(true)).await;
    let admin = app.token("acme", "admin").await;
    let hook = receiver(0).await;
    let endpoint =
        create_endpoint(&app, &admin, &hook.url, "json", json!(["scan.completed"])).await;
    let id = endpoint["id"].as_str().unwrap();
    let response = app
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/test"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json()["delivered"], json!(true));
    assert_eq!(response.json()["response_status"], json!(204));
    let received = hook.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].header(gateway::EVENT_TYPE_HEADER),
        gateway::TEST_EVENT
    );
    assert_signed(&received[0], endpoint["secret"].as_str().unwrap());

    let globex = app.token("globex", "admin").await;
    let other = app
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/test"),
            Some(&globex),
            None,
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let member = app.token("acme", "write").await;
    let denied = app
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/test"),
            Some(&member),
            None,
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn endpoint_fields_are_validated() {
    let app = TestApp::with_config(config(true)).await;
    let admin = app.token("acme", "admin").await;
    let cases = [
        (
            json!({"url": "http://127.0.0.1:9/", "events": ["scan.exploded"]}),
            "events[0]",
        ),
        (
            json!({"url": "http://127.0.0.1:9/", "events": []}),
            "events",
        ),
        (
            json!({"url": "http://127.0.0.1:9/", "format": "xml", "events": ["scan.failed"]}),
            "format",
        ),
        (
            json!({"url": "ftp://127.0.0.1/", "events": ["scan.failed"]}),
            "url",
        ),
        (
            json!({"url": "http://user:pw@127.0.0.1/", "events": ["scan.failed"]}),
            "url",
        ),
    ];
    for (body, field) in cases {
        let response = app
            .call(
                Method::POST,
                "/api/v1/webhooks",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(response.json()["field"], json!(field), "{body}");
    }
}

#[tokio::test]
async fn api_scan_raises_scan_completed() {
    let app = TestApp::with_config(config(true)).await;
    let admin = app.token("acme", "admin").await;
    let hook = receiver(0).await;
    let endpoint = create_endpoint(
        &app,
        &admin,
        &hook.url,
        "json",
        json!(["scan.completed", "scan.failed"]),
    )
    .await;
    let scan = app
        .scan_example(&admin, "loan-screening/support-chat")
        .await;
    assert_eq!(gateway::dispatch_due_webhooks(&app.state).await.unwrap(), 1);

    let received = hook.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert_signed(&received[0], endpoint["secret"].as_str().unwrap());
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(body["type"], json!("scan.completed"));
    assert_eq!(body["data"]["scan_id"], scan["scan"]["id"]);
    assert_eq!(body["data"]["status"], json!("completed"));
    assert_eq!(body["data"]["num_systems"], json!(1));
}

#[tokio::test]
async fn served_gateway_dispatches_in_background() {
    let app = TestApp::with_config(GatewayConfig {
        webhook_poll_interval: Duration::from_millis(50),
        ..config(true)
    })
    .await;
    let admin = app.token("acme", "admin").await;
    let hook = receiver(0).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gateway::serve(listener, app.state.clone(), async move {
        let _ = stopped.await;
    }));

    let response = reqwest::Client::new()
        .post(format!("http://{address}/api/v1/webhooks"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(json!({"url": hook.url, "events": ["audit.appended"]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while hook.received.lock().unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    let received = hook.received.lock().unwrap().clone();
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(body["data"]["action"], json!("webhook.create"));
}

async fn patch_endpoint(
    app: &TestApp,
    token: &str,
    id: &str,
    body: Value,
) -> super::harness::TestResponse {
    let uri = format!("/api/v1/webhooks/{id}");
    app.call(Method::PATCH, &uri, Some(token), Some(body)).await
}

#[tokio::test]
async fn endpoint_update_changes_fields_and_is_audited() {
    let app = TestApp::with_config(config(true)).await;
    let admin = app.token("acme", "admin").await;
    let endpoint = create_endpoint(
        &app,
        &admin,
        "http://127.0.0.1:9/a",
        "json",
        json!(["scan.completed"]),
    )
    .await;
    let id = endpoint["id"].as_str().unwrap();

    let body = json!({"url": "http://127.0.0.1:9/b", "events": ["verdict.changed", "scan.failed"], "format": "slack", "enabled": false});
    let response = patch_endpoint(&app, &admin, id, body).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let updated = response.json();
    assert_eq!(updated["url"], "http://127.0.0.1:9/b");
    assert_eq!(updated["events"], json!(["verdict.changed", "scan.failed"]));
    assert_eq!(updated["format"], "slack");
    assert_eq!(updated["enabled"], false);
    assert!(updated.get("secret").is_none(), "no rotation, no secret");

    let pool = app.db.admin_pool().await;
    let diff: Value = sqlx::query_scalar(
        "SELECT diff FROM audit_log WHERE action = 'webhook.update' AND entity_id = $1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        diff["url"],
        json!({"from": "http://127.0.0.1:9/a", "to": "http://127.0.0.1:9/b"})
    );
    assert_eq!(diff["enabled"], json!({"from": true, "to": false}));
    assert_eq!(diff["secret_rotated"], false);

    let listed = app
        .call(Method::GET, "/api/v1/webhooks", Some(&admin), None)
        .await
        .json();
    assert_eq!(listed[0]["format"], "slack");
    assert_eq!(listed[0]["enabled"], false);
}

#[tokio::test]
async fn rotated_secret_is_returned_once_and_signs() {
    let app = TestApp::with_config(config(true)).await;
    let admin = app.token("acme", "admin").await;
    let hook = receiver(0).await;
    let endpoint =
        create_endpoint(&app, &admin, &hook.url, "json", json!(["scan.completed"])).await;
    let id = endpoint["id"].as_str().unwrap();
    let old_secret = endpoint["secret"].as_str().unwrap();

    let rotated = patch_endpoint(&app, &admin, id, json!({"rotate_secret": true})).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text());
    let new_secret = rotated.json()["secret"].as_str().unwrap().to_owned();
    assert!(new_secret.starts_with("whsec_"));
    assert_ne!(new_secret, old_secret);
    let listed = app
        .call(Method::GET, "/api/v1/webhooks", Some(&admin), None)
        .await;
    assert!(!listed.text().contains(&new_secret), "the secret is listed");

    let test = app
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/test"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(test.json()["delivered"], true, "{}", test.text());
    let received = hook.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert_signed(&received[0], &new_secret);
}

#[tokio::test]
async fn disabled_endpoint_gets_no_new_events() {
    let app = TestApp::with_config(config(true)).await;
    let admin = app.token("acme", "admin").await;
    let endpoint = create_endpoint(
        &app,
        &admin,
        "http://127.0.0.1:9/a",
        "json",
        json!(["audit.appended"]),
    )
    .await;
    let id = endpoint["id"].as_str().unwrap();
    let pool = app.db.admin_pool().await;
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM webhook_outbox")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let before_pause = count().await;
    let response = patch_endpoint(&app, &admin, id, json!({"enabled": false})).await;
    assert_eq!(response.status, StatusCode::OK);
    let paused = count().await;
    assert_eq!(
        paused, before_pause,
        "the pausing change itself raises no event"
    );
    let body = json!({"name": "ci", "scope": "read"});
    app.call(Method::POST, "/api/v1/tokens", Some(&admin), Some(body))
        .await;
    assert_eq!(count().await, paused);

    patch_endpoint(&app, &admin, id, json!({"enabled": true})).await;
    let resumed = count().await;
    let body = json!({"name": "ci-2", "scope": "read"});
    app.call(Method::POST, "/api/v1/tokens", Some(&admin), Some(body))
        .await;
    assert_eq!(count().await, resumed + 1);
}

#[tokio::test]
async fn endpoint_update_is_validated_and_scoped() {
    let app = TestApp::with_config(config(true)).await;
    let admin = app.token("acme", "admin").await;
    let endpoint = create_endpoint(
        &app,
        &admin,
        "http://127.0.0.1:9/a",
        "json",
        json!(["scan.completed"]),
    )
    .await;
    let id = endpoint["id"].as_str().unwrap();
    let cases = [
        (json!({"format": "xml"}), "format"),
        (json!({"events": []}), "events"),
        (json!({"events": ["scan.completed", "nope"]}), "events[1]"),
        (json!({"url": "ftp://example.org"}), "url"),
        (json!({"url": "http://user:pw@127.0.0.1/hook"}), "url"),
        (json!({"enabled": "yes"}), "enabled"),
        (json!({"colour": "red"}), "colour"),
    ];
    for (body, field) in cases {
        let response = patch_endpoint(&app, &admin, id, body.clone()).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            response.text()
        );
        assert_eq!(response.json()["field"], field, "{body}");
    }

    let member = app.token("acme", "write").await;
    let response = patch_endpoint(&app, &member, id, json!({"enabled": false})).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    let other = app.token("globex", "admin").await;
    let response = patch_endpoint(&app, &other, id, json!({"enabled": false})).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    let missing = patch_endpoint(&app, &admin, &uuid::Uuid::nil().to_string(), json!({})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
