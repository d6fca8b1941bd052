//! The GCP connector: Vertex AI against the drongo emulator (`gcp/drongo.rs`), and what the
//! emulator lacks (paging, throttling, errors, Workbench, token exchange) against a local
//! server that returns the documented Google Cloud response shapes.

mod drongo;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agents::gcp::GcpFactory;
use agents::net::{HttpClient, Quota, RateLimits, RetryPolicy};
use agents::{ConnectorSpec, CoverageGap, CrawlError, CrawlReport, Scope, Source, SourceFactory};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use proto::Finding;
use serde_json::{Value, json};
use wiremock::matchers::{
    body_string_contains, header, method, path, path_regex, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PROJECT: &str = "acme-ml";
const US: &str = "us-central1";
const EU: &str = "europe-west4";

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        attempt_timeout: Duration::from_secs(5),
        operation_timeout: Duration::from_secs(20),
    }
}

fn http() -> Arc<HttpClient> {
    let limits = RateLimits::new([("gcp".to_owned(), Quota::per_second(1_000))].into());
    Arc::new(HttpClient::new(limits, policy()))
}

fn fixture_text(name: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gcp")
        .join(name);
    std::fs::read_to_string(&file).unwrap_or_else(|err| panic!("{}: {err}", file.display()))
}

/// Reads a fixture and fills in the project and the other `{{name}}` placeholders.
fn fixture(name: &str, project: &str, fills: &[(&str, &str)]) -> Value {
    let mut text = fixture_text(name).replace("{{project}}", project);
    for (key, value) in fills {
        text = text.replace(&format!("{{{{{key}}}}}"), value);
    }
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn key_file() -> Value {
    serde_json::from_str(&fixture_text("service-account.json")).unwrap()
}

/// Builds a connector spec whose base URLs point at `server` and whose token URI and
/// Notebooks URL point at `token_server`.
fn spec(server: &str, token_server: &str, projects: &[&str], locations: &[&str]) -> ConnectorSpec {
    let mut config = json!({
        "locations": locations,
        "token_uri": format!("{token_server}/token"),
        "resource_manager_url": server,
        "vertex_url": server,
        "notebooks_url": token_server,
    });
    if !projects.is_empty() {
        config["projects"] = json!(projects);
    }
    ConnectorSpec {
        name: "corp-gcp".to_owned(),
        kind: "gcp".to_owned(),
        config,
        secret: Some(key_file()),
    }
}

fn source_for(spec: &ConnectorSpec) -> Arc<dyn Source> {
    GcpFactory::new(http()).build(spec).unwrap()
}

fn source(server: &MockServer, projects: &[&str]) -> Arc<dyn Source> {
    source_for(&spec(&server.uri(), &server.uri(), projects, &[US, EU]))
}

fn scope(project: &str) -> Scope {
    Scope::new("gcp", format!("gcp:{project}")).with_param("project", project)
}

async fn crawl(
    source: &Arc<dyn Source>,
    scope: &Scope,
) -> (Result<CrawlReport, CrawlError>, Vec<Finding>) {
    let found = Arc::new(Mutex::new(Vec::new()));
    let sink_found = Arc::clone(&found);
    let sink = Arc::new(move |finding: Finding| sink_found.lock().unwrap().push(finding));
    let result = source.crawl(scope, sink).await;
    let mut findings = found.lock().unwrap().clone();
    findings.sort_by(|a, b| (&a.path, &a.subject).cmp(&(&b.path, &b.subject)));
    (result, findings)
}

/// Findings as the JSON the expected fixture holds: subject, path, root and attributes.
fn as_json(findings: &[Finding]) -> Value {
    let rows = findings.iter().map(|finding| {
        assert_eq!(finding.source, "gcp");
        assert_eq!(finding.kind, proto::FindingKind::CloudResource);
        assert_eq!(
            finding.external_id,
            Finding::stable_id(
                &finding.scope,
                &finding.path,
                finding.kind,
                &finding.subject
            )
        );
        json!({
            "subject": finding.subject,
            "path": finding.path,
            "project_root": finding.project_root,
            "attributes": finding.attributes,
        })
    });
    Value::Array(rows.collect())
}

fn expected(project: &str) -> Value {
    fixture("expected-findings.json", project, &[])
}

fn complete(num_items: u64) -> CrawlReport {
    CrawlReport {
        num_items,
        ..CrawlReport::default()
    }
}

async fn mount_token(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer",
        ))
        .respond_with(ok(fixture("token.json", "", &[])))
        .mount(server)
        .await;
}

fn vertex_route(project: &str, location: &str, collection: &str) -> String {
    format!("/v1/projects/{project}/locations/{location}/{collection}")
}

/// Mounts the three model pages, the endpoints of us-central1, the Workbench instances,
/// and empty listings everywhere else.
async fn mount_project(server: &MockServer, project: &str) {
    let models = vertex_route(project, US, "models");
    for (token, page) in [
        ("models-page-2", "models-2.json"),
        ("models-page-3", "models-3.json"),
    ] {
        Mock::given(method("GET"))
            .and(path(models.as_str()))
            .and(query_param("pageToken", token))
            .and(header("authorization", "Bearer gcp-test-token"))
            .respond_with(ok(fixture(page, project, &[])))
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(models.as_str()))
        .and(query_param_is_missing("pageToken"))
        .and(header("authorization", "Bearer gcp-test-token"))
        .respond_with(ok(fixture("models-1.json", project, &[])))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(vertex_route(project, US, "endpoints")))
        .and(header("authorization", "Bearer gcp-test-token"))
        .respond_with(ok(fixture("endpoints.json", project, &[])))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/v2/projects/{project}/locations/-/instances"
        )))
        .and(header("authorization", "Bearer gcp-test-token"))
        .respond_with(ok(fixture("instances.json", project, &[])))
        .mount(server)
        .await;
    // Google leaves the item list out of an empty page.
    Mock::given(method("GET"))
        .and(path_regex(
            r"^/v1/projects/[^/]+/locations/[^/]+/(models|endpoints)$",
        ))
        .respond_with(ok(json!({})))
        .with_priority(10)
        .mount(server)
        .await;
}

/// Mounts `response` once, ahead of the listing mounted later for the same route.
async fn mount_first(server: &MockServer, route: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(response)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
}

async fn requests_to(server: &MockServer, route: &str) -> usize {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .filter(|request| request.url.path() == route)
        .count()
}

#[tokio::test]
async fn crawl_lists_every_resource_across_three_pages() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    mount_project(&server, PROJECT).await;

    let (result, findings) = crawl(&source(&server, &[PROJECT]), &scope(PROJECT)).await;

    assert_eq!(result.unwrap(), complete(7));
    assert_eq!(as_json(&findings), expected(PROJECT));
    assert_eq!(
        requests_to(&server, &vertex_route(PROJECT, US, "models")).await,
        3
    );
    assert_eq!(
        requests_to(&server, &vertex_route(PROJECT, EU, "models")).await,
        1
    );
}

#[tokio::test]
async fn token_assertion_is_signed_for_token_uri() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    mount_project(&server, PROJECT).await;

    let (result, _) = crawl(&source(&server, &[PROJECT]), &scope(PROJECT)).await;
    result.unwrap();

    let requests = server.received_requests().await.unwrap();
    let exchanges: Vec<_> = requests
        .iter()
        .filter(|r| r.url.path() == "/token")
        .collect();
    assert_eq!(exchanges.len(), 1, "the token is cached across listings");
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&exchanges[0].body)
        .into_owned()
        .collect();
    assert_eq!(
        form[0],
        (
            "grant_type".to_owned(),
            "urn:ietf:params:oauth:grant-type:jwt-bearer".to_owned()
        )
    );
    let public_key =
        DecodingKey::from_rsa_pem(fixture_text("service-account.pub.pem").as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[format!("{}/token", server.uri())]);
    validation.set_issuer(&["crawler@secruna-test.iam.gserviceaccount.com"]);
    let claims = jsonwebtoken::decode::<Value>(&form[1].1, &public_key, &validation)
        .unwrap()
        .claims;
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
}

#[tokio::test]
async fn resource_exhausted_waits_for_retry_delay() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let exhausted = ResponseTemplate::new(429).set_body_json(fixture(
        "error-resource-exhausted.json",
        PROJECT,
        &[],
    ));
    mount_first(&server, &vertex_route(PROJECT, US, "endpoints"), exhausted).await;
    mount_project(&server, PROJECT).await;

    let started = Instant::now();
    let (result, findings) = crawl(&source(&server, &[PROJECT]), &scope(PROJECT)).await;

    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(result.unwrap(), complete(7));
    assert_eq!(as_json(&findings), expected(PROJECT));
}

#[tokio::test]
async fn server_error_then_success_loses_nothing() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let unavailable = ResponseTemplate::new(503).set_body_json(json!({
        "error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}
    }));
    Mock::given(method("GET"))
        .and(path(vertex_route(PROJECT, US, "models")))
        .and(query_param("pageToken", "models-page-2"))
        .respond_with(unavailable)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_project(&server, PROJECT).await;

    let (result, findings) = crawl(&source(&server, &[PROJECT]), &scope(PROJECT)).await;

    assert_eq!(result.unwrap(), complete(7));
    assert_eq!(as_json(&findings), expected(PROJECT));
}

#[tokio::test]
async fn denied_project_reports_gap_and_other_is_covered() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let denied_project = "acme-locked";
    let denied = fixture(
        "error-permission-denied.json",
        denied_project,
        &[("permission", "aiplatform.models.list")],
    );
    let models_route = vertex_route(denied_project, US, "models");
    mount_first(
        &server,
        &models_route,
        ResponseTemplate::new(403).set_body_json(denied),
    )
    .await;
    mount_project(&server, PROJECT).await;
    mount_project(&server, denied_project).await;
    let source = source(&server, &[PROJECT, denied_project]);

    let (covered, findings) = crawl(&source, &scope(PROJECT)).await;
    let (partial, denied_findings) = crawl(&source, &scope(denied_project)).await;

    assert_eq!(covered.unwrap(), complete(7));
    assert_eq!(as_json(&findings), expected(PROJECT));
    let report = partial.unwrap();
    let CoverageGap {
        service,
        permission,
        message,
    } = &report.gaps[0];
    assert_eq!(report.gaps.len(), 1);
    assert_eq!(service, "vertex-ai models");
    assert_eq!(permission, "aiplatform.models.list");
    assert!(
        message.starts_with("Permission 'aiplatform.models.list' denied"),
        "{message}"
    );
    // Models are not listed in europe-west4 once the permission is known to be missing.
    assert_eq!(
        requests_to(&server, &vertex_route(denied_project, EU, "models")).await,
        0
    );
    assert_eq!(
        requests_to(&server, &vertex_route(denied_project, EU, "endpoints")).await,
        1
    );
    let subjects: Vec<&str> = denied_findings.iter().map(|f| f.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "vertex-ai-workbench-instance",
            "vertex-ai-endpoint",
            "vertex-ai-deployed-model",
            "vertex-ai-deployed-model"
        ]
    );
    assert_eq!(report.num_items, 4);
}

#[tokio::test]
async fn missing_location_is_skipped_with_reason() {
    let answers = [
        ResponseTemplate::new(404).set_body_json(fixture("error-location-not-found.json", PROJECT, &[])),
        ResponseTemplate::new(400).set_body_json(json!({
            "error": {"code": 400, "message": "Unsupported location 'mars-central1'.", "status": "INVALID_ARGUMENT"}
        })),
    ];
    for answer in answers {
        let server = MockServer::start().await;
        mount_token(&server).await;
        for collection in ["models", "endpoints"] {
            let route = vertex_route(PROJECT, "mars-central1", collection);
            mount_first(&server, &route, answer.clone()).await;
        }
        mount_project(&server, PROJECT).await;
        let spec = spec(
            &server.uri(),
            &server.uri(),
            &[PROJECT],
            &[US, "mars-central1"],
        );

        let (result, findings) = crawl(&source_for(&spec), &scope(PROJECT)).await;

        let report = result.unwrap();
        assert!(report.is_complete());
        assert_eq!(report.skipped, None);
        assert_eq!(report.issues.len(), 2, "{:?}", report.issues);
        assert!(
            report.issues[0].starts_with("vertex-ai endpoints in location mars-central1 skipped: "),
            "{}",
            report.issues[0]
        );
        assert!(
            report.issues[1].starts_with("vertex-ai models in location mars-central1 skipped: ")
        );
        assert_eq!(as_json(&findings), expected(PROJECT));
    }
}

fn service_disabled(api: &str, service: &str) -> ResponseTemplate {
    let body = fixture(
        "error-service-disabled.json",
        PROJECT,
        &[("api", api), ("service", service)],
    );
    ResponseTemplate::new(403).set_body_json(body)
}

#[tokio::test]
async fn disabled_api_skips_service_then_project() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let disabled = service_disabled("Vertex AI API", "aiplatform.googleapis.com");
    mount_first(&server, &vertex_route(PROJECT, US, "endpoints"), disabled).await;
    mount_project(&server, PROJECT).await;

    let (result, findings) = crawl(&source(&server, &[PROJECT]), &scope(PROJECT)).await;

    let report = result.unwrap();
    assert_eq!(report.issues.len(), 1);
    assert!(
        report.issues[0]
            .starts_with("vertex-ai skipped because its API is not enabled: Vertex AI API")
    );
    assert_eq!(report.skipped, None);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].subject, "vertex-ai-workbench-instance");
    assert_eq!(
        requests_to(&server, &vertex_route(PROJECT, EU, "endpoints")).await,
        0
    );

    let notebooks = service_disabled("Notebooks API", "notebooks.googleapis.com");
    mount_first(
        &server,
        &format!("/v2/projects/{PROJECT}/locations/-/instances"),
        notebooks,
    )
    .await;
    let vertex = service_disabled("Vertex AI API", "aiplatform.googleapis.com");
    mount_first(&server, &vertex_route(PROJECT, US, "endpoints"), vertex).await;

    let (result, findings) = crawl(&source(&server, &[PROJECT]), &scope(PROJECT)).await;

    let report = result.unwrap();
    let skipped = report
        .skipped
        .expect("a project with neither API is skipped");
    assert!(skipped.contains("vertex-ai skipped because"), "{skipped}");
    assert!(
        skipped.contains("; workbench skipped because its API is not enabled: Notebooks API"),
        "{skipped}"
    );
    assert!(findings.is_empty());
}

#[tokio::test]
async fn malformed_answer_fails_scope_naming_operation() {
    for body in [
        r#"{"models": ["#,
        r#"{"models": {"name": 1}}"#,
        r#"{"models": [{"displayName": "x"}]}"#,
    ] {
        let server = MockServer::start().await;
        mount_token(&server).await;
        mount_first(
            &server,
            &vertex_route(PROJECT, US, "models"),
            ResponseTemplate::new(200).set_body_string(body),
        )
        .await;
        mount_project(&server, PROJECT).await;

        let (result, _) = crawl(&source(&server, &[PROJECT]), &scope(PROJECT)).await;

        let error = result.expect_err(body);
        let prefix = format!(
            "gcp project `{PROJECT}`: list vertex-ai models in us-central1 returned a malformed answer: "
        );
        assert!(
            error.message.starts_with(&prefix),
            "{body}: {}",
            error.message
        );
        assert!(error.permanent, "{body}");
    }
}

#[tokio::test]
async fn missing_optional_field_drops_only_that_attribute() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let mut page = fixture("models-1.json", PROJECT, &[]);
    page["models"][0]
        .as_object_mut()
        .unwrap()
        .remove("artifactUri")
        .unwrap();
    Mock::given(method("GET"))
        .and(path(vertex_route(PROJECT, US, "models")))
        .and(query_param_is_missing("pageToken"))
        .respond_with(ok(page))
        .with_priority(1)
        .mount(&server)
        .await;
    mount_project(&server, PROJECT).await;

    let (result, findings) = crawl(&source(&server, &[PROJECT]), &scope(PROJECT)).await;

    assert_eq!(result.unwrap(), complete(7));
    let mut expected = expected(PROJECT);
    let model = expected
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|row| row["path"].as_str().unwrap().ends_with("/models/1001"))
        .unwrap();
    model["attributes"]
        .as_object_mut()
        .unwrap()
        .remove("artifact_uri")
        .unwrap();
    assert_eq!(as_json(&findings), expected);
}

#[tokio::test]
async fn scopes_list_active_projects() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    Mock::given(method("GET"))
        .and(path("/v3/projects:search"))
        .and(header("authorization", "Bearer gcp-test-token"))
        .respond_with(ok(fixture("projects.json", "", &[])))
        .mount(&server)
        .await;

    let scopes = source(&server, &[]).scopes().await.unwrap();

    assert_eq!(scopes, [scope(PROJECT)]);
}

#[tokio::test]
async fn rejected_key_fails_permanently() {
    let server = MockServer::start().await;
    let rejected = json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."});
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(rejected))
        .mount(&server)
        .await;

    let (result, findings) = crawl(&source(&server, &[PROJECT]), &scope(PROJECT)).await;

    let error = result.unwrap_err();
    assert!(error.permanent);
    assert!(
        error
            .message
            .contains("HTTP 400 invalid_grant: Invalid JWT Signature."),
        "{}",
        error.message
    );
    assert!(!error.message.contains("PRIVATE KEY"), "{}", error.message);
    assert!(findings.is_empty());
}
