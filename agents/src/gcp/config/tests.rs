use serde_json::json;

use super::*;

const KEY_FILE: &str = include_str!("../../../tests/fixtures/gcp/service-account.json");

fn spec(config: serde_json::Value) -> ConnectorSpec {
    ConnectorSpec {
        name: "corp".to_owned(),
        kind: "gcp".to_owned(),
        config,
        secret: Some(serde_json::from_str(KEY_FILE).unwrap()),
    }
}

#[test]
fn defaults_come_from_key_and_constants() {
    let settings = GcpSettings::from_spec(&spec(serde_json::Value::Null)).unwrap();
    assert_eq!(
        settings.token_uri.as_str(),
        "https://oauth2.googleapis.com/token"
    );
    assert_eq!(settings.locations.len(), DEFAULT_LOCATIONS.len());
    assert_eq!(settings.workbench_locations, ["-"]);
    assert_eq!(settings.vertex, VertexBase::Regional);
    assert_eq!(settings.max_pages, DEFAULT_MAX_PAGES);
    assert!(settings.projects.is_empty());
}

#[test]
fn config_token_uri_overrides_key_file() {
    let config =
        json!({"token_uri": "http://127.0.0.1:9/token", "vertex_url": "http://127.0.0.1:8/"});
    let settings = GcpSettings::from_spec(&spec(config)).unwrap();
    assert_eq!(settings.token_uri.as_str(), "http://127.0.0.1:9/token");
    assert_eq!(
        settings.vertex.for_location("us-central1"),
        "http://127.0.0.1:8"
    );
}

#[test]
fn regional_vertex_url_names_location() {
    assert_eq!(
        VertexBase::Regional.for_location("europe-west4"),
        "https://europe-west4-aiplatform.googleapis.com"
    );
}

#[test]
fn unknown_field_is_named() {
    let err = GcpSettings::from_spec(&spec(json!({"project": ["a"]}))).unwrap_err();
    assert!(err.permanent);
    assert!(
        err.message.contains("unknown field `project`"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("gcp connector `corp`"),
        "{}",
        err.message
    );
}

#[test]
fn location_with_slash_is_rejected() {
    let err = GcpSettings::from_spec(&spec(json!({"locations": ["us/../x"]}))).unwrap_err();
    assert!(
        err.message.contains("`us/../x` in `locations`"),
        "{}",
        err.message
    );
}

#[test]
fn upper_case_project_is_rejected() {
    let err = GcpSettings::from_spec(&spec(json!({"projects": ["MyProject"]}))).unwrap_err();
    assert!(
        err.message.contains("`MyProject` in `projects`"),
        "{}",
        err.message
    );
}

#[test]
fn non_http_url_is_rejected() {
    let err = GcpSettings::from_spec(&spec(json!({"vertex_url": "ftp://x"}))).unwrap_err();
    assert!(
        err.message.contains("`vertex_url` `ftp://x`"),
        "{}",
        err.message
    );
}

#[test]
fn missing_secret_is_rejected() {
    let mut spec = spec(json!({}));
    spec.secret = None;
    let err = GcpSettings::from_spec(&spec).unwrap_err();
    assert!(err.message.contains("secret is missing"), "{}", err.message);
}

#[test]
fn join_keeps_one_slash() {
    let base = Url::parse("http://127.0.0.1:8/").unwrap();
    assert_eq!(
        join(&base, "/v3/projects"),
        "http://127.0.0.1:8/v3/projects"
    );
}
