//! Scans of connectors through the actor tree, with a fake source whose scopes panic,
//! report gaps, skip, fail once, fail for good or hang, against a real Postgres.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents::{
    BoxFuture, ConnectorSpec, CoverageGap, CrawlError, CrawlReport, FindingSink, ScanProgress,
    Scope, Source, SourceFactory, SourceRegistry,
};
use coordinator::{
    Coordinator, CoordinatorConfig, RestartPolicy, ScanOutcome, ScanRequest, ScanStatus,
    ScopeOutcome, ScopeStatus,
};
use proto::{Finding, FindingKind};
use serde_json::json;
use store::testing::TestDb;
use store::{TenantContext, TenantPath};

/// Counters shared by every source the factory builds.
#[derive(Default)]
struct Counters {
    /// Crawl attempts by scope id.
    attempts: Mutex<HashMap<String, u32>>,
    /// Crawls running now.
    running: AtomicUsize,
    /// Most crawls seen running at once.
    max_running: AtomicUsize,
    /// Crawls started, all attempts included.
    started: AtomicUsize,
}

/// Counts a running crawl until dropped, also when its task is aborted.
struct RunningGuard(Arc<Counters>);

impl RunningGuard {
    fn new(counters: &Arc<Counters>) -> Self {
        counters.started.fetch_add(1, Ordering::SeqCst);
        let now = counters.running.fetch_add(1, Ordering::SeqCst) + 1;
        counters.max_running.fetch_max(now, Ordering::SeqCst);
        RunningGuard(counters.clone())
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A source whose scopes behave as their config says: `{"scopes": {"<id>": "<behaviour>"}}`
/// with behaviours `ok`, `empty`, `panic`, `gaps`, `incomplete`, `skip`, `flaky`,
/// `permanent`, `slow` and `hang`; `{"list_error": "..."}` fails the listing.
struct FakeSource {
    scopes: BTreeMap<String, String>,
    list_error: Option<String>,
    counters: Arc<Counters>,
}

fn finding(scope: &str) -> Finding {
    let path = format!("arn:fake:sagemaker:{scope}:endpoint/chat");
    let kind = FindingKind::CloudResource;
    Finding {
        source: "fake".to_owned(),
        scope: scope.to_owned(),
        external_id: Finding::stable_id(scope, &path, kind, "sagemaker-endpoint"),
        kind,
        subject: "sagemaker-endpoint".to_owned(),
        path,
        line: None,
        confidence: 0.9,
        project_root: "sagemaker/chat".to_owned(),
        attributes: BTreeMap::from([
            ("category".to_owned(), "serving".to_owned()),
            ("provider".to_owned(), "aws-sagemaker".to_owned()),
        ]),
        evidence: None,
    }
}

impl FakeSource {
    async fn crawl_scope(
        &self,
        scope: &Scope,
        sink: FindingSink,
    ) -> Result<CrawlReport, CrawlError> {
        let _running = RunningGuard::new(&self.counters);
        let attempt = {
            let mut attempts = self.counters.attempts.lock().unwrap();
            let entry = attempts.entry(scope.id.clone()).or_default();
            *entry += 1;
            *entry
        };
        let behaviour = self.scopes[&scope.id].as_str();
        let mut report = CrawlReport {
            num_items: 1,
            ..CrawlReport::default()
        };
        match behaviour {
            "panic" => panic!("simulated panic in {}", scope.id),
            "permanent" => return Err(CrawlError::permanent("simulated bad credentials")),
            "flaky" if attempt == 1 => return Err(CrawlError::transient("simulated 503")),
            "hang" => std::future::pending::<()>().await,
            "slow" => tokio::time::sleep(Duration::from_millis(30)).await,
            "empty" => return Ok(report),
            "gaps" => report.gaps.push(CoverageGap {
                service: "sagemaker:ListEndpoints".to_owned(),
                permission: "sagemaker:ListEndpoints".to_owned(),
                message: "access denied".to_owned(),
            }),
            "denied" => {
                report.gaps.push(CoverageGap {
                    service: "sagemaker:ListModels".to_owned(),
                    permission: "sagemaker:ListModels".to_owned(),
                    message: "access denied".to_owned(),
                });
                return Ok(report);
            }
            "incomplete" => report
                .incomplete
                .push("endpoints: paging token repeated".to_owned()),
            "skip" => {
                report.skipped = Some("region eu-south-2 is not enabled".to_owned());
                return Ok(report);
            }
            _ => {}
        }
        sink(finding(&scope.id));
        Ok(report)
    }
}

impl Source for FakeSource {
    fn provider(&self) -> &str {
        "fake"
    }

    fn scopes(&self) -> BoxFuture<'_, Result<Vec<Scope>, CrawlError>> {
        let listed = match &self.list_error {
            Some(message) => Err(CrawlError::permanent(message.clone())),
            None => Ok(self
                .scopes
                .keys()
                .map(|id| Scope::new("fake", id.clone()))
                .collect()),
        };
        Box::pin(async move { listed })
    }

    fn crawl<'a>(
        &'a self,
        scope: &'a Scope,
        sink: FindingSink,
    ) -> BoxFuture<'a, Result<CrawlReport, CrawlError>> {
        Box::pin(self.crawl_scope(scope, sink))
    }
}

struct FakeFactory {
    counters: Arc<Counters>,
}

impl SourceFactory for FakeFactory {
    fn build(&self, spec: &ConnectorSpec) -> Result<Arc<dyn Source>, CrawlError> {
        let scopes = spec.config["scopes"]
            .as_object()
            .map(|scopes| {
                scopes
                    .iter()
                    .map(|(id, behaviour)| (id.clone(), behaviour.as_str().unwrap().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Arc::new(FakeSource {
            scopes,
            list_error: spec.config["list_error"].as_str().map(str::to_owned),
            counters: self.counters.clone(),
        }))
    }
}

async fn start(db: &TestDb, counters: &Arc<Counters>, max_crawlers: usize) -> Coordinator {
    let mut sources = SourceRegistry::new();
    let factory = FakeFactory {
        counters: counters.clone(),
    };
    sources.register("fake", Arc::new(factory));
    let rule_book = Arc::new(rule_book::RuleBook::embedded().unwrap());
    let mut config = CoordinatorConfig::new(db.store.clone(), rule_book, sources);
    config.restart = RestartPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
    };
    config.max_crawlers_per_connector = max_crawlers;
    Coordinator::spawn(config).await.unwrap()
}

fn connector(name: &str, config: serde_json::Value) -> ConnectorSpec {
    ConnectorSpec {
        name: name.to_owned(),
        kind: "fake".to_owned(),
        config,
        secret: None,
    }
}

fn request(connectors: Vec<ConnectorSpec>) -> ScanRequest {
    ScanRequest {
        tenant: "acme".to_owned(),
        targets: Vec::new(),
        connectors,
        frameworks: Vec::new(),
        requested_by: "test:runner".to_owned(),
        progress: Arc::new(ScanProgress::default()),
    }
}

fn context() -> TenantContext {
    TenantContext::new(TenantPath::from_slug_path("acme").unwrap())
}

fn scope<'a>(outcome: &'a ScanOutcome, id: &str) -> &'a ScopeOutcome {
    outcome
        .scopes
        .iter()
        .find(|scope| scope.scope == id)
        .unwrap_or_else(|| panic!("no scope {id} in {:?}", outcome.scopes))
}

/// Returns `(scope, status, attempts)` of every `scan_scopes` row of the scan.
async fn scope_rows(db: &TestDb, scan_id: uuid::Uuid) -> Vec<(String, String, i32)> {
    let mut tx = db.store.begin(&context()).await.unwrap();
    let rows = store::scans::list_scopes(&mut tx, scan_id).await.unwrap();
    rows.into_iter()
        .map(|row| (row.scope, row.status, row.attempts))
        .collect()
}

/// Polls `check` every 10 ms until it holds, for at most 10 s.
async fn wait_until(mut check: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not met within 10 s");
}

#[tokio::test]
async fn every_scope_settles_with_its_own_outcome() {
    let db = TestDb::new().await;
    let counters = Arc::new(Counters::default());
    let coordinator = start(&db, &counters, 16).await;
    let scopes = json!({"scopes": {
        "ok": "ok", "panics": "panic", "denied-part": "gaps", "not-enabled": "skip",
        "flaky": "flaky", "bad-credentials": "permanent",
    }});

    let outcome = coordinator
        .scan(request(vec![connector("prod", scopes)]))
        .await
        .unwrap();

    assert_eq!(outcome.status, ScanStatus::Partial);
    let expected = [
        ("bad-credentials", ScopeStatus::Failed, 1),
        ("denied-part", ScopeStatus::Partial, 1),
        ("flaky", ScopeStatus::Covered, 2),
        ("not-enabled", ScopeStatus::Skipped, 1),
        ("ok", ScopeStatus::Covered, 1),
        ("panics", ScopeStatus::Failed, 3),
    ];
    for (id, status, attempts) in expected {
        let settled = scope(&outcome, id);
        assert_eq!(settled.status, status, "{id}");
        assert_eq!(settled.attempts, attempts, "{id}");
        assert_eq!(settled.connector, "prod", "{id}");
        assert_eq!(settled.provider, "fake", "{id}");
    }
    let panicked = scope(&outcome, "panics").error.clone().unwrap();
    assert!(panicked.contains("simulated panic in panics"), "{panicked}");
    let denied = scope(&outcome, "denied-part");
    assert_eq!(denied.gaps[0].permission, "sagemaker:ListEndpoints");
    assert_eq!(denied.num_findings, 1);
    let skipped = scope(&outcome, "not-enabled");
    assert_eq!(
        skipped.skipped.as_deref(),
        Some("region eu-south-2 is not enabled")
    );
    let not_covered: Vec<&str> = outcome
        .not_covered()
        .map(|scope| scope.scope.as_str())
        .collect();
    assert_eq!(not_covered, ["bad-credentials", "denied-part", "panics"]);
    assert_eq!(
        outcome.system_ids.len(),
        3,
        "ok, flaky and denied-part each hold one system"
    );

    let rows = scope_rows(&db, outcome.scan_id).await;
    let expected_rows: Vec<(String, String, i32)> = expected
        .iter()
        .map(|(id, status, attempts)| {
            (id.to_string(), status.as_str().to_owned(), *attempts as i32)
        })
        .collect();
    assert_eq!(rows, expected_rows);
    let mut tx = db.store.begin(&context()).await.unwrap();
    let scan = store::scans::get(&mut tx, outcome.scan_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(scan.status, "partial");
    let error = scan.error.unwrap();
    assert!(error.contains("prod `panics` failed"), "{error}");
    assert!(error.contains("sagemaker:ListEndpoints"), "{error}");
    assert_eq!(scan.summary["not_covered"].as_array().unwrap().len(), 3);
    coordinator.shutdown().await;
}

#[tokio::test]
async fn covered_and_skipped_scopes_complete_the_scan() {
    let db = TestDb::new().await;
    let counters = Arc::new(Counters::default());
    let coordinator = start(&db, &counters, 16).await;
    let scopes = json!({"scopes": {"a": "ok", "b": "skip"}});

    let outcome = coordinator
        .scan(request(vec![connector("prod", scopes)]))
        .await
        .unwrap();

    assert_eq!(outcome.status, ScanStatus::Completed);
    assert_eq!(outcome.not_covered().count(), 0);
    coordinator.shutdown().await;
}

#[tokio::test]
async fn incomplete_listing_makes_the_scan_partial() {
    let db = TestDb::new().await;
    let counters = Arc::new(Counters::default());
    let coordinator = start(&db, &counters, 16).await;
    let scopes = json!({"scopes": {"a": "ok", "b": "incomplete"}});

    let outcome = coordinator
        .scan(request(vec![connector("prod", scopes)]))
        .await
        .unwrap();

    assert_eq!(outcome.status, ScanStatus::Partial);
    assert_eq!(scope(&outcome, "b").status, ScopeStatus::Partial);
    assert_eq!(
        scope(&outcome, "b").incomplete,
        ["endpoints: paging token repeated"]
    );
    coordinator.shutdown().await;
}

#[tokio::test]
async fn scan_with_no_scope_crawled_or_skipped_fails() {
    let db = TestDb::new().await;
    let counters = Arc::new(Counters::default());
    let coordinator = start(&db, &counters, 16).await;
    let scopes = json!({"scopes": {"a": "permanent", "b": "panic"}});

    let outcome = coordinator
        .scan(request(vec![connector("prod", scopes)]))
        .await
        .unwrap();

    assert_eq!(outcome.status, ScanStatus::Failed);
    coordinator.shutdown().await;
}

#[tokio::test]
async fn scan_with_a_failed_and_a_skipped_scope_is_partial() {
    let db = TestDb::new().await;
    let counters = Arc::new(Counters::default());
    let coordinator = start(&db, &counters, 16).await;
    let scopes = json!({"scopes": {"a": "permanent", "b": "skip"}});

    let outcome = coordinator
        .scan(request(vec![connector("prod", scopes)]))
        .await
        .unwrap();

    assert_eq!(outcome.status, ScanStatus::Partial);
    let not_covered: Vec<&str> = outcome.not_covered().map(|s| s.scope.as_str()).collect();
    assert_eq!(not_covered, ["a"]);
    coordinator.shutdown().await;
}

#[tokio::test]
async fn scan_with_every_scope_skipped_completes() {
    let db = TestDb::new().await;
    let counters = Arc::new(Counters::default());
    let coordinator = start(&db, &counters, 16).await;
    let scopes = json!({"scopes": {"eu-south-2": "skip", "me-central-1": "skip"}});

    let outcome = coordinator
        .scan(request(vec![connector("prod", scopes)]))
        .await
        .unwrap();

    assert_eq!(outcome.status, ScanStatus::Completed);
    coordinator.shutdown().await;
}

/// Returns `(scope, status)` of every finding, read as the superuser.
async fn finding_statuses(db: &TestDb) -> Vec<(String, String)> {
    let admin = db.admin_pool().await;
    let rows = sqlx::query_as("SELECT scope, status FROM findings ORDER BY scope")
        .fetch_all(&admin)
        .await
        .unwrap();
    admin.close().await;
    rows
}

#[tokio::test]
async fn scopes_not_fully_read_keep_their_findings_open() {
    let db = TestDb::new().await;
    let counters = Arc::new(Counters::default());
    let coordinator = start(&db, &counters, 16).await;
    let first = json!({"scopes": {"gone": "ok", "broken": "ok", "skipped": "ok", "hidden": "ok"}});
    let second = json!({"scopes": {
        "gone": "empty", "broken": "permanent", "skipped": "skip", "hidden": "denied"
    }});
    coordinator
        .scan(request(vec![connector("prod", first)]))
        .await
        .unwrap();

    let outcome = coordinator
        .scan(request(vec![connector("prod", second)]))
        .await
        .unwrap();

    assert_eq!(outcome.status, ScanStatus::Partial);
    let statuses = finding_statuses(&db).await;
    assert_eq!(
        statuses,
        [
            ("broken".to_owned(), "open".to_owned()),
            ("gone".to_owned(), "resolved".to_owned()),
            ("hidden".to_owned(), "open".to_owned()),
            ("skipped".to_owned(), "open".to_owned()),
        ]
    );
    coordinator.shutdown().await;
}

#[tokio::test]
async fn connector_runs_at_most_its_crawler_limit() {
    let db = TestDb::new().await;
    let counters = Arc::new(Counters::default());
    let coordinator = start(&db, &counters, 3).await;
    let scopes: serde_json::Map<String, serde_json::Value> = (0..20)
        .map(|index| (format!("account-{index:02}"), json!("slow")))
        .collect();

    let outcome = coordinator
        .scan(request(vec![connector("org", json!({"scopes": scopes}))]))
        .await
        .unwrap();

    assert_eq!(outcome.status, ScanStatus::Completed);
    assert_eq!(outcome.scopes.len(), 20);
    assert_eq!(counters.started.load(Ordering::SeqCst), 20);
    assert_eq!(counters.max_running.load(Ordering::SeqCst), 3);
    coordinator.shutdown().await;
}

#[tokio::test]
async fn listing_failure_fails_only_its_connector() {
    let db = TestDb::new().await;
    let counters = Arc::new(Counters::default());
    let coordinator = start(&db, &counters, 16).await;
    let broken = connector(
        "broken",
        json!({"list_error": "organizations:ListAccounts denied"}),
    );
    let working = connector("working", json!({"scopes": {"a": "ok"}}));

    let outcome = coordinator
        .scan(request(vec![broken, working]))
        .await
        .unwrap();

    assert_eq!(outcome.status, ScanStatus::Partial);
    assert_eq!(outcome.scopes.len(), 2);
    let failed = &outcome.scopes[0];
    assert_eq!(failed.connector, "broken");
    assert_eq!(failed.scope, coordinator::ALL_SCOPES);
    assert_eq!(failed.status, ScopeStatus::Failed);
    let error = failed.error.as_deref().unwrap();
    assert!(
        error.contains("organizations:ListAccounts denied"),
        "{error}"
    );
    assert_eq!(outcome.scopes[1].status, ScopeStatus::Covered);
    coordinator.shutdown().await;
}

#[tokio::test]
async fn unknown_connector_kind_is_rejected_before_the_scan() {
    let db = TestDb::new().await;
    let counters = Arc::new(Counters::default());
    let coordinator = start(&db, &counters, 16).await;
    let mut spec = connector("cloud", json!({}));
    spec.kind = "nimbus".to_owned();

    let error = coordinator.scan(request(vec![spec])).await.unwrap_err();

    let message = error.to_string();
    assert!(
        matches!(error, coordinator::ScanError::InvalidConnector { .. }),
        "{message}"
    );
    assert!(message.contains("unknown kind `nimbus`"), "{message}");
    coordinator.shutdown().await;
}

#[tokio::test]
async fn cancel_settles_open_scopes_and_stops_crawls() {
    let db = TestDb::new().await;
    let counters = Arc::new(Counters::default());
    let coordinator = start(&db, &counters, 16).await;
    let scopes =
        json!({"scopes": {"done-1": "ok", "done-2": "ok", "stuck-1": "hang", "stuck-2": "hang"}});
    let handle = coordinator
        .start_scan(request(vec![connector("prod", scopes)]))
        .await
        .unwrap();
    let scan_id = handle.scan_id();
    wait_until(|| counters.started.load(Ordering::SeqCst) == 4).await;
    for _ in 0..1000 {
        let rows = scope_rows(&db, scan_id).await;
        if rows
            .iter()
            .filter(|(_, status, _)| status == "covered")
            .count()
            == 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let cancelled = coordinator
        .cancel_scan_audited(&context(), scan_id, "cli:alice")
        .await
        .unwrap();

    assert!(cancelled);
    let outcome = handle.outcome().await.unwrap();
    assert_eq!(outcome.status, ScanStatus::Cancelled);
    assert_eq!(scope(&outcome, "done-1").status, ScopeStatus::Covered);
    assert_eq!(scope(&outcome, "stuck-1").status, ScopeStatus::Cancelled);
    assert_eq!(scope(&outcome, "stuck-2").status, ScopeStatus::Cancelled);
    wait_until(|| counters.running.load(Ordering::SeqCst) == 0).await;
    let rows = scope_rows(&db, scan_id).await;
    let statuses: Vec<&str> = rows.iter().map(|(_, status, _)| status.as_str()).collect();
    assert_eq!(statuses, ["covered", "covered", "cancelled", "cancelled"]);
    let mut tx = db.store.begin(&context()).await.unwrap();
    let scan = store::scans::get(&mut tx, scan_id).await.unwrap().unwrap();
    assert_eq!(scan.status, "cancelled");
    let admin = db.admin_pool().await;
    let actors: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor_type, actor_id FROM audit_log WHERE action = 'scan.cancel' AND entity_id = $1",
    )
    .bind(scan_id.to_string())
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(actors, [("cli".to_owned(), "alice".to_owned())]);
    let again = coordinator.cancel_scan(&context(), scan_id).await.unwrap();
    assert!(!again, "a finished scan cannot be cancelled again");
    coordinator.shutdown().await;
}

#[tokio::test]
async fn code_file_over_size_limit_makes_scope_partial() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("requirements.txt"), "openai==1.30.0\n").unwrap();
    std::fs::write(tree.path().join("big.py"), "import openai\n".repeat(100)).unwrap();
    let rule_book = Arc::new(rule_book::RuleBook::embedded().unwrap());
    let mut config = CoordinatorConfig::new(db.store.clone(), rule_book, SourceRegistry::new());
    config.code_options.max_file_size = 100;
    let coordinator = Coordinator::spawn(config).await.unwrap();
    let mut scan = request(Vec::new());
    scan.targets = vec![tree.path().to_path_buf()];

    let outcome = coordinator.scan(scan).await.unwrap();

    assert_eq!(outcome.status, ScanStatus::Partial);
    let code = &outcome.scopes[0];
    assert_eq!(code.connector, "code");
    assert_eq!(code.status, ScopeStatus::Partial);
    assert_eq!(code.incomplete.len(), 1, "{:?}", code.incomplete);
    assert!(
        code.incomplete[0].starts_with("big.py: file not scanned"),
        "{:?}",
        code.incomplete
    );
    coordinator.shutdown().await;
}
