//! The OpenAPI document matches the router.

use axum::http::{Method, StatusCode};

use super::harness::TestApp;

#[tokio::test]
async fn openapi_document_is_served_as_3_1() {
    let app = TestApp::new().await;
    let response = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let document = response.json();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    assert_eq!(document, serde_json::to_value(gateway::openapi()).unwrap());
}

#[tokio::test]
async fn every_documented_route_exists() {
    let app = TestApp::new().await;
    let document = serde_json::to_value(gateway::openapi()).unwrap();
    let mut num_routes = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        let uri = path
            .replace("{id}", &uuid::Uuid::nil().to_string())
            .replace("{token}", "rl1.e30.AAAA");
        for (method, _) in item.as_object().unwrap() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app.call(method.clone(), &uri, None, None).await;
            assert_ne!(
                response.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            if response.status == StatusCode::NOT_FOUND {
                assert_ne!(
                    response.json()["type"],
                    "urn:secruna:problem:no-route",
                    "{method} {path}"
                );
            }
            num_routes += 1;
        }
    }
    assert!(num_routes >= 20, "only {num_routes} routes documented");
}
