//! `PATCH /api/v1/systems/{id}`: declared facts reclassify and re-evaluate
//! a system in one audited transaction.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::harness::TestApp;

/// Scans the support chat example for `tenant`, subscribes it to the EU AI
/// Act and returns the token and the system id.
async fn scanned_system(app: &TestApp, tenant: &str) -> (String, String) {
    let token = app.token(tenant, "write").await;
    let subscribed = app
        .call(
            Method::PUT,
            "/api/v1/subscriptions",
            Some(&token),
            Some(json!({"frameworks": ["eu-ai-act"]})),
        )
        .await;
    assert_eq!(subscribed.status, StatusCode::OK, "{}", subscribed.text());
    app.scan_example(&token, "loan-screening/support-chat")
        .await;
    let ids = app.system_ids(&token).await;
    assert_eq!(ids.len(), 1, "{ids:?}");
    (token, ids[0].clone())
}

async fn verdicts(app: &TestApp, token: &str, system_id: &str) -> Vec<Value> {
    let response = app
        .call(
            Method::GET,
            &format!("/api/v1/evaluations?system_id={system_id}&limit=200"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn declared_annex_iii_makes_system_high_risk() {
    let app = TestApp::new().await;
    let (token, id) = scanned_system(&app, "acme").await;
    let uri = format!("/api/v1/systems/{id}");
    let before = app.call(Method::GET, &uri, Some(&token), None).await.json();
    assert_ne!(before["risk_class"], json!("high"));
    let verdicts_before = verdicts(&app, &token, &id).await;

    let body = json!({
        "purpose": "scores loan applicants",
        "role": "provider",
        "annex_iii": "5b",
        "human_oversight": "in_the_loop",
        "markets": ["eu"],
    });
    let response = app
        .call(Method::PATCH, &uri, Some(&token), Some(body))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json()["risk_class"], json!("high"));
    assert_eq!(
        response.json()["annex_iii_area"],
        json!("essential-services")
    );
    let verdicts_after = verdicts(&app, &token, &id).await;
    assert!(!verdicts_after.is_empty());
    assert_ne!(
        verdicts_before, verdicts_after,
        "verdicts were not re-evaluated"
    );

    let pool = app.db.admin_pool().await;
    let (diff,): (Value,) = sqlx::query_as(
        "SELECT diff FROM audit_log WHERE action = 'system.declare' AND entity_id = $1",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        diff["declared"]["annex_iii"],
        json!({"from": null, "to": "5b"})
    );
    assert_eq!(diff["risk_class"]["to"], json!("high"));

    let removed = app
        .call(
            Method::PATCH,
            &uri,
            Some(&token),
            Some(json!({"annex_iii": null, "purpose": null})),
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text());
    assert_eq!(removed.json()["risk_class"], before["risk_class"]);
    let (declared,): (Value,) =
        sqlx::query_as("SELECT declared FROM ai_systems WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(declared.get("annex_iii"), None);
    assert_eq!(declared["role"], json!("provider"));
}

#[tokio::test]
async fn declared_fields_are_validated_by_name() {
    let app = TestApp::new().await;
    let (token, id) = scanned_system(&app, "acme").await;
    let uri = format!("/api/v1/systems/{id}");
    let cases = [
        (json!({"role": "owner"}), "role"),
        (json!({"annex_iii": "9z"}), "annex_iii"),
        (json!({"markets": "eu"}), "markets"),
        (json!({"human_oversight": true}), "human_oversight"),
        (json!({"gpai_training_flops": -1}), "gpai_training_flops"),
    ];
    for (body, field) in cases {
        let response = app
            .call(Method::PATCH, &uri, Some(&token), Some(body.clone()))
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            response.text()
        );
        assert_eq!(
            response.json()["field"],
            json!(field),
            "{body}: {}",
            response.text()
        );
    }
    let unknown = app
        .call(
            Method::PATCH,
            &uri,
            Some(&token),
            Some(json!({"colour": "red"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.text().contains("colour"), "{}", unknown.text());
}

#[tokio::test]
async fn declare_is_isolated_and_needs_write_access() {
    let app = TestApp::new().await;
    let (_, id) = scanned_system(&app, "acme").await;
    let uri = format!("/api/v1/systems/{id}");
    let globex = app.token("globex", "admin").await;
    let response = app
        .call(
            Method::PATCH,
            &uri,
            Some(&globex),
            Some(json!({"role": "deployer"})),
        )
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    let reader = app.token("acme", "read").await;
    let response = app
        .call(
            Method::PATCH,
            &uri,
            Some(&reader),
            Some(json!({"role": "deployer"})),
        )
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
}
