//! Catalogue, subscription, inventory lists and details, scans, pagination
//! and request validation.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use super::harness::TestApp;

#[tokio::test]
async fn frameworks_list_the_rule_book() {
    let app = TestApp::new().await;
    let token = app.token("acme", "read").await;
    let response = app
        .call(Method::GET, "/api/v1/frameworks", Some(&token), None)
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let body = response.json();
    let slugs: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["slug"].as_str().unwrap())
        .collect();
    let book = rule_book::RuleBook::embedded().unwrap();
    let expected: Vec<&str> = book.frameworks().map(|f| f.slug.as_str()).collect();
    assert_eq!(slugs, expected);
    assert!(body[0]["num_rules"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn subscription_is_replaced_and_validated() {
    let app = TestApp::new().await;
    let token = app.token("acme", "write").await;
    let book = rule_book::RuleBook::embedded().unwrap();
    let all: Vec<String> = book.frameworks().map(|f| f.slug.clone()).collect();

    let put = app
        .call(
            Method::PUT,
            "/api/v1/subscriptions",
            Some(&token),
            Some(json!({"frameworks": all})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    let get = app
        .call(Method::GET, "/api/v1/subscriptions", Some(&token), None)
        .await;
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(get.json()["frameworks"], json!(sorted));

    let unknown = app
        .call(
            Method::PUT,
            "/api/v1/subscriptions",
            Some(&token),
            Some(json!({"frameworks": ["eu-ai-act", "nope"]})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.json()["field"], "frameworks[1]");
    assert!(
        unknown.json()["detail"]
            .as_str()
            .unwrap()
            .contains("GET /api/v1/frameworks")
    );
}

#[tokio::test]
async fn system_detail_shows_only_subscribed_verdicts() {
    let app = TestApp::new().await;
    let token = app.token("acme", "write").await;
    let scan = app.scan_example(&token, "loan-screening").await;
    assert_eq!(scan["scan"]["status"], "completed", "{scan}");
    assert_eq!(scan["scopes"][0]["status"], "covered");
    let id = scan["system_ids"][0].as_str().unwrap().to_owned();

    let detail = app
        .call(
            Method::GET,
            &format!("/api/v1/systems/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text());
    let detail = detail.json();
    assert_eq!(detail["id"], json!(id));
    assert!(!detail["findings"].as_array().unwrap().is_empty());
    let frameworks: BTreeSet<&str> = detail["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["framework"].as_str().unwrap())
        .collect();
    assert_eq!(frameworks, BTreeSet::from(["eu-ai-act"]));

    let put = app
        .call(
            Method::PUT,
            "/api/v1/subscriptions",
            Some(&token),
            Some(json!({"frameworks": []})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    let detail = app
        .call(
            Method::GET,
            &format!("/api/v1/systems/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(detail.json()["evaluations"], json!([]));
    let evaluations = app
        .call(Method::GET, "/api/v1/evaluations", Some(&token), None)
        .await;
    assert_eq!(evaluations.json()["items"], json!([]));
}

#[tokio::test]
async fn lists_filter_and_page_without_repeats() {
    let app = TestApp::new().await;
    let token = app.token("acme", "write").await;
    app.scan_example(&token, "loan-screening").await;
    app.scan_example(&token, "loan-screening/support-chat")
        .await;
    let all = app.system_ids(&token).await;
    assert!(all.len() >= 2, "{all:?}");

    let subsidiary = app.token("acme/emea", "write").await;
    let mut paged = Vec::new();
    let mut uri = "/api/v1/systems?limit=1".to_owned();
    loop {
        let page = app.call(Method::GET, &uri, Some(&token), None).await.json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 1);
        paged.extend(
            items
                .iter()
                .map(|item| item["id"].as_str().unwrap().to_owned()),
        );
        if paged.len() == 1 {
            // Systems inserted while a client pages come after the rows it has not read yet.
            app.scan_example(&subsidiary, "loan-screening/support-chat")
                .await;
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => uri = format!("/api/v1/systems?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    let unique: BTreeSet<&String> = paged.iter().collect();
    assert_eq!(
        unique.len(),
        paged.len(),
        "a system was listed twice: {paged:?}"
    );
    assert_eq!(paged[..all.len()], all[..]);
    assert_eq!(
        paged.len(),
        all.len() + 1,
        "the subsidiary's new system is listed last"
    );

    let high = app
        .call(
            Method::GET,
            "/api/v1/systems?risk_class=high",
            Some(&token),
            None,
        )
        .await
        .json();
    for item in high["items"].as_array().unwrap() {
        assert_eq!(item["risk_class"], "high");
    }
    let findings = app
        .call(
            Method::GET,
            "/api/v1/findings?status=open&limit=500",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(findings.status, StatusCode::OK);
    let findings = findings.json();
    assert!(!findings["items"].as_array().unwrap().is_empty());
    let system_id = &all[0];
    let of_system = app
        .call(
            Method::GET,
            &format!("/api/v1/findings?system_id={system_id}"),
            Some(&token),
            None,
        )
        .await
        .json();
    for item in of_system["items"].as_array().unwrap() {
        assert_eq!(item["system_id"], json!(system_id));
    }
    let scans = app
        .call(Method::GET, "/api/v1/scans", Some(&token), None)
        .await
        .json();
    assert_eq!(
        scans["items"].as_array().unwrap().len(),
        3,
        "two own scans and the subsidiary's"
    );
}

#[tokio::test]
async fn invalid_query_values_name_the_field() {
    let app = TestApp::new().await;
    let token = app.token("acme", "read").await;
    let cases = [
        ("/api/v1/systems?cursor=yesterday", Some("cursor")),
        ("/api/v1/systems?limit=0", Some("limit")),
        ("/api/v1/systems?risk_class=extreme", Some("risk_class")),
        ("/api/v1/evaluations?framework=nope", Some("framework")),
        ("/api/v1/systems/not-a-uuid", Some("id")),
        ("/api/v1/systems?colour=red", Some("colour")),
        ("/api/v1/systems?limit=many", Some("limit")),
        ("/api/v1/findings?system_id=42", Some("system_id")),
        ("/api/v1/audit?from=yesterday", Some("from")),
    ];
    for (uri, field) in cases {
        let response = app.call(Method::GET, uri, Some(&token), None).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{uri}: {}",
            response.text()
        );
        let body: Value = response.json();
        assert_eq!(body["status"], 422, "{uri}");
        if let Some(field) = field {
            assert_eq!(body["field"], field, "{uri}");
        }
    }
}

#[tokio::test]
async fn bad_bodies_get_problem_details() {
    let app = TestApp::new().await;
    let token = app.token("acme", "admin").await;
    let too_large = "x".repeat(gateway::DEFAULT_BODY_LIMIT_BYTES + 1);
    let cases = [
        (
            format!("{{\"frameworks\": [\"{too_large}\"]}}"),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        ("{not json".to_owned(), StatusCode::BAD_REQUEST),
        (
            "{\"frameworks\": [], \"extra\": 1}".to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "{\"frameworks\": \"eu-ai-act\"}".to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (body, status) in cases {
        let request = Request::builder()
            .method(Method::PUT)
            .uri("/api/v1/subscriptions")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let response = app.send(request).await;
        assert_eq!(response.status, status, "{}", response.text());
        assert_eq!(response.header("content-type"), Some(gateway::PROBLEM_JSON));
        let text = response.text();
        assert!(!text.contains("SELECT"), "{text}");
        assert!(!text.contains("sqlx"), "{text}");
    }
}

#[tokio::test]
async fn unknown_routes_get_problem_details() {
    let app = TestApp::new().await;
    let response = app
        .call(Method::GET, "/api/v1/nothing-here", None, None)
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.json()["type"], "urn:secruna:problem:no-route");
    let wrong_method = app.call(Method::PATCH, "/api/v1/systems", None, None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn evaluations_scans_and_users_read_back() {
    let app = TestApp::new().await;
    let token = app.token("acme", "admin").await;
    let scan = app.scan_example(&token, "loan-screening").await;
    let scan_id = scan["scan"]["id"].as_str().unwrap().to_owned();
    let system_id = scan["system_ids"][0].as_str().unwrap().to_owned();

    let fetched = app
        .call(
            Method::GET,
            &format!("/api/v1/scans/{scan_id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.json()["id"], json!(scan_id));
    assert_eq!(fetched.json()["status"], "completed");

    let uri = format!("/api/v1/evaluations?system_id={system_id}&framework=eu-ai-act&limit=500");
    let evaluations = app.call(Method::GET, &uri, Some(&token), None).await;
    assert_eq!(evaluations.status, StatusCode::OK, "{}", evaluations.text());
    let items = evaluations.json()["items"].as_array().unwrap().clone();
    assert!(!items.is_empty());
    for item in &items {
        assert_eq!(item["system_id"], json!(system_id));
        assert_eq!(item["framework"], "eu-ai-act");
    }
    let status = items[0]["status"].as_str().unwrap().to_owned();
    let uri = format!("/api/v1/evaluations?status={status}&limit=500");
    let by_status = app.call(Method::GET, &uri, Some(&token), None).await.json();
    for item in by_status["items"].as_array().unwrap() {
        assert_eq!(item["status"], json!(status));
    }

    app.session("acme", "lee@example.org", "auditor").await;
    let users = app
        .call(Method::GET, "/api/v1/users", Some(&token), None)
        .await;
    assert_eq!(users.status, StatusCode::OK);
    assert_eq!(users.json()[0]["email"], "lee@example.org");
    assert!(users.json()[0].get("password_hash").is_none());
}

#[tokio::test]
async fn invalid_json_values_name_the_field() {
    let app = TestApp::new().await;
    let token = app.token("acme", "admin").await;
    let cases = [
        (
            "/api/v1/subscriptions",
            Method::PUT,
            json!({"frameworks": "eu-ai-act"}),
            "frameworks",
        ),
        (
            "/api/v1/subscriptions",
            Method::PUT,
            json!({"frameworks": [], "extra": 1}),
            "extra",
        ),
        (
            "/api/v1/subscriptions",
            Method::PUT,
            json!({"frameworks": ["a", 3]}),
            "frameworks[1]",
        ),
        (
            "/api/v1/scans",
            Method::POST,
            json!({"frameworks": []}),
            "path",
        ),
        (
            "/api/v1/tokens",
            Method::POST,
            json!({"name": "x", "scope": "root"}),
            "scope",
        ),
    ];
    for (uri, method, body, field) in cases {
        let response = app
            .call(method, uri, Some(&token), Some(body.clone()))
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            response.text()
        );
        assert_eq!(
            response.json()["field"],
            field,
            "{body}: {}",
            response.text()
        );
    }
}
