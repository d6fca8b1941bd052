//! The review queue: listing, decisions, roles, tenancy, and two-person
//! review links (single use, expiry, tampering, scope).

use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gateway::{GatewayConfig, SecretKey};
use serde_json::{Value, json};
use store::reviews::ReviewRequest;
use store::{TenantContext, TenantPath};
use uuid::Uuid;

use super::harness::TestApp;

pub(crate) const FRAMEWORK: &str = "eu-ai-act";

pub(crate) async fn app() -> TestApp {
    let key = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    TestApp::with_config(GatewayConfig {
        secret_key: Some(SecretKey::from_base64(&key).unwrap()),
        webhook_allow: vec!["127.0.0.0/8".parse().unwrap()],
        ..GatewayConfig::default()
    })
    .await
}

pub(crate) async fn subscribe(app: &TestApp, admin: &str) {
    let body = json!({"frameworks": [FRAMEWORK]});
    let response = app
        .call(
            Method::PUT,
            "/api/v1/subscriptions",
            Some(admin),
            Some(body),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
}

/// A system to store directly, as the writer does after a scan.
pub(crate) struct SeedSystem<'a> {
    pub(crate) name: &'a str,
    pub(crate) risk_class: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) source: &'a str,
    /// `(rule id, verdict)` pairs of the eu-ai-act framework.
    pub(crate) verdicts: &'a [(&'a str, &'a str)],
}

/// Stores a system of `tenant` with its verdicts and returns its id.
pub(crate) async fn seed_system(app: &TestApp, tenant: &str, seed: &SeedSystem<'_>) -> Uuid {
    let context = TenantContext::new(TenantPath::from_slug_path(tenant).unwrap());
    let mut tx = app.db.store.begin(&context).await.unwrap();
    let scan = store::scans::create(
        &mut tx,
        store::scans::NewScan {
            source: seed.source.to_owned(),
            target: "/srv/code".to_owned(),
            requested_by: "cli:test".to_owned(),
        },
    )
    .await
    .unwrap();
    let system = store::systems::upsert(
        &mut tx,
        &store::systems::SystemUpsert {
            source: seed.source.to_owned(),
            external_id: format!("/srv/code#{}", seed.name),
            name: seed.name.to_owned(),
            root: seed.name.to_owned(),
            kinds: vec![seed.kind.to_owned()],
            risk_class: seed.risk_class.to_owned(),
            annex_iii_area: None,
            gpai: false,
            reasons: json!([]),
            confidence: 0.4,
            facts: json!({}),
            scan_id: scan.id,
        },
    )
    .await
    .unwrap();
    let evaluations: Vec<store::evaluations::EvaluationUpsert> = seed
        .verdicts
        .iter()
        .map(|(rule_id, status)| store::evaluations::EvaluationUpsert {
            system_id: system.id,
            framework: FRAMEWORK.to_owned(),
            rule_id: (*rule_id).to_owned(),
            status: (*status).to_owned(),
            reasons: json!(["classification confidence 0.4 is below 0.6"]),
            evidence_required: json!([]),
            scan_id: scan.id,
        })
        .collect();
    store::evaluations::upsert_batch(&mut tx, &evaluations)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    system.id
}

/// Stores a system of `tenant` whose verdict of `rule_id` needs review, as
/// the writer does after a scan, and returns the review id.
async fn seed_review(
    app: &TestApp,
    tenant: &str,
    name: &str,
    rule_id: &str,
    verdict: &str,
) -> Uuid {
    let seed = SeedSystem {
        name,
        risk_class: "high",
        kind: "calls_hosted_model_api",
        source: "code",
        verdicts: &[(rule_id, verdict)],
    };
    let system_id = seed_system(app, tenant, &seed).await;
    let context = TenantContext::new(TenantPath::from_slug_path(tenant).unwrap());
    let mut tx = app.db.store.begin(&context).await.unwrap();
    let request = ReviewRequest {
        framework: FRAMEWORK.to_owned(),
        rule_id: rule_id.to_owned(),
        verdict: verdict.to_owned(),
    };
    let written =
        store::reviews::request_batch(&mut tx, system_id, &[request], "system:coordinator")
            .await
            .unwrap();
    assert_eq!(written, 1);
    tx.commit().await.unwrap();

    let admin = app.token(tenant, "admin").await;
    let uri = format!("/api/v1/reviews?system_id={system_id}");
    let response = app.call(Method::GET, &uri, Some(&admin), None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Subscribes `tenant` to eu-ai-act and stores a system named `name` with a
/// pending review; returns the review id.
pub(crate) async fn pending_review(app: &TestApp, tenant: &str, name: &str) -> Uuid {
    let admin = app.token(tenant, "admin").await;
    subscribe(app, &admin).await;
    seed_review(
        app,
        tenant,
        name,
        "eu-ai-act/art-14-human-oversight",
        "fail",
    )
    .await
}

async fn setup(app: &TestApp, tenant: &str) -> (String, Uuid) {
    let admin = app.token(tenant, "admin").await;
    subscribe(app, &admin).await;
    let review = seed_review(
        app,
        tenant,
        "hiring",
        "eu-ai-act/art-14-human-oversight",
        "fail",
    )
    .await;
    (admin, review)
}

async fn decide(
    app: &TestApp,
    token: &str,
    review: Uuid,
    decision: &str,
    body: Value,
) -> super::harness::TestResponse {
    let uri = format!("/api/v1/reviews/{review}/{decision}");
    app.call(Method::POST, &uri, Some(token), Some(body)).await
}

async fn audit_actions(app: &TestApp, review: Uuid) -> Vec<(String, String, Value)> {
    let pool = app.db.admin_pool().await;
    sqlx::query_as::<_, (String, String, Value)>(
        "SELECT action, actor_type, diff FROM audit_log WHERE entity_type = 'review' \
         AND entity_id = $1 ORDER BY seq",
    )
    .bind(review.to_string())
    .fetch_all(&pool)
    .await
    .unwrap()
}

async fn create_link(app: &TestApp, token: &str, review: Uuid, body: Value) -> Value {
    let uri = format!("/api/v1/reviews/{review}/links");
    let response = app.call(Method::POST, &uri, Some(token), Some(body)).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    response.json()
}

async fn use_link(app: &TestApp, token: &str, body: Value) -> super::harness::TestResponse {
    let uri = format!("/api/v1/review-links/{token}");
    app.call(Method::POST, &uri, None, Some(body)).await
}

fn link_body(decision: &str) -> Value {
    json!({"decision": decision, "reviewer": "Dana Ortiz", "comment": "checked the oversight plan"})
}

#[tokio::test]
async fn pending_review_is_listed_and_fetched() {
    let app = app().await;
    let (admin, review) = setup(&app, "acme").await;

    let response = app
        .call(
            Method::GET,
            "/api/v1/reviews?status=pending&framework=eu-ai-act",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let items = response.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], review.to_string());
    assert_eq!(items[0]["status"], "pending");
    assert_eq!(items[0]["verdict"], "fail");
    assert_eq!(items[0]["requested_by"], "system:coordinator");

    let response = app
        .call(
            Method::GET,
            &format!("/api/v1/reviews/{review}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.json()["rule_id"],
        "eu-ai-act/art-14-human-oversight"
    );

    let approved = app
        .call(
            Method::GET,
            "/api/v1/reviews?status=approved",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(approved.json()["items"], json!([]));
}

#[tokio::test]
async fn review_filters_reject_bad_values() {
    let app = app().await;
    let (admin, _) = setup(&app, "acme").await;
    let cases = [
        (
            "/api/v1/reviews?framework=no-such-act",
            StatusCode::BAD_REQUEST,
            "framework",
        ),
        (
            "/api/v1/reviews?status=maybe",
            StatusCode::UNPROCESSABLE_ENTITY,
            "status",
        ),
        (
            "/api/v1/reviews?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "limit",
        ),
    ];
    for (uri, status, field) in cases {
        let response = app.call(Method::GET, uri, Some(&admin), None).await;
        assert_eq!(response.status, status, "{uri}: {}", response.text());
        assert_eq!(response.json()["field"], field, "{uri}");
    }
    let unsubscribed = app.token("initech", "read").await;
    let response = app
        .call(
            Method::GET,
            "/api/v1/reviews?framework=eu-ai-act",
            Some(&unsubscribed),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.json()["field"], "framework");
}

#[tokio::test]
async fn rejection_with_verdict_changes_shown_verdict() {
    let app = app().await;
    let (admin, review) = setup(&app, "acme").await;

    let body = json!({"comment": "oversight plan is in place", "verdict": "pass"});
    let response = decide(&app, &admin, review, "reject", body).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let decided = response.json();
    assert_eq!(decided["status"], "rejected");
    assert_eq!(decided["shown_verdict"], "pass");
    assert_eq!(decided["comment"], "oversight plan is in place");

    let response = app
        .call(
            Method::GET,
            "/api/v1/evaluations?framework=eu-ai-act",
            Some(&admin),
            None,
        )
        .await;
    let verdict = &response.json()["items"][0];
    assert_eq!(verdict["status"], "pass");
    assert_eq!(verdict["review_status"], "rejected");

    let actions = audit_actions(&app, review).await;
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].0, "review.reject");
    assert_eq!(
        actions[0].2["shown_verdict"],
        json!({"from": "fail", "to": "pass"})
    );
}

#[tokio::test]
async fn decision_validates_comment_and_verdict() {
    let app = app().await;
    let (admin, review) = setup(&app, "acme").await;
    let cases = [
        ("approve", json!({"comment": "  "}), "comment"),
        (
            "approve",
            json!({"comment": "ok", "verdict": "pass"}),
            "verdict",
        ),
        (
            "reject",
            json!({"comment": "no", "verdict": "maybe"}),
            "verdict",
        ),
        ("reject", json!({}), "comment"),
    ];
    for (decision, body, field) in cases {
        let response = decide(&app, &admin, review, decision, body.clone()).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            response.text()
        );
        assert_eq!(response.json()["field"], field, "{body}");
    }
    assert!(audit_actions(&app, review).await.is_empty());
}

#[tokio::test]
async fn auditor_cannot_decide() {
    let app = app().await;
    let (_, review) = setup(&app, "acme").await;
    let auditor = app.session("acme", "ada@example.org", "auditor").await;
    let reader = app.token("acme", "read").await;
    for token in [&auditor, &reader] {
        for decision in ["approve", "reject"] {
            let response = decide(&app, token, review, decision, json!({"comment": "fine"})).await;
            assert_eq!(
                response.status,
                StatusCode::FORBIDDEN,
                "{}",
                response.text()
            );
        }
        let uri = format!("/api/v1/reviews/{review}/links");
        let response = app
            .call(Method::POST, &uri, Some(token), Some(json!({})))
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN);
    }
    let response = app
        .call(
            Method::GET,
            &format!("/api/v1/reviews/{review}"),
            Some(&auditor),
            None,
        )
        .await;
    assert_eq!(response.json()["status"], "pending");
}

#[tokio::test]
async fn other_tenants_review_is_not_found() {
    let app = app().await;
    let (_, review) = setup(&app, "acme").await;
    let (other_admin, _) = setup(&app, "globex").await;

    let get = app
        .call(
            Method::GET,
            &format!("/api/v1/reviews/{review}"),
            Some(&other_admin),
            None,
        )
        .await;
    assert_eq!(get.status, StatusCode::NOT_FOUND);
    for decision in ["approve", "reject"] {
        let response = decide(
            &app,
            &other_admin,
            review,
            decision,
            json!({"comment": "x"}),
        )
        .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{decision}");
    }
    let uri = format!("/api/v1/reviews/{review}/links");
    let response = app
        .call(Method::POST, &uri, Some(&other_admin), Some(json!({})))
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    let listed = app
        .call(Method::GET, "/api/v1/reviews", Some(&other_admin), None)
        .await;
    let ids: Vec<String> = listed.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1);
    assert!(!ids.contains(&review.to_string()));
}

#[tokio::test]
async fn link_decides_once_and_audits_both_people() {
    let app = app().await;
    let (_, review) = setup(&app, "acme").await;
    let requester = app.session("acme", "rhea@example.org", "member").await;
    let link = create_link(&app, &requester, review, json!({"decisions": ["approve"]})).await;
    let token = link["token"].as_str().unwrap();
    assert_eq!(link["path"], format!("/api/v1/review-links/{token}"));

    let first = use_link(&app, token, link_body("approve")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(first.json()["status"], "approved");
    let second = use_link(&app, token, link_body("approve")).await;
    assert_eq!(second.status, StatusCode::GONE, "{}", second.text());
    assert_eq!(second.json()["type"], "urn:secruna:problem:gone");

    let actions = audit_actions(&app, review).await;
    assert_eq!(actions.len(), 2);
    assert_eq!(actions[0].0, "review.link_create");
    assert_eq!(actions[0].1, "user");
    assert_eq!(actions[1].0, "review.approve");
    assert_eq!(actions[1].1, "review_link");
    assert_eq!(actions[1].2["reviewer"], "Dana Ortiz");
    assert_eq!(actions[1].2["requester"], actions[0].2["requester"]);
    assert_eq!(actions[1].2["link_id"], link["id"]);

    let pool = app.db.admin_pool().await;
    let signature = token.rsplit('.').next().unwrap();
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM review_links \
         WHERE position($1 IN row_to_json(review_links)::text) > 0 AND octet_length(nonce_hash) = 32",
    )
    .bind(signature)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 0, "the link text must not be stored");
}

#[tokio::test]
async fn link_allows_only_its_decisions() {
    let app = app().await;
    let (admin, review) = setup(&app, "acme").await;
    let link = create_link(&app, &admin, review, json!({"decisions": ["approve"]})).await;
    let token = link["token"].as_str().unwrap();
    let response = use_link(&app, token, link_body("reject")).await;
    assert_eq!(
        response.status,
        StatusCode::FORBIDDEN,
        "{}",
        response.text()
    );
    let response = use_link(&app, token, link_body("approve")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
}

#[tokio::test]
async fn expired_link_is_gone() {
    let app = app().await;
    let (admin, review) = setup(&app, "acme").await;
    let link = create_link(&app, &admin, review, json!({"expires_in_minutes": 1})).await;
    let pool = app.db.admin_pool().await;
    sqlx::query("UPDATE review_links SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    let response = use_link(&app, link["token"].as_str().unwrap(), link_body("approve")).await;
    assert_eq!(response.status, StatusCode::GONE, "{}", response.text());
    let review_now = app
        .call(
            Method::GET,
            &format!("/api/v1/reviews/{review}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(review_now.json()["status"], "pending");
}

/// Rewrites one claim of a link and keeps its signature.
fn tampered(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    edit(&mut claims);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

#[tokio::test]
async fn tampered_or_foreign_links_are_rejected() {
    let app = app().await;
    let (admin, review_a) = setup(&app, "acme").await;
    let review_b = seed_review(
        &app,
        "acme",
        "payroll",
        "eu-ai-act/art-13-instructions-for-use",
        "fail",
    )
    .await;
    let link = create_link(&app, &admin, review_a, json!({"decisions": ["approve"]})).await;
    let token = link["token"].as_str().unwrap();

    let cases = [
        tampered(token, |claims| claims["review"] = json!(review_b)),
        tampered(token, |claims| {
            claims["decisions"] = json!(["approve", "reject"])
        }),
        tampered(token, |claims| claims["expires"] = json!(4_102_444_800_i64)),
        tampered(token, |claims| claims["tenant"] = json!("globex")),
        format!("{}x", token),
        "rl1.e30.AAAA".to_owned(),
    ];
    for forged in &cases {
        let response = use_link(&app, forged, link_body("approve")).await;
        assert_eq!(
            response.status,
            StatusCode::NOT_FOUND,
            "{forged}: {}",
            response.text()
        );
    }
    let response = app
        .call(Method::GET, "/api/v1/reviews", Some(token), None)
        .await;
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "a link is no bearer token"
    );

    for review in [review_a, review_b] {
        let response = app
            .call(
                Method::GET,
                &format!("/api/v1/reviews/{review}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(response.json()["status"], "pending");
    }
}

#[tokio::test]
async fn requester_cannot_review_own_link() {
    let app = app().await;
    let (_, review) = setup(&app, "acme").await;
    let requester = app.token("acme", "write").await;
    let link = create_link(&app, &requester, review, json!({})).await;
    let token = link["token"].as_str().unwrap();

    let uri = format!("/api/v1/review-links/{token}");
    let response = app
        .call(
            Method::POST,
            &uri,
            Some(&requester),
            Some(link_body("approve")),
        )
        .await;
    assert_eq!(
        response.status,
        StatusCode::FORBIDDEN,
        "{}",
        response.text()
    );
    let response = decide(
        &app,
        &requester,
        review,
        "approve",
        json!({"comment": "mine"}),
    )
    .await;
    assert_eq!(
        response.status,
        StatusCode::FORBIDDEN,
        "{}",
        response.text()
    );

    let other = app.token("acme", "write").await;
    let response = decide(
        &app,
        &other,
        review,
        "approve",
        json!({"comment": "second pair of eyes"}),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let response = use_link(&app, token, link_body("approve")).await;
    assert_eq!(response.status, StatusCode::CONFLICT, "{}", response.text());
}

#[tokio::test]
async fn changed_proposal_reopens_review_and_voids_links() {
    let app = app().await;
    let (admin, review) = setup(&app, "acme").await;
    let response = decide(
        &app,
        &admin,
        review,
        "approve",
        json!({"comment": "agreed"}),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    let link_review = seed_review(
        &app,
        "acme",
        "triage",
        "eu-ai-act/art-14-human-oversight",
        "fail",
    )
    .await;
    let link = create_link(&app, &admin, link_review, json!({})).await;

    let context = TenantContext::new(TenantPath::from_slug_path("acme").unwrap());
    let mut tx = app.db.store.begin(&context).await.unwrap();
    for (id, reviewed) in [(review, true), (link_review, false)] {
        let row = store::reviews::get(&mut tx, id).await.unwrap().unwrap();
        let request = ReviewRequest {
            framework: row.framework.clone(),
            rule_id: row.rule_id.clone(),
            verdict: "needs_evidence".to_owned(),
        };
        let written = store::reviews::request_batch(
            &mut tx,
            row.system_id,
            std::slice::from_ref(&request),
            "system:coordinator",
        )
        .await
        .unwrap();
        assert_eq!(written, 1, "reviewed={reviewed}");
        let unchanged =
            store::reviews::request_batch(&mut tx, row.system_id, &[request], "system:coordinator")
                .await
                .unwrap();
        assert_eq!(unchanged, 0);
    }
    tx.commit().await.unwrap();

    let reopened = app
        .call(
            Method::GET,
            &format!("/api/v1/reviews/{review}"),
            Some(&admin),
            None,
        )
        .await
        .json();
    assert_eq!(reopened["status"], "pending");
    assert_eq!(reopened["verdict"], "needs_evidence");
    assert_eq!(reopened["comment"], Value::Null);
    let response = use_link(&app, link["token"].as_str().unwrap(), link_body("approve")).await;
    assert_eq!(response.status, StatusCode::GONE, "{}", response.text());
}

#[tokio::test]
async fn review_no_longer_needed_is_withdrawn() {
    let app = app().await;
    let (admin, review) = setup(&app, "acme").await;
    let context = TenantContext::new(TenantPath::from_slug_path("acme").unwrap());
    let mut tx = app.db.store.begin(&context).await.unwrap();
    let row = store::reviews::get(&mut tx, review).await.unwrap().unwrap();
    store::reviews::request_batch(&mut tx, row.system_id, &[], "system:coordinator")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let response = app
        .call(
            Method::GET,
            &format!("/api/v1/reviews/{review}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn shown_verdict_change_raises_webhook_event() {
    let app = app().await;
    let (admin, review) = setup(&app, "acme").await;
    let body = json!({"url": "http://127.0.0.1:9/hook", "events": ["verdict.changed"]});
    let response = app
        .call(Method::POST, "/api/v1/webhooks", Some(&admin), Some(body))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let pool = app.db.admin_pool().await;
    let count = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM webhook_outbox WHERE event_type = 'verdict.changed'",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let response = decide(
        &app,
        &admin,
        review,
        "approve",
        json!({"comment": "agreed"}),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(count().await, 0, "approving keeps the verdict shown");
    let response = decide(
        &app,
        &admin,
        review,
        "reject",
        json!({"comment": "plan exists", "verdict": "pass"}),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(count().await, 1);
}

#[tokio::test]
async fn scan_queues_verdicts_for_review() {
    let app = TestApp::new().await;
    let admin = app.token("acme", "admin").await;
    subscribe(&app, &admin).await;
    app.scan_example(&admin, "loan-screening").await;
    let book = rule_book::RuleBook::embedded().unwrap();
    let counsel_rules: Vec<String> = book
        .framework(FRAMEWORK)
        .unwrap()
        .rules
        .iter()
        .filter(|rule| rule.counsel_review)
        .map(|rule| rule.id.clone())
        .collect();

    let systems = app
        .call(Method::GET, "/api/v1/systems", Some(&admin), None)
        .await
        .json();
    let reviews = app
        .call(Method::GET, "/api/v1/reviews?limit=500", Some(&admin), None)
        .await
        .json();
    let reviews = reviews["items"].as_array().unwrap();
    assert!(
        !reviews.is_empty(),
        "the example has rules marked for counsel review"
    );
    for system in systems["items"].as_array().unwrap() {
        let id = system["id"].as_str().unwrap();
        let low_confidence = system["confidence"].as_f64().unwrap() < 0.6;
        let uri = format!("/api/v1/systems/{id}");
        let detail = app.call(Method::GET, &uri, Some(&admin), None).await.json();
        for verdict in detail["evaluations"].as_array().unwrap() {
            let review = reviews.iter().find(|review| {
                review["system_id"] == id && review["rule_id"] == verdict["rule_id"]
            });
            let Some(review) = review else {
                assert_eq!(verdict["review_status"], Value::Null, "{verdict}");
                continue;
            };
            assert_eq!(verdict["review_status"], "pending");
            assert_eq!(review["verdict"], verdict["status"]);
            assert_eq!(review["requested_by"], "system:coordinator");
            let rule_id = verdict["rule_id"].as_str().unwrap().to_owned();
            assert!(
                low_confidence || counsel_rules.contains(&rule_id),
                "{rule_id} of confident system {id} is queued"
            );
        }
    }

    let before: Vec<Value> = reviews.to_vec();
    app.scan_example(&admin, "loan-screening").await;
    let after = app
        .call(Method::GET, "/api/v1/reviews?limit=500", Some(&admin), None)
        .await
        .json();
    assert_eq!(
        after["items"].as_array().unwrap(),
        &before,
        "an unchanged rescan rewrote reviews"
    );
}
