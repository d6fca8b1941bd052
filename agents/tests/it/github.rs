//! GitHub connector against a local mock of the REST API that responds with GitHub's
//! documented response shapes.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use agents::github::GitHubFactory;
use agents::net::{HttpClient, Quota, RateLimits, RetryPolicy};
use agents::{
    Catalogue, CodeScanOptions, ConnectorSpec, CrawlReport, FindingSink, ScanProgress, Scope,
    Source, SourceFactory, scan_tree,
};
use base64::Engine;
use proto::{Finding, FindingKind};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::matchers::{bearer_token, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "ghp_testtoken0000000000000000000000000";

const REQUIREMENTS: &str = "openai==1.40.0\nrequests\n";
const APP_PY: &str = "import openai\n\nclient = openai.OpenAI()\n";

/// A client whose limiter allows 1,000 GitHub calls per second and whose retries are short.
fn http() -> HttpClient {
    let limits = RateLimits::new(BTreeMap::from([(
        "github".to_owned(),
        Quota::per_second(1_000),
    )]));
    let policy = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        attempt_timeout: Duration::from_secs(10),
        operation_timeout: Duration::from_secs(30),
    };
    HttpClient::new(limits, policy).with_secondary_limit_wait(Duration::from_millis(300))
}

fn token_spec(server: &MockServer, organisations: &[&str]) -> ConnectorSpec {
    ConnectorSpec {
        name: "acme-github".to_owned(),
        kind: "github".to_owned(),
        config: json!({ "organisations": organisations, "api_url": server.uri() }),
        secret: Some(json!({ "token": TOKEN })),
    }
}

fn source(spec: &ConnectorSpec) -> Arc<dyn Source> {
    GitHubFactory::new(http()).build(spec).expect("valid spec")
}

async fn crawl_scope(
    source: &dyn Source,
    scope: &Scope,
) -> Result<(Vec<Finding>, CrawlReport), agents::CrawlError> {
    let findings = Arc::new(Mutex::new(Vec::new()));
    let collected = Arc::clone(&findings);
    let sink: FindingSink = Arc::new(move |finding| collected.lock().expect("lock").push(finding));
    let report = source.crawl(scope, sink).await?;
    let mut findings = findings.lock().expect("lock").clone();
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.kind, &a.subject).cmp(&(&b.path, b.line, b.kind, &b.subject))
    });
    Ok((findings, report))
}

async fn crawl(source: &dyn Source) -> Result<(Vec<Finding>, CrawlReport), agents::CrawlError> {
    let scopes = source.scopes().await.expect("scopes");
    crawl_scope(source, &scopes[0]).await
}

/// A repository as `GET /orgs/{org}/repos` lists it.
fn repo_json(name: &str) -> Value {
    json!({
        "id": 1296269,
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": name,
        "full_name": format!("acme/{name}"),
        "owner": { "login": "acme", "id": 1, "type": "Organization" },
        "private": true,
        "html_url": format!("https://github.com/acme/{name}"),
        "description": "Valuation models",
        "fork": false,
        "url": format!("https://api.github.com/repos/acme/{name}"),
        "language": "Python",
        "size": 108,
        "default_branch": "main",
        "archived": false,
        "disabled": false,
        "visibility": "private",
        "pushed_at": "2026-11-30T10:00:00Z"
    })
}

fn blob_sha(content: &str) -> String {
    hex::encode(Sha256::digest(content.as_bytes()))[..40].to_owned()
}

/// Mounts the tree and blob responses of one repository on its `main` branch.
async fn mount_repo(server: &MockServer, repo: &str, files: &[(&str, &str)]) {
    let entries: Vec<Value> = files
        .iter()
        .map(|(file, content)| {
            json!({
                "path": file, "mode": "100644", "type": "blob", "sha": blob_sha(content),
                "size": content.len(), "url": "https://api.github.com/unused"
            })
        })
        .collect();
    Mock::given(method("GET"))
        .and(path(format!("/repos/acme/{repo}/git/trees/main")))
        .and(query_param("recursive", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sha": "9fb037999f264ba9a7fc6274d15fa3ae2ab98312",
            "url": "https://api.github.com/unused",
            "tree": entries,
            "truncated": false
        })))
        .mount(server)
        .await;
    for (_, content) in files {
        mount_blob(server, repo, content).await;
    }
}

async fn mount_blob(server: &MockServer, repo: &str, content: &str) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(content);
    // GitHub wraps the base64 content every 60 characters.
    let wrapped: Vec<String> = encoded
        .as_bytes()
        .chunks(60)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect();
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/acme/{repo}/git/blobs/{}",
            blob_sha(content)
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "content": wrapped.join("\n") + "\n",
            "encoding": "base64",
            "url": "https://api.github.com/unused",
            "sha": blob_sha(content),
            "size": content.len(),
            "node_id": "Q29udGVudHM6"
        })))
        .mount(server)
        .await;
}

async fn mount_listing(server: &MockServer, repos: Vec<Value>) {
    Mock::given(method("GET"))
        .and(path("/orgs/acme/repos"))
        .respond_with(ResponseTemplate::new(200).set_body_json(Value::Array(repos)))
        .mount(server)
        .await;
}

fn subjects(findings: &[Finding]) -> Vec<(String, FindingKind, String)> {
    findings
        .iter()
        .map(|finding| (finding.path.clone(), finding.kind, finding.subject.clone()))
        .collect()
}

#[tokio::test]
async fn repositories_are_listed_across_three_pages() {
    let server = MockServer::start().await;
    let page = |number: u32| {
        format!(
            "{}/organizations/7/repos?type=all&per_page=100&page={number}",
            server.uri()
        )
    };
    let mut fork = repo_json("upstream-fork");
    fork["fork"] = json!(true);
    let mut archived = repo_json("old-valuer");
    archived["archived"] = json!(true);
    Mock::given(method("GET"))
        .and(path("/orgs/acme/repos"))
        .and(query_param("per_page", "100"))
        .and(query_param_is_missing("page"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([repo_json("valuer"), fork]))
                .insert_header(
                    "Link",
                    format!("<{}>; rel=\"next\", <{}>; rel=\"last\"", page(2), page(3)),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/organizations/7/repos"))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([archived, repo_json("gis-tools")]))
                .insert_header(
                    "Link",
                    format!("<{}>; rel=\"next\", <{}>; rel=\"last\"", page(3), page(3)),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/organizations/7/repos"))
        .and(query_param("page", "3"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([repo_json("chatbot")]))
                .insert_header(
                    "Link",
                    format!("<{}>; rel=\"prev\", <{}>; rel=\"first\"", page(2), page(1)),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    for repo in ["valuer", "gis-tools", "chatbot"] {
        mount_repo(&server, repo, &[("requirements.txt", REQUIREMENTS)]).await;
    }
    for excluded in ["upstream-fork", "old-valuer"] {
        Mock::given(path(format!("/repos/acme/{excluded}/git/trees/main")))
            .respond_with(ResponseTemplate::new(500))
            .expect(0)
            .mount(&server)
            .await;
    }

    let (findings, report) = crawl(&*source(&token_spec(&server, &["acme"])))
        .await
        .expect("crawl");

    let paths: Vec<&str> = findings
        .iter()
        .map(|finding| finding.path.as_str())
        .collect();
    assert_eq!(
        paths,
        vec![
            "chatbot/requirements.txt",
            "gis-tools/requirements.txt",
            "valuer/requirements.txt"
        ]
    );
    assert_eq!(report.num_items, 3);
    assert!(report.is_complete(), "{report:?}");
}

#[tokio::test]
async fn findings_match_a_local_scan() {
    let server = MockServer::start().await;
    let files = [
        ("requirements.txt", REQUIREMENTS),
        ("src/app.py", APP_PY),
        (
            "services/api/package.json",
            "{\"name\": \"api\", \"dependencies\": {\"@anthropic-ai/sdk\": \"^0.30.0\"}}\n",
        ),
        ("docs/logo.png", "not read"),
    ];
    mount_listing(&server, vec![repo_json("valuer")]).await;
    mount_repo(&server, "valuer", &files).await;

    let (findings, report) = crawl(&*source(&token_spec(&server, &["acme"])))
        .await
        .expect("crawl");

    // The same files scanned locally, moved into the scope the way the connector documents.
    let local = tempfile::tempdir().expect("temporary folder");
    for (file, content) in &files {
        let target = local.path().join(file);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("folders");
        std::fs::write(target, content).expect("write");
    }
    let expected = local_findings(local.path(), "github:acme", "valuer");
    assert_eq!(findings, expected);
    assert!(subjects(&findings).contains(&(
        "valuer/requirements.txt".to_owned(),
        FindingKind::Dependency,
        "openai".to_owned()
    )));
    let dependency = findings
        .iter()
        .find(|finding| finding.kind == FindingKind::Dependency && finding.subject == "openai")
        .expect("openai dependency");
    assert_eq!(dependency.project_root, "valuer");
    assert_eq!(dependency.source, "github");
    assert_eq!(
        dependency.attributes.get("ecosystem").map(String::as_str),
        Some("pypi")
    );
    let sdk = findings
        .iter()
        .find(|finding| finding.path == "valuer/services/api/package.json")
        .expect("npm dependency");
    assert_eq!(sdk.project_root, "valuer/services/api");
    // Three files were downloaded; the image was not.
    assert_eq!(report.num_items, 3);
}

fn local_findings(root: &Path, scope: &str, repo: &str) -> Vec<Finding> {
    let collected = Mutex::new(Vec::new());
    let sink = |finding: Finding| collected.lock().expect("lock").push(finding);
    scan_tree(
        root,
        Catalogue::embedded(),
        &CodeScanOptions::default(),
        &ScanProgress::default(),
        &sink,
    )
    .expect("local scan");
    let mut findings: Vec<Finding> = collected
        .into_inner()
        .expect("lock")
        .into_iter()
        .map(|finding| {
            let path = format!("{repo}/{}", finding.path);
            let project_root = match finding.project_root.as_str() {
                "." => repo.to_owned(),
                root => format!("{repo}/{root}"),
            };
            Finding {
                source: "github".to_owned(),
                scope: scope.to_owned(),
                external_id: Finding::stable_id(scope, &path, finding.kind, &finding.subject),
                path,
                project_root,
                ..finding
            }
        })
        .collect();
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.kind, &a.subject).cmp(&(&b.path, b.line, b.kind, &b.subject))
    });
    findings
}

/// Mounts a listing of one repository `valuer` whose tree first responds with `first`, then with the
/// real tree.
async fn mount_tree_failing_once(server: &MockServer, first: ResponseTemplate) {
    mount_listing(server, vec![repo_json("valuer")]).await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/valuer/git/trees/main"))
        .respond_with(first)
        .up_to_n_times(1)
        .expect(1)
        .mount(server)
        .await;
    mount_repo(server, "valuer", &[("requirements.txt", REQUIREMENTS)]).await;
}

async fn crawl_after_retry(server: &MockServer) -> (Duration, CrawlReport) {
    let started = Instant::now();
    let (findings, report) = crawl(&*source(&token_spec(server, &["acme"])))
        .await
        .expect("crawl");
    assert_eq!(findings.len(), 1, "{report:?}");
    (started.elapsed(), report)
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let server = MockServer::start().await;
    let throttled = ResponseTemplate::new(429)
        .insert_header("Retry-After", "1")
        .set_body_json(json!({ "message": "Too many requests" }));
    mount_tree_failing_once(&server, throttled).await;

    let (elapsed, report) = crawl_after_retry(&server).await;
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(report.is_complete());
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    let server = MockServer::start().await;
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    let throttled = ResponseTemplate::new(429)
        .insert_header("Retry-After", at.as_str())
        .set_body_json(json!({ "message": "Too many requests" }));
    mount_tree_failing_once(&server, throttled).await;

    let (elapsed, report) = crawl_after_retry(&server).await;
    // An HTTP date has whole seconds, so the wait is between one and two seconds.
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(report.is_complete());
}

#[tokio::test]
async fn primary_limit_waits_for_reset() {
    let server = MockServer::start().await;
    let reset = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 2;
    let exhausted = ResponseTemplate::new(403)
        .insert_header("X-RateLimit-Limit", "5000")
        .insert_header("X-RateLimit-Remaining", "0")
        .insert_header("X-RateLimit-Reset", reset.to_string().as_str())
        .insert_header("X-RateLimit-Resource", "core")
        .set_body_json(json!({
            "message": "API rate limit exceeded for installation ID 42.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
        }));
    mount_tree_failing_once(&server, exhausted).await;

    let (elapsed, report) = crawl_after_retry(&server).await;
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(report.is_complete());
}

#[tokio::test]
async fn server_error_is_retried() {
    let server = MockServer::start().await;
    let failing = ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>");
    mount_tree_failing_once(&server, failing).await;

    let (_, report) = crawl_after_retry(&server).await;
    assert!(report.is_complete());
}

/// Records when each request arrived.
#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<Vec<Instant>>>);

struct RecordingResponder {
    arrivals: Arrivals,
    response: ResponseTemplate,
}

impl Respond for RecordingResponder {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        self.arrivals.0.lock().expect("lock").push(Instant::now());
        self.response.clone()
    }
}

#[tokio::test]
async fn secondary_limit_pauses_the_token_in_every_organisation() {
    let server = MockServer::start().await;
    let limited_at = Arrivals::default();
    let secondary = ResponseTemplate::new(403)
        .insert_header("Retry-After", "2")
        .set_body_json(json!({
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
        }));
    Mock::given(method("GET"))
        .and(path("/orgs/acme/repos"))
        .respond_with(RecordingResponder {
            arrivals: limited_at.clone(),
            response: secondary,
        })
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_listing(&server, vec![]).await;
    let other_at = Arrivals::default();
    Mock::given(method("GET"))
        .and(path("/orgs/surveys/repos"))
        .respond_with(RecordingResponder {
            arrivals: other_at.clone(),
            response: ResponseTemplate::new(200).set_body_json(json!([])),
        })
        .mount(&server)
        .await;

    let source = source(&token_spec(&server, &["acme", "surveys"]));
    let scopes = source.scopes().await.expect("scopes");
    let first = crawl_scope(&*source, &scopes[0]);
    let second = async {
        // Starts after the first organisation's listing was limited.
        tokio::time::sleep(Duration::from_millis(300)).await;
        crawl_scope(&*source, &scopes[1]).await
    };
    let (first, second) = tokio::join!(first, second);
    first.expect("first organisation");
    second.expect("second organisation");

    let limited = limited_at.0.lock().expect("lock")[0];
    let other = other_at.0.lock().expect("lock")[0];
    let waited = other.duration_since(limited);
    assert!(
        waited >= Duration::from_millis(1_900),
        "second organisation called after {waited:?}"
    );
}

#[tokio::test]
async fn plain_forbidden_is_a_gap_without_retry() {
    let server = MockServer::start().await;
    mount_listing(&server, vec![repo_json("valuer"), repo_json("chatbot")]).await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/valuer/git/trees/main"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest/git/trees#get-a-tree",
            "status": "403"
        })))
        .expect(1)
        .mount(&server)
        .await;
    mount_repo(&server, "chatbot", &[("requirements.txt", REQUIREMENTS)]).await;

    let (findings, report) = crawl(&*source(&token_spec(&server, &["acme"])))
        .await
        .expect("crawl");

    assert_eq!(findings.len(), 1);
    assert_eq!(report.gaps.len(), 1);
    assert_eq!(report.gaps[0].permission, "contents: read");
    assert_eq!(report.gaps[0].service, "read the git tree of acme/valuer");
    assert_eq!(
        report.gaps[0].message,
        "Resource not accessible by integration"
    );
    assert!(!report.is_complete());
}

#[tokio::test]
async fn denied_listing_is_a_metadata_gap() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/orgs/acme/repos"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by integration"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let (findings, report) = crawl(&*source(&token_spec(&server, &["acme"])))
        .await
        .expect("crawl");
    assert!(findings.is_empty());
    assert_eq!(report.gaps.len(), 1);
    assert_eq!(report.gaps[0].permission, "metadata: read");
}

#[tokio::test]
async fn user_account_is_listed_when_no_organisation_matches() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/orgs/acme/repos"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest/repos/repos#list-organization-repositories"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/users/acme/repos"))
        .and(query_param("type", "owner"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([repo_json("valuer")])))
        .expect(1)
        .mount(&server)
        .await;
    mount_repo(&server, "valuer", &[("requirements.txt", REQUIREMENTS)]).await;

    let (findings, report) = crawl(&*source(&token_spec(&server, &["acme"])))
        .await
        .expect("crawl");
    assert_eq!(findings.len(), 1);
    assert!(report.is_complete(), "{report:?}");
}

#[tokio::test]
async fn empty_repository_is_skipped() {
    let server = MockServer::start().await;
    mount_listing(&server, vec![repo_json("empty")]).await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/empty/git/trees/main"))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({
            "message": "Git Repository is empty.",
            "documentation_url": "https://docs.github.com/rest/git/trees#get-a-tree"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let (findings, report) = crawl(&*source(&token_spec(&server, &["acme"])))
        .await
        .expect("crawl");
    assert!(findings.is_empty());
    assert_eq!(
        report.issues,
        vec!["acme/empty: skipped because the repository is empty"]
    );
    assert!(report.is_complete());
}

#[tokio::test]
async fn malformed_listing_fails_the_scope_with_the_operation() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/orgs/acme/repos"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("[{\"name\": \"valuer\"", "application/json"),
        )
        .mount(&server)
        .await;

    let error = crawl(&*source(&token_spec(&server, &["acme"])))
        .await
        .expect_err("malformed");
    assert!(error.permanent);
    assert!(
        error
            .message
            .starts_with("github:acme: list the repositories of acme returned a malformed answer"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn malformed_tree_leaves_other_repositories_scanned() {
    let server = MockServer::start().await;
    mount_listing(&server, vec![repo_json("broken"), repo_json("valuer")]).await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/broken/git/trees/main"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "sha": "abc", "tree": "nope" })),
        )
        .mount(&server)
        .await;
    mount_repo(&server, "valuer", &[("requirements.txt", REQUIREMENTS)]).await;

    let (findings, report) = crawl(&*source(&token_spec(&server, &["acme"])))
        .await
        .expect("crawl");
    assert_eq!(findings.len(), 1);
    assert_eq!(report.incomplete.len(), 1);
    assert!(
        report.incomplete[0].starts_with("acme/broken: not scanned"),
        "{:?}",
        report.incomplete
    );
    assert!(
        report.issues[0].contains("read the git tree of acme/broken returned a malformed answer"),
        "{:?}",
        report.issues
    );
}

#[tokio::test]
async fn missing_optional_fields_are_tolerated() {
    let server = MockServer::start().await;
    mount_listing(
        &server,
        vec![json!({ "id": 5, "name": "bare", "full_name": "acme/bare" })],
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/bare/git/trees/HEAD"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sha": "abc",
            "tree": [{ "path": "requirements.txt", "type": "blob", "sha": blob_sha(REQUIREMENTS) }]
        })))
        .expect(1)
        .mount(&server)
        .await;
    mount_blob(&server, "bare", REQUIREMENTS).await;

    let (findings, report) = crawl(&*source(&token_spec(&server, &["acme"])))
        .await
        .expect("crawl");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].path, "bare/requirements.txt");
    assert!(report.is_complete(), "{report:?}");
}

#[tokio::test]
async fn failed_blob_leaves_other_files_scanned() {
    let server = MockServer::start().await;
    mount_listing(&server, vec![repo_json("valuer")]).await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/acme/valuer/git/blobs/{}",
            blob_sha(APP_PY)
        )))
        .respond_with(
            ResponseTemplate::new(500).set_body_json(json!({ "message": "Server Error" })),
        )
        .expect(4)
        .mount(&server)
        .await;
    mount_repo(
        &server,
        "valuer",
        &[("requirements.txt", REQUIREMENTS), ("src/app.py", APP_PY)],
    )
    .await;

    let (findings, report) = crawl(&*source(&token_spec(&server, &["acme"])))
        .await
        .expect("crawl");
    let paths: Vec<&str> = findings
        .iter()
        .map(|finding| finding.path.as_str())
        .collect();
    assert_eq!(paths, vec!["valuer/requirements.txt"]);
    assert_eq!(
        report.issues,
        vec![format!(
            "acme/valuer/src/app.py: read blob {} of acme/valuer failed with HTTP 500: Server Error",
            blob_sha(APP_PY)
        )]
    );
    assert_eq!(
        report.incomplete,
        vec!["acme/valuer: could not download 1 file(s), so they were not scanned"]
    );
}

#[tokio::test]
async fn truncated_tree_marks_the_repository_incomplete() {
    let server = MockServer::start().await;
    mount_listing(&server, vec![repo_json("monorepo")]).await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/monorepo/git/trees/main"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sha": "abc",
            "tree": [{ "path": "requirements.txt", "mode": "100644", "type": "blob",
                       "sha": blob_sha(REQUIREMENTS), "size": REQUIREMENTS.len() }],
            "truncated": true
        })))
        .mount(&server)
        .await;
    mount_blob(&server, "monorepo", REQUIREMENTS).await;

    let (findings, report) = crawl(&*source(&token_spec(&server, &["acme"])))
        .await
        .expect("crawl");
    assert_eq!(findings.len(), 1);
    assert_eq!(report.incomplete.len(), 1);
    assert!(report.incomplete[0].starts_with("acme/monorepo: GitHub truncated the git tree"));
}

#[tokio::test]
async fn oversized_and_skipped_files_are_not_downloaded() {
    let server = MockServer::start().await;
    mount_listing(&server, vec![repo_json("valuer")]).await;
    let big = "x".repeat(64);
    Mock::given(method("GET"))
        .and(path("/repos/acme/valuer/git/trees/main"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sha": "abc",
            "tree": [
                { "path": "big.py", "mode": "100644", "type": "blob", "sha": blob_sha(&big), "size": big.len() },
                { "path": "node_modules/openai/package.json", "mode": "100644", "type": "blob", "sha": "1111111111111111111111111111111111111111", "size": 10 },
                { "path": "link.py", "mode": "120000", "type": "blob", "sha": "2222222222222222222222222222222222222222", "size": 10 },
                { "path": "../escape.py", "mode": "100644", "type": "blob", "sha": "3333333333333333333333333333333333333333", "size": 10 },
                { "path": "lib", "mode": "160000", "type": "commit", "sha": "4444444444444444444444444444444444444444" }
            ],
            "truncated": false
        })))
        .mount(&server)
        .await;
    Mock::given(path_regex_blobs())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let mut spec = token_spec(&server, &["acme"]);
    spec.config["max_file_size"] = json!(32);

    let (findings, report) = crawl(&*source(&spec)).await.expect("crawl");
    assert!(findings.is_empty());
    assert_eq!(
        report.issues,
        vec![
            "acme/valuer/big.py: file not scanned: its size of 64 bytes exceeds the limit of 32 \
             bytes; raise `max_file_size` in the connector config",
            "acme/valuer: skipped the unsafe tree path `../escape.py`",
        ]
    );
}

fn path_regex_blobs() -> wiremock::matchers::PathRegexMatcher {
    wiremock::matchers::path_regex("^/repos/acme/valuer/git/blobs/")
}

#[tokio::test]
async fn looping_next_link_stops_the_listing() {
    let server = MockServer::start().await;
    let first = format!("{}/orgs/acme/repos?per_page=100&page=1", server.uri());
    Mock::given(method("GET"))
        .and(path("/orgs/acme/repos"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([]))
                .insert_header("Link", format!("<{first}>; rel=\"next\"")),
        )
        .mount(&server)
        .await;

    let (_, report) = crawl(&*source(&token_spec(&server, &["acme"])))
        .await
        .expect("crawl");
    assert_eq!(report.incomplete.len(), 1, "{report:?}");
    assert!(report.incomplete[0].contains("list the repositories of acme"));
}

#[tokio::test]
async fn next_link_to_another_host_is_not_followed() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/orgs/acme/repos"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([]))
                .insert_header(
                    "Link",
                    format!("<{}/steal?page=2>; rel=\"next\"", elsewhere.uri()),
                ),
        )
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(0)
        .mount(&elsewhere)
        .await;

    let (_, report) = crawl(&*source(&token_spec(&server, &["acme"])))
        .await
        .expect("crawl");
    assert_eq!(report.incomplete.len(), 1);
    assert!(
        report.incomplete[0].contains("points to another host"),
        "{:?}",
        report.incomplete
    );
}

/// Checks the App JWT with the test key's public half and issues an installation token.
struct InstallationTokenResponder;

impl Respond for InstallationTokenResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let header = request
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        let Some(jwt) = header.strip_prefix("Bearer ") else {
            return ResponseTemplate::new(401).set_body_json(json!({ "message": "no JWT" }));
        };
        let public = std::fs::read(fixture("test-only-app-key.pub.pem")).expect("public key");
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(&public).expect("public key parses");
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_issuer(&["12345"]);
        validation.set_required_spec_claims(&["exp", "iat", "iss"]);
        let claims = match jsonwebtoken::decode::<Value>(jwt, &key, &validation) {
            Ok(data) => data.claims,
            Err(error) => {
                return ResponseTemplate::new(401)
                    .set_body_json(json!({ "message": error.to_string() }));
            }
        };
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let iat = claims["iat"].as_u64().expect("iat");
        let exp = claims["exp"].as_u64().expect("exp");
        if iat > now - 30 || exp - iat > 600 {
            return ResponseTemplate::new(401)
                .set_body_json(json!({ "message": "bad iat or exp" }));
        }
        let expires = chrono::Utc::now() + chrono::Duration::hours(1);
        ResponseTemplate::new(201).set_body_json(json!({
            "token": "ghs_installationtoken",
            "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "permissions": { "contents": "read", "metadata": "read" },
            "repository_selection": "all"
        }))
    }
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/github")
        .join(name)
}

#[tokio::test]
async fn app_installation_token_is_exchanged_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/app/installations/42/access_tokens"))
        .respond_with(InstallationTokenResponder)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orgs/acme/repos"))
        .and(bearer_token("ghs_installationtoken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([repo_json("valuer")])))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/valuer/git/trees/main"))
        .and(bearer_token("ghs_installationtoken"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "sha": "abc", "tree": [], "truncated": false })),
        )
        .expect(2)
        .mount(&server)
        .await;
    let key = std::fs::read_to_string(fixture("test-only-app-key.pem")).expect("test key");
    let spec = ConnectorSpec {
        name: "acme-app".to_owned(),
        kind: "github".to_owned(),
        config: json!({
            "organisations": ["acme"], "api_url": server.uri(), "app_id": 12345, "installation_id": 42
        }),
        secret: Some(json!({ "private_key": key })),
    };
    let source = source(&spec);

    let (_, first) = crawl(&*source).await.expect("first crawl");
    let (_, second) = crawl(&*source).await.expect("second crawl");
    assert!(first.is_complete(), "{first:?}");
    assert!(second.is_complete(), "{second:?}");
}

#[test]
fn factory_rejects_bad_specs_without_echoing_secrets() {
    let factory = GitHubFactory::new(http());
    let spec = |config: Value, secret: Option<Value>| ConnectorSpec {
        name: "acme-github".to_owned(),
        kind: "github".to_owned(),
        config,
        secret,
    };
    let cases = [
        (
            json!({ "organisations": ["acme"] }),
            None,
            "secret: expected",
        ),
        (
            json!({ "organisations": [] }),
            Some(json!({ "token": TOKEN })),
            "no organisation",
        ),
        (
            json!({ "organisations": ["acme"], "repos": [] }),
            Some(json!({ "token": TOKEN })),
            "unknown field `repos`",
        ),
        (
            json!({ "organisations": ["acme"], "api_url": "ftp://x" }),
            Some(json!({ "token": TOKEN })),
            "not an http(s) URL",
        ),
        (
            json!({ "organisations": ["acme"], "app_id": 1, "installation_id": 2 }),
            Some(
                json!({ "private_key": "-----BEGIN RSA PRIVATE KEY-----\nsecretstuff\n-----END RSA PRIVATE KEY-----\n" }),
            ),
            "not an RSA private key",
        ),
        (
            json!({ "organisations": ["acme"] }),
            Some(json!({ "token": 12345 })),
            "secret: expected",
        ),
    ];
    for (config, secret, expected) in cases {
        let error = factory
            .build(&spec(config, secret))
            .err()
            .expect("invalid spec");
        assert!(error.message.contains(expected), "{}", error.message);
        assert!(error.permanent);
        assert!(!error.message.contains(TOKEN));
        assert!(!error.message.contains("secretstuff"));
        assert!(!error.message.contains("12345"));
    }
}
