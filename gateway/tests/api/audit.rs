//! Every mutating route writes an audit row; the trail can be listed,
//! exported as CSV and verified.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use super::harness::{PASSWORD, TestApp, TestResponse};

/// Sends one request of every mutating route with a valid body, as an
/// admin of `acme`, with `request_id` and a fixed user agent.
///
/// A new mutating route makes this panic until it gets a case here, so its
/// audit row is checked too.
async fn call_mutation(app: &TestApp, method: &str, path: &str, request_id: &str) -> TestResponse {
    let admin = app.token("acme", "admin").await;
    let (token, uri, body) = match (method, path) {
        ("POST", "/api/v1/sessions") => {
            gateway::create_user(
                &app.db.store,
                "acme",
                "sam@example.org",
                PASSWORD,
                "member",
                "cli:test",
            )
            .await
            .unwrap();
            let body = json!({"tenant": "acme", "email": "sam@example.org", "password": PASSWORD});
            (None, path.to_owned(), Some(body))
        }
        ("DELETE", "/api/v1/sessions/current") => {
            let session = app.session("acme", "dee@example.org", "auditor").await;
            (Some(session), path.to_owned(), None)
        }
        ("POST", "/api/v1/tokens") => (
            Some(admin),
            path.to_owned(),
            Some(json!({"name": "ci", "scope": "read"})),
        ),
        ("DELETE", "/api/v1/tokens/{id}") => {
            let created = app
                .call(
                    Method::POST,
                    "/api/v1/tokens",
                    Some(&admin),
                    Some(json!({"name": "old", "scope": "read"})),
                )
                .await;
            let id = created.json()["id"].as_str().unwrap().to_owned();
            (Some(admin), format!("/api/v1/tokens/{id}"), None)
        }
        ("POST", "/api/v1/users") => {
            let body = json!({"email": "new@example.org", "password": PASSWORD, "role": "auditor"});
            (Some(admin), path.to_owned(), Some(body))
        }
        ("PUT", "/api/v1/subscriptions") => (
            Some(admin),
            path.to_owned(),
            Some(json!({"frameworks": ["eu-ai-act"]})),
        ),
        ("POST", "/api/v1/connectors") => (
            Some(admin),
            path.to_owned(),
            Some(json!({"name": "repo", "kind": "git", "config": {"path": "loan-screening"}})),
        ),
        ("PATCH" | "DELETE", "/api/v1/connectors/{id}") => {
            let name = format!("repo-{request_id}");
            let body = json!({"name": name, "kind": "git", "config": {"path": "loan-screening"}});
            let created = app
                .call(Method::POST, "/api/v1/connectors", Some(&admin), Some(body))
                .await;
            let id = created.json()["id"].as_str().unwrap().to_owned();
            let body = (method == "PATCH").then(|| json!({"name": format!("{name}-renamed")}));
            (Some(admin), format!("/api/v1/connectors/{id}"), body)
        }
        ("PATCH", "/api/v1/systems/{id}") => {
            app.scan_example(&admin, "loan-screening/support-chat")
                .await;
            let id = app.system_ids(&admin).await[0].clone();
            let body = json!({"role": "deployer"});
            (Some(admin), format!("/api/v1/systems/{id}"), Some(body))
        }
        ("POST", "/api/v1/webhooks") => {
            let body = json!({"url": "http://127.0.0.1:9/hook", "events": ["audit.appended"]});
            (Some(admin), path.to_owned(), Some(body))
        }
        ("DELETE", "/api/v1/webhooks/{id}") | ("POST", "/api/v1/webhooks/{id}/test") => {
            let body = json!({"url": "http://127.0.0.1:9/hook", "events": ["scan.completed"]});
            let created = app
                .call(Method::POST, "/api/v1/webhooks", Some(&admin), Some(body))
                .await;
            let id = created.json()["id"].as_str().unwrap().to_owned();
            let uri = path.replace("{id}", &id);
            (Some(admin), uri, None)
        }
        ("PATCH", "/api/v1/webhooks/{id}") => {
            let body = json!({"url": "http://127.0.0.1:9/hook", "events": ["scan.failed"]});
            let created = app
                .call(Method::POST, "/api/v1/webhooks", Some(&admin), Some(body))
                .await;
            let id = created.json()["id"].as_str().unwrap().to_owned();
            let body = json!({"enabled": false, "rotate_secret": true});
            (Some(admin), path.replace("{id}", &id), Some(body))
        }
        ("POST", "/api/v1/reviews/{id}/approve" | "/api/v1/reviews/{id}/reject") => {
            let review = super::reviews::pending_review(app, "acme", request_id).await;
            let body = json!({"comment": "checked against the evidence"});
            (
                Some(admin),
                path.replace("{id}", &review.to_string()),
                Some(body),
            )
        }
        ("POST", "/api/v1/reviews/{id}/links") => {
            let review = super::reviews::pending_review(app, "acme", request_id).await;
            let body = json!({"decisions": ["approve"]});
            (
                Some(admin),
                path.replace("{id}", &review.to_string()),
                Some(body),
            )
        }
        ("POST", "/api/v1/review-links/{token}") => {
            let review = super::reviews::pending_review(app, "acme", request_id).await;
            let uri = format!("/api/v1/reviews/{review}/links");
            let created = app
                .call(Method::POST, &uri, Some(&admin), Some(json!({})))
                .await;
            let token = created.json()["token"].as_str().unwrap().to_owned();
            let body = json!({"decision": "approve", "reviewer": "Dana Ortiz", "comment": "ok"});
            (None, path.replace("{token}", &token), Some(body))
        }
        ("POST", "/api/v1/scans") => (
            Some(admin),
            path.to_owned(),
            Some(json!({"path": "loan-screening/support-chat"})),
        ),
        ("POST", "/api/v1/scans/{id}/cancel") => {
            let id = super::scans::orphan_scan(app, "acme").await;
            (Some(admin), path.replace("{id}", &id.to_string()), None)
        }
        _ => panic!(
            "no audit case for {method} {path}; add one to call_mutation so its audit row is checked"
        ),
    };
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("x-request-id", request_id)
        .header(header::USER_AGENT, "audit-check/1.0");
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    };
    app.send(request.unwrap()).await
}

#[derive(Debug, sqlx::FromRow)]
struct AuditOrigin {
    actor_type: String,
    actor_id: String,
    ip: Option<String>,
    user_agent: Option<String>,
}

#[tokio::test]
async fn every_mutating_route_writes_an_audit_row() {
    let key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [3u8; 32]);
    let app = TestApp::with_config(gateway::GatewayConfig {
        scan_root: Some(super::harness::examples_root()),
        secret_key: Some(gateway::SecretKey::from_base64(&key).unwrap()),
        webhook_allow: vec!["127.0.0.0/8".parse().unwrap()],
        ..gateway::GatewayConfig::default()
    })
    .await;
    let document = serde_json::to_value(gateway::openapi()).unwrap();
    let admin_pool = app.db.admin_pool().await;
    let mut num_checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in ["post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let method = method.to_uppercase();
            let request_id = format!("audit-check-{num_checked}");
            let response = call_mutation(&app, &method, path, &request_id).await;
            assert!(
                response.status.is_success(),
                "{method} {path}: {} {}",
                response.status,
                response.text()
            );
            assert_eq!(response.header("x-request-id"), Some(request_id.as_str()));

            let rows: Vec<AuditOrigin> = sqlx::query_as(
                "SELECT actor_type, actor_id, host(ip) AS ip, user_agent FROM audit_log \
                 WHERE request_id = $1",
            )
            .bind(&request_id)
            .fetch_all(&admin_pool)
            .await
            .unwrap();
            assert!(!rows.is_empty(), "{method} {path} wrote no audit row");
            for row in rows {
                assert!(
                    ["user", "token", "review_link"].contains(&row.actor_type.as_str()),
                    "{method} {path}: {row:?}"
                );
                assert!(
                    row.actor_id.parse::<uuid::Uuid>().is_ok(),
                    "{method} {path}: {row:?}"
                );
                assert_eq!(row.ip.as_deref(), Some("127.0.0.7"), "{method} {path}");
                assert_eq!(
                    row.user_agent.as_deref(),
                    Some("audit-check/1.0"),
                    "{method} {path}"
                );
            }
            num_checked += 1;
        }
    }
    assert_eq!(num_checked, 20, "mutating routes checked");
}

#[tokio::test]
async fn failed_mutation_leaves_no_audit_row() {
    let app = TestApp::new().await;
    let token = app.token("acme", "write").await;
    let request = Request::builder()
        .method(Method::PUT)
        .uri("/api/v1/subscriptions")
        .header("x-request-id", "failing-put")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"frameworks": ["nope"]}).to_string()))
        .unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE request_id = 'failing-put'")
            .fetch_one(&app.db.admin_pool().await)
            .await
            .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn audit_csv_neutralises_formulas() {
    let app = TestApp::new().await;
    let token = app.token("acme", "admin").await;
    for agent in [
        "=HYPERLINK(\"http://evil\",\"x\")",
        "@SUM(1+1)",
        "-2+3",
        "+cmd",
    ] {
        let request = Request::builder()
            .method(Method::PUT)
            .uri("/api/v1/subscriptions")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::USER_AGENT, agent)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({"frameworks": ["eu-ai-act"]}).to_string()))
            .unwrap();
        assert_eq!(app.send(request).await.status, StatusCode::OK);
    }

    let response = app
        .call(Method::GET, "/api/v1/audit.csv", Some(&token), None)
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    let text = response.text();
    let mut lines = text.split("\r\n");
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("seq,id,tenant_path,occurred_at,actor_type")
    );
    assert!(
        text.contains(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\","),
        "{text}"
    );
    assert!(text.contains(",\"'@SUM(1+1)\","), "{text}");
    assert!(text.contains(",\"'-2+3\","), "{text}");
    assert!(text.contains(",\"'+cmd\","), "{text}");
    assert!(!text.contains(",=HYPERLINK"), "{text}");
    assert_eq!(text.matches("subscription.update").count(), 4);
}

#[tokio::test]
async fn audit_list_filters_and_verifies() {
    let app = TestApp::new().await;
    let token = app.token("acme", "admin").await;
    for name in ["one", "two", "three"] {
        let response = app
            .call(
                Method::POST,
                "/api/v1/tokens",
                Some(&token),
                Some(json!({"name": name, "scope": "read"})),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED);
    }
    app.call(
        Method::PUT,
        "/api/v1/subscriptions",
        Some(&token),
        Some(json!({"frameworks": []})),
    )
    .await;

    let mut actions = Vec::new();
    let mut uri = "/api/v1/audit?entity_type=api_token&limit=2".to_owned();
    loop {
        let page: Value = app.call(Method::GET, &uri, Some(&token), None).await.json();
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["entity_type"], "api_token");
            actions.push(item["diff"]["name"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                uri = format!("/api/v1/audit?entity_type=api_token&limit=2&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(actions, ["test", "one", "two", "three"]);

    let verify = app
        .call(Method::GET, "/api/v1/audit/verify", Some(&token), None)
        .await
        .json();
    assert_eq!(verify["intact"], true);
    assert_eq!(verify["rows_checked"], 5);

    sqlx::query("UPDATE audit_log SET action = 'forged' WHERE seq = 3")
        .execute(&app.db.admin_pool().await)
        .await
        .unwrap();
    let verify = app
        .call(Method::GET, "/api/v1/audit/verify", Some(&token), None)
        .await
        .json();
    assert_eq!(verify["intact"], false);
    assert_eq!(verify["first_bad"]["seq"], 3);
}

#[tokio::test]
async fn concurrent_writers_keep_one_chain() {
    const NUM_WRITERS: usize = 16;
    const NUM_MUTATIONS: usize = 50;
    let config = gateway::GatewayConfig {
        rate_per_second: std::num::NonZeroU32::new(100_000).unwrap(),
        rate_burst: std::num::NonZeroU32::new(100_000).unwrap(),
        ..gateway::GatewayConfig::default()
    };
    let app = std::sync::Arc::new(TestApp::with_config(config).await);
    let token = app.token("acme", "write").await;

    let mut writers = Vec::new();
    for writer in 0..NUM_WRITERS {
        let app = app.clone();
        let token = token.clone();
        writers.push(tokio::spawn(async move {
            for mutation in 0..NUM_MUTATIONS {
                let frameworks = if (writer + mutation) % 2 == 0 {
                    json!(["eu-ai-act"])
                } else {
                    json!([])
                };
                let body = json!({"frameworks": frameworks});
                let response = app
                    .call(
                        Method::PUT,
                        "/api/v1/subscriptions",
                        Some(&token),
                        Some(body),
                    )
                    .await;
                assert_eq!(response.status, StatusCode::OK, "{}", response.text());
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }

    let verify = app
        .call(Method::GET, "/api/v1/audit/verify", Some(&token), None)
        .await
        .json();
    assert_eq!(verify["intact"], true, "{verify}");
    assert_eq!(
        verify["rows_checked"],
        json!(NUM_WRITERS * NUM_MUTATIONS + 1)
    );

    let export = app
        .call(Method::GET, "/api/v1/audit.csv", Some(&token), None)
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export.body.len() > 64 * 1024,
        "the export spans several chunks"
    );
    let num_records = export.text().matches("\r\n").count();
    assert_eq!(
        num_records,
        NUM_WRITERS * NUM_MUTATIONS + 2,
        "header plus one record per row"
    );

    let future = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let after_now = app
        .call(
            Method::GET,
            &format!("/api/v1/audit?from={future}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(after_now.status, StatusCode::OK, "{}", after_now.text());
    assert_eq!(after_now.json()["items"], json!([]));
    let reversed = app
        .call(
            Method::GET,
            &format!("/api/v1/audit?from={future}&to=2020-01-01T00:00:00Z"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(reversed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reversed.json()["field"], "to");
}
