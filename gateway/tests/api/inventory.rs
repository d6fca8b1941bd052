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

fn ids_of(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn systems_filter_by_framework_verdict() {
    use super::reviews::{SeedSystem, seed_system, subscribe};
    let app = super::reviews::app().await;
    let admin = app.token("acme", "admin").await;
    subscribe(&app, &admin).await;
    let oversight = "eu-ai-act/art-14-human-oversight";
    let records = "eu-ai-act/art-12-record-keeping";
    let seeds = [
        ("failing", [(oversight, "fail"), (records, "pass")]),
        ("passing", [(oversight, "pass"), (records, "pass")]),
        ("half", [(oversight, "needs_evidence"), (records, "fail")]),
    ];
    let mut ids = Vec::new();
    for (name, verdicts) in &seeds {
        let seed = SeedSystem {
            name,
            risk_class: "high",
            kind: "trains_models",
            source: "code",
            verdicts,
        };
        ids.push(seed_system(&app, "acme", &seed).await.to_string());
    }

    let cases = [
        ("fail", vec![ids[0].clone(), ids[2].clone()]),
        ("pass", vec![ids[0].clone(), ids[1].clone()]),
        ("needs_evidence", vec![ids[2].clone()]),
        ("not_applicable", vec![]),
    ];
    for (verdict, expected) in cases {
        let uri = format!("/api/v1/systems?framework=eu-ai-act&verdict={verdict}");
        let response = app.call(Method::GET, &uri, Some(&admin), None).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{uri}: {}",
            response.text()
        );
        assert_eq!(ids_of(&response.json()), expected, "{verdict}");
    }
    let combined = "/api/v1/systems?framework=eu-ai-act&verdict=fail&risk_class=high&kind=trains_models&source=code&limit=1";
    let first = app
        .call(Method::GET, combined, Some(&admin), None)
        .await
        .json();
    assert_eq!(ids_of(&first), vec![ids[0].clone()]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let next = app
        .call(
            Method::GET,
            &format!("{combined}&cursor={cursor}"),
            Some(&admin),
            None,
        )
        .await
        .json();
    assert_eq!(ids_of(&next), vec![ids[2].clone()]);
    assert_eq!(next["next_cursor"], Value::Null);
}

#[tokio::test]
async fn systems_verdict_filter_rejects_bad_values() {
    use super::reviews::subscribe;
    let app = super::reviews::app().await;
    let admin = app.token("acme", "admin").await;
    let unsubscribed = app
        .call(
            Method::GET,
            "/api/v1/systems?framework=eu-ai-act&verdict=fail",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(unsubscribed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unsubscribed.json()["field"], "framework");
    subscribe(&app, &admin).await;

    let unknown = app
        .call(
            Method::GET,
            "/api/v1/systems?framework=made-up-act&verdict=fail",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::BAD_REQUEST,
        "{}",
        unknown.text()
    );
    assert_eq!(unknown.json()["field"], "framework");
    assert!(
        unknown.json()["detail"]
            .as_str()
            .unwrap()
            .contains("made-up-act")
    );

    let cases = [
        ("/api/v1/systems?framework=eu-ai-act", "verdict"),
        ("/api/v1/systems?verdict=fail", "framework"),
        (
            "/api/v1/systems?framework=eu-ai-act&verdict=requires_tevv",
            "verdict",
        ),
    ];
    for (uri, field) in cases {
        let response = app.call(Method::GET, uri, Some(&admin), None).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
        assert_eq!(response.json()["field"], field, "{uri}");
    }
}

#[tokio::test]
async fn rejected_review_moves_system_between_verdicts() {
    use super::reviews::{SeedSystem, seed_system, subscribe};
    let app = super::reviews::app().await;
    let admin = app.token("acme", "admin").await;
    subscribe(&app, &admin).await;
    let rule = "eu-ai-act/art-14-human-oversight";
    let seed = SeedSystem {
        name: "screening",
        risk_class: "high",
        kind: "trains_models",
        source: "code",
        verdicts: &[(rule, "fail")],
    };
    let system_id = seed_system(&app, "acme", &seed).await;
    let context = store::TenantContext::new(store::TenantPath::from_slug_path("acme").unwrap());
    let mut tx = app.db.store.begin(&context).await.unwrap();
    let request = store::reviews::ReviewRequest {
        framework: "eu-ai-act".to_owned(),
        rule_id: rule.to_owned(),
        verdict: "fail".to_owned(),
    };
    store::reviews::request_batch(&mut tx, system_id, &[request], "system:coordinator")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let listed = app
        .call(Method::GET, "/api/v1/reviews", Some(&admin), None)
        .await
        .json();
    let review = listed["items"][0]["id"].as_str().unwrap().to_owned();

    let body = json!({"comment": "oversight documented", "verdict": "pass"});
    let uri = format!("/api/v1/reviews/{review}/reject");
    let response = app.call(Method::POST, &uri, Some(&admin), Some(body)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());

    let failing = app
        .call(
            Method::GET,
            "/api/v1/systems?framework=eu-ai-act&verdict=fail",
            Some(&admin),
            None,
        )
        .await
        .json();
    assert_eq!(ids_of(&failing), Vec::<String>::new());
    let passing = app
        .call(
            Method::GET,
            "/api/v1/systems?framework=eu-ai-act&verdict=pass",
            Some(&admin),
            None,
        )
        .await
        .json();
    assert_eq!(ids_of(&passing), vec![system_id.to_string()]);
    let detail = app
        .call(
            Method::GET,
            &format!("/api/v1/systems/{system_id}"),
            Some(&admin),
            None,
        )
        .await
        .json();
    assert_eq!(detail["evaluations"][0]["status"], "pass");
    assert_eq!(detail["evaluations"][0]["review_status"], "rejected");
}

#[tokio::test]
async fn combined_filters_page_stably_under_concurrent_inserts() {
    use super::reviews::{SeedSystem, seed_system};
    let app = super::reviews::app().await;
    let admin = app.token("acme", "read").await;
    let shapes = [
        ("high", "trains_models", "code"),
        ("high", "serves_models", "code"),
        ("minimal", "trains_models", "code"),
        ("high", "trains_models", "aws"),
    ];
    let mut matching = Vec::new();
    for index in 0..24 {
        let (risk_class, kind, source) = shapes[index % shapes.len()];
        let name = format!("before-{index}");
        let seed = SeedSystem {
            name: &name,
            risk_class,
            kind,
            source,
            verdicts: &[],
        };
        let id = seed_system(&app, "acme", &seed).await;
        if index % shapes.len() == 0 {
            matching.push(id.to_string());
        }
    }

    let filter = "/api/v1/systems?risk_class=high&kind=trains_models&source=code&limit=2";
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut num_inserted = 0;
    loop {
        let uri = match &cursor {
            Some(cursor) => format!("{filter}&cursor={cursor}"),
            None => filter.to_owned(),
        };
        let page = app.call(Method::GET, &uri, Some(&admin), None).await.json();
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["risk_class"], "high");
            assert_eq!(item["kinds"], json!(["trains_models"]));
            assert_eq!(item["source"], "code");
        }
        seen.extend(ids_of(&page));
        // Another writer adds matching and non-matching systems between pages.
        for (risk_class, kind, source) in [shapes[0], shapes[2]] {
            let name = format!("during-{num_inserted}");
            num_inserted += 1;
            let seed = SeedSystem {
                name: &name,
                risk_class,
                kind,
                source,
                verdicts: &[],
            };
            seed_system(&app, "acme", &seed).await;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(num_inserted < 200, "paging does not end");
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a system was listed twice");
    for id in &matching {
        assert!(
            seen.contains(id),
            "system {id} from before paging was skipped"
        );
    }
    assert_eq!(
        &seen[..matching.len()],
        matching.as_slice(),
        "order changed"
    );
}
