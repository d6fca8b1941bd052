//! Sign-in, sign-out, token scopes, revocation and expiry.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::harness::{PASSWORD, TestApp};

#[tokio::test]
async fn health_probes_answer_without_a_token() {
    let app = TestApp::new().await;
    let healthz = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(healthz.status, StatusCode::OK);
    assert_eq!(healthz.text(), "ok");
    let readyz = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(readyz.status, StatusCode::OK);
    assert_eq!(readyz.text(), "ready");
}

#[tokio::test]
async fn session_works_until_sign_out() {
    let app = TestApp::new().await;
    let token = app.session("acme", "alice@example.org", "member").await;
    assert!(token.starts_with(gateway::TOKEN_PREFIX));

    let before = app
        .call(Method::GET, "/api/v1/subscriptions", Some(&token), None)
        .await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text());

    let sign_out = app
        .call(
            Method::DELETE,
            "/api/v1/sessions/current",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        sign_out.status,
        StatusCode::NO_CONTENT,
        "{}",
        sign_out.text()
    );

    let after = app
        .call(Method::GET, "/api/v1/subscriptions", Some(&token), None)
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.header("www-authenticate"), Some("Bearer"));
    assert_eq!(after.header("content-type"), Some(gateway::PROBLEM_JSON));
}

#[tokio::test]
async fn sign_in_rejects_wrong_password_and_unknown_user() {
    let app = TestApp::new().await;
    app.session("acme", "alice@example.org", "member").await;
    let cases = [
        json!({"tenant": "acme", "email": "alice@example.org", "password": "wrong password!"}),
        json!({"tenant": "acme", "email": "bob@example.org", "password": PASSWORD}),
        json!({"tenant": "globex", "email": "alice@example.org", "password": PASSWORD}),
    ];
    for body in cases {
        let response = app
            .call(Method::POST, "/api/v1/sessions", None, Some(body.clone()))
            .await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{body}");
        assert!(!response.text().contains("token\""), "{body}");
    }
}

#[tokio::test]
async fn sign_in_is_case_insensitive_on_email() {
    let app = TestApp::new().await;
    app.session("acme", "alice@example.org", "member").await;
    let body = json!({"tenant": "acme", "email": "Alice@Example.org", "password": PASSWORD});
    let response = app
        .call(Method::POST, "/api/v1/sessions", None, Some(body))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
}

#[tokio::test]
async fn missing_and_malformed_tokens_are_rejected() {
    let app = TestApp::new().await;
    let missing = app.call(Method::GET, "/api/v1/systems", None, None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    let unknown = app
        .call(Method::GET, "/api/v1/systems", Some("sec_00"), None)
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.json()["type"], "urn:secruna:problem:unauthorized");
}

#[tokio::test]
async fn revoked_api_token_is_rejected() {
    let app = TestApp::new().await;
    let admin = app.token("acme", "admin").await;
    let created = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(&admin),
            Some(json!({"name": "ci", "scope": "read"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let secret = created.json()["token"].as_str().unwrap().to_owned();
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let listed = app
        .call(Method::GET, "/api/v1/systems", Some(&secret), None)
        .await;
    assert_eq!(listed.status, StatusCode::OK);

    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text());
    assert!(revoked.json()["revoked_at"].is_string());

    let after = app
        .call(Method::GET, "/api/v1/systems", Some(&secret), None)
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn expired_tokens_are_rejected() {
    let app = TestApp::new().await;
    let api_token = app.token("acme", "read").await;
    let session = app.session("acme", "alice@example.org", "member").await;
    for token in [&api_token, &session] {
        let response = app
            .call(Method::GET, "/api/v1/systems", Some(token), None)
            .await;
        assert_eq!(response.status, StatusCode::OK);
    }

    let admin = app.db.admin_pool().await;
    sqlx::query("UPDATE api_tokens SET expires_at = now() - interval '1 second'")
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE sessions SET created_at = now() - interval '2 days', \
             expires_at = now() - interval '1 second'",
    )
    .execute(&admin)
    .await
    .unwrap();

    for token in [&api_token, &session] {
        let response = app
            .call(Method::GET, "/api/v1/systems", Some(token), None)
            .await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn read_only_principals_cannot_mutate() {
    let app = TestApp::new().await;
    let auditor = app.session("acme", "audrey@example.org", "auditor").await;
    let read_token = app.token("acme", "read").await;
    let subscription = json!({"frameworks": ["eu-ai-act"]});
    for token in [&auditor, &read_token] {
        let put = app
            .call(
                Method::PUT,
                "/api/v1/subscriptions",
                Some(token),
                Some(subscription.clone()),
            )
            .await;
        assert_eq!(put.status, StatusCode::FORBIDDEN, "{}", put.text());
        let scan = app
            .call(
                Method::POST,
                "/api/v1/scans",
                Some(token),
                Some(json!({"path": "loan-screening"})),
            )
            .await;
        assert_eq!(scan.status, StatusCode::FORBIDDEN);
        let read = app
            .call(Method::GET, "/api/v1/subscriptions", Some(token), None)
            .await;
        assert_eq!(read.status, StatusCode::OK);
    }
    let auditor_sign_out = app
        .call(
            Method::DELETE,
            "/api/v1/sessions/current",
            Some(&auditor),
            None,
        )
        .await;
    assert_eq!(auditor_sign_out.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn only_admins_manage_tokens_and_users() {
    let app = TestApp::new().await;
    let write = app.token("acme", "write").await;
    let member = app.session("acme", "mia@example.org", "member").await;
    for token in [&write, &member] {
        let token_create = app
            .call(
                Method::POST,
                "/api/v1/tokens",
                Some(token),
                Some(json!({"name": "x", "scope": "admin"})),
            )
            .await;
        assert_eq!(token_create.status, StatusCode::FORBIDDEN);
        let user = json!({"email": "eve@example.org", "password": PASSWORD, "role": "admin"});
        let user_create = app
            .call(Method::POST, "/api/v1/users", Some(token), Some(user))
            .await;
        assert_eq!(user_create.status, StatusCode::FORBIDDEN);
        let listed = app
            .call(Method::GET, "/api/v1/tokens", Some(token), None)
            .await;
        assert_eq!(listed.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let config = gateway::GatewayConfig {
        rate_per_second: std::num::NonZeroU32::new(1).unwrap(),
        rate_burst: std::num::NonZeroU32::new(2).unwrap(),
        ..gateway::GatewayConfig::default()
    };
    let app = TestApp::with_config(config).await;
    let token = app.token("acme", "read").await;
    let other_tenant = app.token("globex", "read").await;
    for _ in 0..2 {
        let response = app
            .call(Method::GET, "/api/v1/subscriptions", Some(&token), None)
            .await;
        assert_eq!(response.status, StatusCode::OK);
    }
    let limited = app
        .call(Method::GET, "/api/v1/subscriptions", Some(&token), None)
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.header("retry-after"), Some("1"));
    let other = app
        .call(
            Method::GET,
            "/api/v1/subscriptions",
            Some(&other_tenant),
            None,
        )
        .await;
    assert_eq!(
        other.status,
        StatusCode::OK,
        "another tenant has its own budget"
    );
}

#[tokio::test]
async fn duplicate_user_gets_409() {
    let app = TestApp::new().await;
    let admin = app.token("acme", "admin").await;
    let user = json!({"email": "kim@example.org", "password": PASSWORD, "role": "member"});
    let first = app
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&admin),
            Some(user.clone()),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let second = app
        .call(Method::POST, "/api/v1/users", Some(&admin), Some(user))
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert!(
        second.json()["detail"]
            .as_str()
            .unwrap()
            .contains("kim@example.org")
    );
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_client_address() {
    let config = gateway::GatewayConfig {
        rate_per_second: std::num::NonZeroU32::new(1).unwrap(),
        rate_burst: std::num::NonZeroU32::new(2).unwrap(),
        ..gateway::GatewayConfig::default()
    };
    let app = TestApp::with_config(config).await;
    // Sent together, because a password check in a debug build takes long
    // enough to refill the budget between sequential attempts.
    let attempts = ["a", "b", "c"].map(|tenant| {
        let body = json!({"tenant": tenant, "email": "x@example.org", "password": PASSWORD});
        app.call(Method::POST, "/api/v1/sessions", None, Some(body))
    });
    let mut statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|response| response.status)
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}
