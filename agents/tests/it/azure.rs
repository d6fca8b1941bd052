//! The Azure connector against a local server that returns the documented Azure Resource
//! Manager and Entra ID response shapes (there is no Azure emulator for these APIs).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agents::azure::AzureFactory;
use agents::net::{HttpClient, Quota, RateLimits, RetryPolicy};
use agents::{ConnectorSpec, CoverageGap, CrawlError, CrawlReport, Scope, Source, SourceFactory};
use proto::Finding;
use serde_json::{Value, json};
use wiremock::matchers::{
    body_string_contains, header, method, path, path_regex, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SUB_A: &str = "11111111-1111-1111-1111-111111111111";
const SUB_B: &str = "22222222-2222-2222-2222-222222222222";
const TENANT: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const SECRET: &str = "test-client-secret-value";
const ML: &str = "Microsoft.MachineLearningServices";
const FRAUD_WS: &str =
    "resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws-fraud";
const AI_ACCOUNTS: &str = "resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts";

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
    let limits = RateLimits::new([("azure".to_owned(), Quota::per_second(1_000))].into());
    Arc::new(HttpClient::new(limits, policy()))
}

/// Reads a fixture and fills in the server address and the subscription id.
fn fixture(name: &str, server: &MockServer, subscription: &str) -> Value {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/azure")
        .join(name);
    let text =
        std::fs::read_to_string(&file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
    let text = text
        .replace("{{base}}", &server.uri())
        .replace("{{sub}}", subscription);
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// Mounts a GET of `route` that requires the bearer token and the api-version.
async fn mount_get(
    server: &MockServer,
    route: &str,
    api_version: &str,
    response: ResponseTemplate,
) {
    Mock::given(method("GET"))
        .and(path(route))
        .and(query_param("api-version", api_version))
        .and(header("authorization", "Bearer arm-test-token"))
        .respond_with(response)
        .mount(server)
        .await;
}

async fn mount_token(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains(
            "scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
        ))
        .respond_with(ok(fixture("token.json", server, "")))
        .mount(server)
        .await;
}

fn workspaces_route(subscription: &str) -> String {
    format!("/subscriptions/{subscription}/providers/{ML}/workspaces")
}

fn accounts_route(subscription: &str) -> String {
    format!("/subscriptions/{subscription}/providers/Microsoft.CognitiveServices/accounts")
}

/// Mounts the three workspace pages of `subscription`.
async fn mount_workspaces(server: &MockServer, subscription: &str) {
    let route = workspaces_route(subscription);
    for (token, page) in [
        ("page2", "ml-workspaces-2.json"),
        ("page3", "ml-workspaces-3.json"),
    ] {
        Mock::given(method("GET"))
            .and(path(route.as_str()))
            .and(query_param("$skipToken", token))
            .and(header("authorization", "Bearer arm-test-token"))
            .respond_with(ok(fixture(page, server, subscription)))
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(route.as_str()))
        .and(query_param_is_missing("$skipToken"))
        .and(query_param("api-version", "2024-10-01"))
        .and(header("authorization", "Bearer arm-test-token"))
        .respond_with(ok(fixture("ml-workspaces-1.json", server, subscription)))
        .mount(server)
        .await;
}

/// Mounts the children of the workspaces and the Cognitive Services accounts.
async fn mount_children(server: &MockServer, subscription: &str) {
    let base = format!("/subscriptions/{subscription}");
    let ws = format!("{base}/{FRAUD_WS}");
    let children = [
        (format!("{ws}/onlineEndpoints"), "online-endpoints.json"),
        (
            format!("{ws}/onlineEndpoints/fraud-score/deployments"),
            "online-deployments.json",
        ),
        (format!("{ws}/models"), "models.json"),
        (
            format!("{base}/{AI_ACCOUNTS}/chat-prod/deployments"),
            "chat-prod-deployments.json",
        ),
        (
            format!("{base}/{AI_ACCOUNTS}/foundry-hub/deployments"),
            "foundry-hub-deployments.json",
        ),
    ];
    for (route, name) in children {
        let body = fixture(name, server, subscription);
        mount_get(server, &route, "2024-10-01", ok(body)).await;
    }

    // Workspaces other than ws-fraud have no children.
    Mock::given(method("GET"))
        .and(path_regex(r"/(onlineEndpoints|models|deployments)$"))
        .respond_with(ok(json!({"value": []})))
        .with_priority(10)
        .mount(server)
        .await;
}

/// Mounts every listing of a subscription with the documented fixtures.
async fn mount_subscription(server: &MockServer, subscription: &str) {
    mount_workspaces(server, subscription).await;
    mount_children(server, subscription).await;
    let accounts = fixture("accounts.json", server, subscription);
    mount_get(
        server,
        &accounts_route(subscription),
        "2024-10-01",
        ok(accounts),
    )
    .await;
}

fn spec(server: &MockServer, subscriptions: &[&str]) -> ConnectorSpec {
    let mut config = json!({
        "tenant_id": TENANT,
        "client_id": "bbbbbbbb-0000-0000-0000-000000000002",
        "authority_url": server.uri(),
        "management_url": server.uri(),
    });
    if !subscriptions.is_empty() {
        config["subscriptions"] = json!(subscriptions);
    }
    ConnectorSpec {
        name: "corp-azure".to_owned(),
        kind: "azure".to_owned(),
        config,
        secret: Some(json!({"client_secret": SECRET})),
    }
}

fn source(server: &MockServer, subscriptions: &[&str]) -> Arc<dyn Source> {
    AzureFactory::new(http())
        .build(&spec(server, subscriptions))
        .unwrap()
}

fn scope(subscription: &str) -> Scope {
    Scope::new("azure", format!("azure:{subscription}")).with_param("subscription", subscription)
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
    let rows: Vec<Value> = findings
        .iter()
        .map(|finding| {
            assert_eq!(finding.source, "azure");
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
        })
        .collect();
    Value::Array(rows)
}

fn expected(server: &MockServer, subscription: &str) -> Value {
    fixture("expected-findings.json", server, subscription)
}

fn expected_without(server: &MockServer, subscription: &str, prefix: &str) -> Value {
    let Value::Array(rows) = expected(server, subscription) else {
        unreachable!()
    };
    let kept = rows
        .into_iter()
        .filter(|row| !row["subject"].as_str().unwrap().starts_with(prefix));
    Value::Array(kept.collect())
}

async fn requests_to(server: &MockServer, route: &str) -> usize {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .filter(|request| request.url.path() == route)
        .count()
}

fn complete(num_items: u64) -> CrawlReport {
    CrawlReport {
        num_items,
        ..CrawlReport::default()
    }
}

#[tokio::test]
async fn crawl_lists_every_resource_across_three_pages() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    mount_subscription(&server, SUB_A).await;

    let (result, findings) = crawl(&source(&server, &[SUB_A]), &scope(SUB_A)).await;

    assert_eq!(result.unwrap(), complete(13));
    assert_eq!(as_json(&findings), expected(&server, SUB_A));
    let requests = server.received_requests().await.unwrap();
    let pages = requests
        .iter()
        .filter(|r| r.url.path() == workspaces_route(SUB_A))
        .count();
    assert_eq!(pages, 3);
    assert!(findings.iter().all(|f| f.scope == format!("azure:{SUB_A}")));
}

#[tokio::test]
async fn throttling_waits_for_each_azure_format() {
    let formats: [(&[(&str, &str)], Duration); 3] = [
        (&[("retry-after", "1")], Duration::from_secs(1)),
        (
            &[
                ("x-ms-ratelimit-remaining-subscription-reads", "0"),
                ("x-ms-user-quota-resets-after", "00:00:01"),
            ],
            Duration::from_secs(1),
        ),
        (
            &[("x-ms-retry-after-ms", "700")],
            Duration::from_millis(700),
        ),
    ];
    for (headers, wait) in formats {
        let server = MockServer::start().await;
        mount_token(&server).await;
        let mut throttled = ResponseTemplate::new(429).set_body_json(fixture(
            "error-throttled.json",
            &server,
            SUB_A,
        ));
        for (name, value) in headers {
            throttled = throttled.insert_header(*name, *value);
        }
        Mock::given(method("GET"))
            .and(path(accounts_route(SUB_A)))
            .respond_with(throttled)
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        mount_subscription(&server, SUB_A).await;

        let started = Instant::now();
        let (result, findings) = crawl(&source(&server, &[SUB_A]), &scope(SUB_A)).await;

        assert!(
            started.elapsed() >= wait,
            "{headers:?}: waited {:?}",
            started.elapsed()
        );
        assert_eq!(result.unwrap(), complete(13), "{headers:?}");
        assert_eq!(as_json(&findings), expected(&server, SUB_A), "{headers:?}");
    }
}

#[tokio::test]
async fn server_error_then_success_loses_nothing() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    Mock::given(method("GET"))
        .and(path(workspaces_route(SUB_A)))
        .and(query_param("$skipToken", "page2"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream unavailable"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_subscription(&server, SUB_A).await;

    let (result, findings) = crawl(&source(&server, &[SUB_A]), &scope(SUB_A)).await;

    assert_eq!(result.unwrap(), complete(13));
    assert_eq!(as_json(&findings), expected(&server, SUB_A));
}

#[tokio::test]
async fn denied_subscription_reports_gap_and_other_is_covered() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let denied = ResponseTemplate::new(403).set_body_json(fixture(
        "error-authorization-failed.json",
        &server,
        SUB_B,
    ));
    mount_get(&server, &workspaces_route(SUB_B), "2024-10-01", denied).await;
    mount_subscription(&server, SUB_A).await;
    mount_children(&server, SUB_B).await;
    let accounts = fixture("accounts.json", &server, SUB_B);
    mount_get(&server, &accounts_route(SUB_B), "2024-10-01", ok(accounts)).await;
    let source = source(&server, &[SUB_A, SUB_B]);

    let (covered, findings_a) = crawl(&source, &scope(SUB_A)).await;
    let (partial, findings_b) = crawl(&source, &scope(SUB_B)).await;

    assert_eq!(covered.unwrap(), complete(13));
    assert_eq!(as_json(&findings_a), expected(&server, SUB_A));
    let report = partial.unwrap();
    assert_eq!(report.num_items, 5);
    assert!(report.incomplete.is_empty());
    assert_eq!(report.gaps.len(), 1);
    let CoverageGap {
        service,
        permission,
        message,
    } = &report.gaps[0];
    assert_eq!(service, "list machine learning workspaces");
    assert_eq!(
        permission,
        "Microsoft.MachineLearningServices/workspaces/read"
    );
    assert!(message.starts_with("The client 'bbbbbbbb-"), "{message}");
    assert_eq!(
        as_json(&findings_b),
        expected_without(&server, SUB_B, "azure-ml-")
    );
}

fn not_registered(server: &MockServer, namespace: &str) -> ResponseTemplate {
    let text = fixture("error-missing-registration.json", server, SUB_A).to_string();
    ResponseTemplate::new(409).set_body_string(text.replace("{{namespace}}", namespace))
}

#[tokio::test]
async fn unregistered_namespace_skips_that_service() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    mount_get(
        &server,
        &workspaces_route(SUB_A),
        "2024-10-01",
        not_registered(&server, ML),
    )
    .await;
    mount_subscription(&server, SUB_A).await;

    let (result, findings) = crawl(&source(&server, &[SUB_A]), &scope(SUB_A)).await;

    let report = result.unwrap();
    assert_eq!(
        report.issues,
        [format!(
            "list machine learning workspaces skipped: The subscription is not registered to use \
             namespace '{ML}'. See https://aka.ms/rps-not-found for how to register subscriptions."
        )]
    );
    assert_eq!(report.skipped, None);
    assert!(report.is_complete());
    assert_eq!(report.num_items, 5);
    assert_eq!(
        as_json(&findings),
        expected_without(&server, SUB_A, "azure-ml-")
    );
}

#[tokio::test]
async fn subscription_without_registrations_is_skipped() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    mount_get(
        &server,
        &workspaces_route(SUB_A),
        "2024-10-01",
        not_registered(&server, ML),
    )
    .await;
    let cognitive = not_registered(&server, "Microsoft.CognitiveServices");
    mount_get(&server, &accounts_route(SUB_A), "2024-10-01", cognitive).await;

    let (result, findings) = crawl(&source(&server, &[SUB_A]), &scope(SUB_A)).await;

    let report = result.unwrap();
    let skipped = report.skipped.expect("the subscription is skipped");
    assert!(
        skipped.starts_with("list machine learning workspaces skipped: "),
        "{skipped}"
    );
    assert!(
        skipped.contains("; list cognitive services accounts skipped: "),
        "{skipped}"
    );
    assert!(report.issues.is_empty());
    assert_eq!(report.num_items, 0);
    assert!(findings.is_empty());
}

#[tokio::test]
async fn malformed_answer_fails_scope_naming_operation() {
    for body in [
        r#"{"value": ["#,
        r#"{"value": {"id": 1}}"#,
        r#"{"value": [{"name": "no-id"}]}"#,
    ] {
        let server = MockServer::start().await;
        mount_token(&server).await;
        let malformed = ResponseTemplate::new(200).set_body_string(body);
        mount_get(&server, &accounts_route(SUB_A), "2024-10-01", malformed).await;
        mount_subscription(&server, SUB_A).await;

        let (result, _) = crawl(&source(&server, &[SUB_A]), &scope(SUB_A)).await;

        let error = result.expect_err(body);
        let prefix = format!(
            "azure subscription `{SUB_A}`: list cognitive services accounts returned a malformed answer: "
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
    let mut deployments = fixture("chat-prod-deployments.json", &server, SUB_A);
    let removed = deployments["value"][0]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("raiPolicyName");
    assert!(removed.is_some());
    let route = format!("/subscriptions/{SUB_A}/{AI_ACCOUNTS}/chat-prod/deployments");
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(ok(deployments))
        .with_priority(1)
        .mount(&server)
        .await;
    mount_subscription(&server, SUB_A).await;

    let (result, findings) = crawl(&source(&server, &[SUB_A]), &scope(SUB_A)).await;

    assert_eq!(result.unwrap(), complete(13));
    let mut expected = expected(&server, SUB_A);
    let rows = expected.as_array_mut().unwrap();
    let gpt = rows
        .iter_mut()
        .find(|row| {
            row["path"]
                .as_str()
                .unwrap()
                .ends_with("/deployments/gpt-4o")
        })
        .unwrap();
    gpt["attributes"]
        .as_object_mut()
        .unwrap()
        .remove("rai_policy")
        .unwrap();
    assert_eq!(as_json(&findings), expected);
}

#[tokio::test]
async fn scopes_come_from_subscription_listing() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    mount_get(
        &server,
        "/subscriptions",
        "2022-12-01",
        ok(fixture("subscriptions.json", &server, "")),
    )
    .await;
    let source = source(&server, &[]);

    let scopes = source.scopes().await.unwrap();

    let expected = [
        scope(SUB_A)
            .with_param("display_name", "Production")
            .with_param("state", "Enabled"),
        scope(SUB_B)
            .with_param("display_name", "Old sandbox")
            .with_param("state", "Disabled"),
    ];
    assert_eq!(scopes, expected);
    let (result, findings) = crawl(&source, &scopes[1]).await;
    let report = result.unwrap();
    assert_eq!(
        report.skipped.as_deref(),
        Some(format!("subscription {SUB_B} is Disabled").as_str())
    );
    assert!(findings.is_empty());
}

#[tokio::test]
async fn token_is_fetched_once_for_every_scope() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ok(fixture("token.json", &server, "")))
        .expect(1)
        .mount(&server)
        .await;
    mount_subscription(&server, SUB_A).await;
    mount_subscription(&server, SUB_B).await;
    let source = source(&server, &[SUB_A, SUB_B]);

    let (scope_a, scope_b) = (scope(SUB_A), scope(SUB_B));
    let (first, second) = tokio::join!(crawl(&source, &scope_a), crawl(&source, &scope_b));

    assert_eq!(first.0.unwrap(), complete(13));
    assert_eq!(second.0.unwrap(), complete(13));
    server.verify().await;
}

#[tokio::test]
async fn rejected_secret_fails_permanently_without_echo() {
    let server = MockServer::start().await;
    let rejected =
        ResponseTemplate::new(401).set_body_json(fixture("error-invalid-client.json", &server, ""));
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(rejected)
        .mount(&server)
        .await;

    let (result, findings) = crawl(&source(&server, &[SUB_A]), &scope(SUB_A)).await;

    let error = result.unwrap_err();
    assert!(error.permanent);
    assert!(
        error
            .message
            .contains("HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided."),
        "{}",
        error.message
    );
    assert!(!error.message.contains(SECRET), "{}", error.message);
    assert!(findings.is_empty());
}

#[tokio::test]
async fn repeated_next_link_marks_listing_incomplete() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let mut looping = fixture("ml-workspaces-2.json", &server, SUB_A);
    let again = looping["nextLink"]
        .as_str()
        .unwrap()
        .replace("page3", "page2");
    looping["nextLink"] = json!(again);
    Mock::given(method("GET"))
        .and(path(workspaces_route(SUB_A)))
        .and(query_param("$skipToken", "page2"))
        .respond_with(ok(looping))
        .with_priority(1)
        .mount(&server)
        .await;
    mount_subscription(&server, SUB_A).await;

    let (result, findings) = crawl(&source(&server, &[SUB_A]), &scope(SUB_A)).await;

    let report = result.unwrap();
    assert_eq!(report.incomplete.len(), 1);
    assert!(
        report.incomplete[0].contains("repeats the previous one"),
        "{}",
        report.incomplete[0]
    );
    assert!(
        !findings
            .iter()
            .any(|f| f.attributes["resource_name"] == "ws-legacy")
    );
    assert_eq!(report.num_items, 12);
}

#[tokio::test]
async fn next_link_to_other_host_is_not_followed() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let mut page = fixture("ml-workspaces-1.json", &server, SUB_A);
    page["nextLink"] = json!("http://127.0.0.1:9/steal?token=1");
    Mock::given(method("GET"))
        .and(path(workspaces_route(SUB_A)))
        .and(query_param_is_missing("$skipToken"))
        .respond_with(ok(page))
        .with_priority(1)
        .mount(&server)
        .await;
    mount_subscription(&server, SUB_A).await;

    let (result, _) = crawl(&source(&server, &[SUB_A]), &scope(SUB_A)).await;

    let report = result.unwrap();
    assert_eq!(report.incomplete.len(), 1);
    assert!(
        report.incomplete[0].contains("leaves the management endpoint"),
        "{}",
        report.incomplete[0]
    );
    assert_eq!(report.num_items, 11);
}

#[tokio::test]
async fn foreign_or_deleted_children_are_issues() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let mut accounts = fixture("accounts.json", &server, SUB_A);
    let foreign = format!("/subscriptions/{SUB_B}/{AI_ACCOUNTS}/chat-prod");
    accounts["value"][0]["id"] = json!(foreign);
    let accounts_mock = Mock::given(method("GET"))
        .and(path(accounts_route(SUB_A)))
        .respond_with(ok(accounts))
        .with_priority(1);
    accounts_mock.mount(&server).await;
    let deleted = format!("/subscriptions/{SUB_A}/{FRAUD_WS}/models");
    let not_found =
        json!({"error": {"code": "ResourceNotFound", "message": "The workspace was not found."}});
    mount_get(
        &server,
        &deleted,
        "2024-10-01",
        ResponseTemplate::new(404).set_body_json(not_found),
    )
    .await;
    mount_subscription(&server, SUB_A).await;

    let (result, findings) = crawl(&source(&server, &[SUB_A]), &scope(SUB_A)).await;

    let report = result.unwrap();
    assert_eq!(
        report.issues,
        [
            "list registered models of workspace `ws-fraud` skipped: The workspace was not found."
                .to_owned(),
            format!(
                "resource id `{foreign}` is not an ARM id in subscription {SUB_A}: its child resources were not listed"
            ),
        ]
    );
    assert!(report.is_complete());
    // The two models and the two deployments of the foreign account are missing.
    assert_eq!(report.num_items, 9);
    assert_eq!(
        requests_to(&server, &format!("{foreign}/deployments")).await,
        0
    );
    assert!(!findings.iter().any(|f| f.subject == "azure-ml-model"));
}
