//! Tenant isolation: ids of another tenant give 404, a parent sees its
//! subsidiaries, a subsidiary never sees its parent.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::harness::TestApp;

#[tokio::test]
async fn other_tenants_ids_give_404() {
    let app = TestApp::new().await;
    let tenant_a = app.token("acme", "admin").await;
    let tenant_b = app.token("globex", "admin").await;
    let scan = app.scan_example(&tenant_a, "loan-screening").await;
    let scan_id = scan["scan"]["id"].as_str().unwrap().to_owned();
    let system_ids = app.system_ids(&tenant_a).await;
    assert!(!system_ids.is_empty());
    let token_id = app
        .call(Method::GET, "/api/v1/tokens", Some(&tenant_a), None)
        .await
        .json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let own = app
        .call(
            Method::GET,
            &format!("/api/v1/systems/{}", system_ids[0]),
            Some(&tenant_a),
            None,
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text());

    let requests = [
        (Method::GET, format!("/api/v1/systems/{}", system_ids[0])),
        (Method::GET, format!("/api/v1/scans/{scan_id}")),
        (Method::DELETE, format!("/api/v1/tokens/{token_id}")),
    ];
    for (method, uri) in requests {
        let response = app.call(method.clone(), &uri, Some(&tenant_b), None).await;
        assert_eq!(
            response.status,
            StatusCode::NOT_FOUND,
            "{method} {uri}: {}",
            response.text()
        );
        assert_eq!(response.json()["type"], "urn:secruna:problem:not-found");
    }

    assert!(app.system_ids(&tenant_b).await.is_empty());
    let lists = ["/api/v1/findings", "/api/v1/scans", "/api/v1/evaluations"];
    for uri in lists {
        let response = app.call(Method::GET, uri, Some(&tenant_b), None).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(response.json()["items"], json!([]), "{uri}");
    }
    let still_valid = app
        .call(Method::GET, "/api/v1/systems", Some(&tenant_a), None)
        .await;
    assert_eq!(still_valid.status, StatusCode::OK);
}

#[tokio::test]
async fn parent_sees_subsidiary_but_not_the_reverse() {
    let app = TestApp::new().await;
    let parent = app.token("acme", "admin").await;
    let subsidiary = app.token("acme/emea", "admin").await;
    app.scan_example(&subsidiary, "loan-screening").await;
    app.scan_example(&parent, "loan-screening/support-chat")
        .await;

    let parent_sees = app.system_ids(&parent).await;
    let subsidiary_sees = app.system_ids(&subsidiary).await;
    assert!(subsidiary_sees.iter().all(|id| parent_sees.contains(id)));
    assert!(parent_sees.len() > subsidiary_sees.len());

    let parent_only: Vec<&String> = parent_sees
        .iter()
        .filter(|id| !subsidiary_sees.contains(id))
        .collect();
    for id in parent_only {
        let response = app
            .call(
                Method::GET,
                &format!("/api/v1/systems/{id}"),
                Some(&subsidiary),
                None,
            )
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn scans_outside_the_root_are_refused() {
    let app = TestApp::new().await;
    let token = app.token("acme", "write").await;
    // One message for every case, so the responses do not reveal which server paths exist.
    for path in [
        "..",
        "/etc",
        "loan-screening/../../store",
        "missing-folder",
        "../no-such-folder",
        "loan-screening/pyproject.toml",
    ] {
        let response = app
            .call(
                Method::POST,
                "/api/v1/scans",
                Some(&token),
                Some(json!({"path": path})),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            response.text()
        );
        assert_eq!(response.json()["field"], "path", "{path}");
        assert_eq!(
            response.json()["detail"],
            format!("path `{path}` is not a folder inside the scan root; name a folder under it")
        );
    }

    let no_root = TestApp::with_config(gateway::GatewayConfig::default()).await;
    let token = no_root.token("acme", "write").await;
    let response = no_root
        .call(
            Method::POST,
            "/api/v1/scans",
            Some(&token),
            Some(json!({"path": "loan-screening"})),
        )
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(
        response.json()["detail"]
            .as_str()
            .unwrap()
            .contains("--scan-root")
    );
}

#[tokio::test]
async fn parent_admin_revokes_subsidiary_tokens_only_downwards() {
    let app = TestApp::new().await;
    let parent = app.token("acme", "admin").await;
    let subsidiary = app.token("acme/emea", "admin").await;
    let token_ids = |token: String| {
        let app = &app;
        async move {
            let listed = app
                .call(Method::GET, "/api/v1/tokens", Some(&token), None)
                .await;
            assert_eq!(listed.status, StatusCode::OK);
            listed
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|row| row["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let parent_ids = token_ids(parent.clone()).await;
    let subsidiary_ids = token_ids(subsidiary.clone()).await;
    assert_eq!(
        parent_ids.len(),
        2,
        "the parent lists its own token and the subsidiary's"
    );
    assert_eq!(subsidiary_ids.len(), 1);
    let parent_own: Vec<&String> = parent_ids
        .iter()
        .filter(|id| !subsidiary_ids.contains(id))
        .collect();

    let upwards = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{}", parent_own[0]),
            Some(&subsidiary),
            None,
        )
        .await;
    assert_eq!(upwards.status, StatusCode::NOT_FOUND);
    let downwards = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{}", subsidiary_ids[0]),
            Some(&parent),
            None,
        )
        .await;
    assert_eq!(downwards.status, StatusCode::OK, "{}", downwards.text());
    let revoked = app
        .call(Method::GET, "/api/v1/systems", Some(&subsidiary), None)
        .await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
}
