//! End-to-end scans through the actor tree into a real Postgres.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use agents::{
    BoxFuture, CodeScanOptions, ConnectorSpec, CrawlError, CrawlReport, FindingSink, ScanProgress,
    Scope, Source, SourceFactory, SourceRegistry,
};
use coordinator::{
    CodeSourceFactory, Coordinator, CoordinatorConfig, RestartPolicy, ScanOutcome, ScanRequest,
    ScanStatus, ScopeStatus,
};
use store::testing::TestDb;
use store::{TenantContext, TenantPath};

/// Writes a small Python project that calls OpenAI and declares an employment use.
fn write_project(root: &Path) {
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("requirements.txt"),
        "openai==1.30.0\nscikit-learn==1.4.2\n",
    )
    .unwrap();
    std::fs::write(
        root.join("secruna.yaml"),
        "name: CV ranker\npurpose: ranks job applicants for recruiters\nrole: provider\nannex_iii: employment\n",
    )
    .unwrap();
    std::fs::write(
        root.join("src/rank.py"),
        "from openai import OpenAI\n\nclient = OpenAI()\nMODEL = \"gpt-4o-mini\"\n",
    )
    .unwrap();
}

fn fast_restarts() -> RestartPolicy {
    RestartPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
    }
}

async fn start(db: &TestDb, sources: SourceRegistry) -> Coordinator {
    let rule_book = Arc::new(rule_book::RuleBook::embedded().unwrap());
    let mut config = CoordinatorConfig::new(db.store.clone(), rule_book, sources);
    config.restart = fast_restarts();
    Coordinator::spawn(config).await.unwrap()
}

/// A registry without a `code` factory, so targets use the built-in code source.
fn code_crawler() -> SourceRegistry {
    SourceRegistry::new()
}

fn request(tenant: &str, targets: Vec<PathBuf>) -> ScanRequest {
    ScanRequest {
        tenant: tenant.to_owned(),
        targets,
        connectors: Vec::new(),
        frameworks: Vec::new(),
        requested_by: "test:runner".to_owned(),
        progress: Arc::new(ScanProgress::default()),
    }
}

fn context(tenant: &str) -> TenantContext {
    TenantContext::new(TenantPath::from_slug_path(tenant).unwrap())
}

/// Returns `(table, id, xmin)` for every row the scan wrote, read as the superuser.
async fn row_versions(db: &TestDb) -> Vec<(String, String, String)> {
    let admin = sqlx::PgPool::connect(&db.admin_url).await.unwrap();
    let mut versions = Vec::new();
    let queries = [
        (
            "ai_systems",
            "SELECT id::text, xmin::text FROM ai_systems ORDER BY id",
        ),
        (
            "findings",
            "SELECT id::text, xmin::text FROM findings ORDER BY id",
        ),
        (
            "evaluations",
            "SELECT id::text, xmin::text FROM evaluations ORDER BY id",
        ),
    ];
    for (table, query) in queries {
        let rows: Vec<(String, String)> = sqlx::query_as(query).fetch_all(&admin).await.unwrap();
        versions.extend(
            rows.into_iter()
                .map(|(id, xmin)| (table.to_owned(), id, xmin)),
        );
    }
    admin.close().await;
    versions
}

#[tokio::test]
async fn scan_stores_classified_system_with_verdicts() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    write_project(tree.path());
    let coordinator = start(&db, code_crawler()).await;

    let outcome = coordinator
        .scan(request("acme", vec![tree.path().to_path_buf()]))
        .await
        .unwrap();

    assert_eq!(outcome.status, ScanStatus::Completed);
    assert_eq!(outcome.system_ids.len(), 1);
    assert_eq!(outcome.frameworks, vec!["eu-ai-act".to_owned()]);
    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let systems = store::systems::list(&mut tx).await.unwrap();
    assert_eq!(systems.len(), 1);
    assert_eq!(systems[0].name, "CV ranker");
    assert_eq!(systems[0].risk_class, "high");
    assert_eq!(systems[0].annex_iii_area.as_deref(), Some("employment"));
    assert!(systems[0].gpai);
    let findings = store::findings::list_open_for_system(&mut tx, systems[0].id)
        .await
        .unwrap();
    let subjects: Vec<&str> = findings
        .iter()
        .map(|finding| finding.subject.as_str())
        .collect();
    assert!(subjects.contains(&"openai"), "subjects: {subjects:?}");
    assert!(subjects.contains(&"gpt-4o-mini"), "subjects: {subjects:?}");
    let evaluations = store::evaluations::list_for_system(&mut tx, systems[0].id)
        .await
        .unwrap();
    assert_eq!(evaluations.len(), 19);
    tx.commit().await.unwrap();
    coordinator.shutdown().await;
}

#[tokio::test]
async fn rescan_of_unchanged_tree_rewrites_nothing() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    write_project(tree.path());
    let coordinator = start(&db, code_crawler()).await;

    coordinator
        .scan(request("acme", vec![tree.path().to_path_buf()]))
        .await
        .unwrap();
    let before = row_versions(&db).await;
    let second = coordinator
        .scan(request("acme", vec![tree.path().to_path_buf()]))
        .await
        .unwrap();
    let after = row_versions(&db).await;

    assert_eq!(second.status, ScanStatus::Completed);
    assert!(!before.is_empty());
    assert_eq!(before, after);
    coordinator.shutdown().await;
}

#[tokio::test]
async fn vanished_finding_is_resolved_not_deleted() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    write_project(tree.path());
    let coordinator = start(&db, code_crawler()).await;
    coordinator
        .scan(request("acme", vec![tree.path().to_path_buf()]))
        .await
        .unwrap();

    std::fs::write(
        tree.path().join("src/rank.py"),
        "from openai import OpenAI\n",
    )
    .unwrap();
    coordinator
        .scan(request("acme", vec![tree.path().to_path_buf()]))
        .await
        .unwrap();

    let admin = sqlx::PgPool::connect(&db.admin_url).await.unwrap();
    let status: Vec<(String, String)> =
        sqlx::query_as("SELECT subject, status FROM findings WHERE subject = 'gpt-4o-mini'")
            .fetch_all(&admin)
            .await
            .unwrap();
    assert_eq!(
        status,
        vec![("gpt-4o-mini".to_owned(), "resolved".to_owned())]
    );
    coordinator.shutdown().await;
}

/// Panics on every scope whose path contains `broken`, and on the first attempt of scopes
/// containing `flaky`; delegates the rest to the code connector.
struct FaultySource {
    inner: Arc<dyn Source>,
    flaky_attempts: Arc<AtomicU32>,
}

impl Source for FaultySource {
    fn provider(&self) -> &str {
        self.inner.provider()
    }

    fn scopes(&self) -> BoxFuture<'_, Result<Vec<Scope>, CrawlError>> {
        self.inner.scopes()
    }

    fn crawl<'a>(
        &'a self,
        scope: &'a Scope,
        sink: FindingSink,
    ) -> BoxFuture<'a, Result<CrawlReport, CrawlError>> {
        if scope.id.contains("broken") {
            panic!("simulated crawler crash");
        }
        if scope.id.contains("flaky") && self.flaky_attempts.fetch_add(1, Ordering::SeqCst) == 0 {
            return Box::pin(async { Err(CrawlError::transient("simulated transient error")) });
        }
        self.inner.crawl(scope, sink)
    }
}

/// Builds [`FaultySource`]s around the code connector.
struct FaultyFactory {
    flaky_attempts: Arc<AtomicU32>,
}

impl SourceFactory for FaultyFactory {
    fn build(&self, spec: &ConnectorSpec) -> Result<Arc<dyn Source>, CrawlError> {
        let inner = CodeSourceFactory {
            options: CodeScanOptions::default(),
        }
        .build(spec)?;
        Ok(Arc::new(FaultySource {
            inner,
            flaky_attempts: self.flaky_attempts.clone(),
        }))
    }
}

fn faulty_crawler() -> SourceRegistry {
    let mut sources = SourceRegistry::new();
    let factory = FaultyFactory {
        flaky_attempts: Arc::new(AtomicU32::new(0)),
    };
    sources.register("code", Arc::new(factory));
    sources
}

fn scope_of<'a>(outcome: &'a ScanOutcome, fragment: &str) -> &'a coordinator::ScopeOutcome {
    outcome
        .scopes
        .iter()
        .find(|scope| scope.scope.contains(fragment))
        .unwrap()
}

#[tokio::test]
async fn failing_scope_spends_budget_and_scan_is_partial() {
    let db = TestDb::new().await;
    let base = tempfile::tempdir().unwrap();
    let good = base.path().join("good");
    let broken = base.path().join("broken");
    write_project(&good);
    write_project(&broken);
    let coordinator = start(&db, faulty_crawler()).await;

    let outcome = coordinator
        .scan(request("acme", vec![good, broken]))
        .await
        .unwrap();

    assert_eq!(outcome.status, ScanStatus::Partial);
    let failed = scope_of(&outcome, "broken");
    assert_eq!(failed.status, ScopeStatus::Failed);
    assert_eq!(failed.attempts, 3);
    assert!(
        failed
            .error
            .as_deref()
            .unwrap()
            .contains("simulated crawler crash")
    );
    let covered = scope_of(&outcome, "good");
    assert_eq!(covered.status, ScopeStatus::Covered);
    assert_eq!(outcome.system_ids.len(), 1);
    coordinator.shutdown().await;
}

#[tokio::test]
async fn transient_crawl_error_is_retried() {
    let db = TestDb::new().await;
    let base = tempfile::tempdir().unwrap();
    let flaky = base.path().join("flaky");
    write_project(&flaky);
    let coordinator = start(&db, faulty_crawler()).await;

    let outcome = coordinator
        .scan(request("acme", vec![flaky]))
        .await
        .unwrap();

    assert_eq!(outcome.status, ScanStatus::Completed);
    assert_eq!(outcome.scopes[0].attempts, 2);
    assert_eq!(outcome.system_ids.len(), 1);
    coordinator.shutdown().await;
}

#[tokio::test]
async fn missing_target_fails_the_scan() {
    let db = TestDb::new().await;
    let coordinator = start(&db, code_crawler()).await;

    let outcome = coordinator
        .scan(request(
            "acme",
            vec![PathBuf::from("/nonexistent/secruna-test-tree")],
        ))
        .await
        .unwrap();

    assert_eq!(outcome.status, ScanStatus::Failed);
    assert_eq!(outcome.scopes[0].status, ScopeStatus::Failed);
    // A missing folder cannot appear on a retry, so the budget is not spent on it.
    assert_eq!(outcome.scopes[0].attempts, 1);
    coordinator.shutdown().await;
}

#[tokio::test]
async fn classifier_panic_skips_only_that_system() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    write_project(&tree.path().join("healthy"));
    write_project(&tree.path().join("poison"));
    let rule_book = Arc::new(rule_book::RuleBook::embedded().unwrap());
    let mut config = CoordinatorConfig::new(db.store.clone(), rule_book, code_crawler());
    config.classify = Arc::new(|root, findings, declaration| {
        if root.ends_with("poison") {
            panic!("simulated classifier bug");
        }
        coordinator::classify::classify(root, findings, declaration)
    });
    let coordinator = Coordinator::spawn(config).await.unwrap();

    let outcome = coordinator
        .scan(request("acme", vec![tree.path().to_path_buf()]))
        .await
        .unwrap();

    // The poison system is missing, so the scan cannot claim to be complete.
    assert_eq!(outcome.status, ScanStatus::Partial);
    assert_eq!(outcome.scopes[0].num_failed_systems, 1);
    assert_eq!(outcome.system_ids.len(), 1);
    let issues = &outcome.scopes[0].issues;
    assert!(
        issues
            .iter()
            .any(|issue| issue.contains("simulated classifier bug")),
        "issues: {issues:?}"
    );
    coordinator.shutdown().await;
}

#[tokio::test]
async fn tenants_see_only_their_own_systems() {
    let db = TestDb::new().await;
    let tree_a = tempfile::tempdir().unwrap();
    let tree_b = tempfile::tempdir().unwrap();
    write_project(tree_a.path());
    write_project(tree_b.path());
    let coordinator = start(&db, code_crawler()).await;

    let (a, b) = tokio::join!(
        coordinator.scan(request("tenant-a", vec![tree_a.path().to_path_buf()])),
        coordinator.scan(request("tenant-b", vec![tree_b.path().to_path_buf()])),
    );
    let (a, b) = (a.unwrap(), b.unwrap());

    for (tenant, outcome) in [("tenant-a", &a), ("tenant-b", &b)] {
        let mut tx = db.store.begin(&context(tenant)).await.unwrap();
        let ids: Vec<_> = store::systems::list(&mut tx)
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.id)
            .collect();
        assert_eq!(ids, outcome.system_ids, "tenant {tenant}");
        tx.commit().await.unwrap();
    }
    coordinator.shutdown().await;
}

#[tokio::test]
async fn start_scan_returns_recorded_id_before_outcome() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    write_project(tree.path());
    let coordinator = start(&db, code_crawler()).await;

    let handle = coordinator
        .start_scan(request("acme", vec![tree.path().to_path_buf()]))
        .await
        .unwrap();
    let scan_id = handle.scan_id();
    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let recorded = store::scans::get(&mut tx, scan_id).await.unwrap();
    tx.commit().await.unwrap();
    let outcome = handle.outcome().await.unwrap();

    assert!(recorded.is_some());
    assert_eq!(outcome.scan_id, scan_id);
    assert_eq!(outcome.status, ScanStatus::Completed);
    coordinator.shutdown().await;
}

#[tokio::test]
async fn start_scan_rejects_unknown_framework() {
    let db = TestDb::new().await;
    let coordinator = start(&db, code_crawler()).await;
    let mut unknown = request("acme", vec![PathBuf::from("/tmp")]);
    unknown.frameworks = vec!["not-a-framework".to_owned()];

    let error = coordinator.start_scan(unknown).await.unwrap_err();

    assert!(
        error.to_string().contains("not-a-framework"),
        "error: {error}"
    );
    coordinator.shutdown().await;
}

#[tokio::test]
async fn nul_characters_do_not_drop_a_system() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    write_project(tree.path());
    std::fs::write(
        tree.path().join("src/nul.py"),
        b"import openai  # \x00\x01\n",
    )
    .unwrap();
    let coordinator = start(&db, code_crawler()).await;

    let outcome = coordinator
        .scan(request("acme", vec![tree.path().to_path_buf()]))
        .await
        .unwrap();

    assert_eq!(
        outcome.status,
        ScanStatus::Completed,
        "{:?}",
        outcome.scopes
    );
    assert_eq!(outcome.system_ids.len(), 1);
    coordinator.shutdown().await;
}

#[tokio::test]
async fn overlapping_targets_are_rejected() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    write_project(&tree.path().join("outer/inner"));
    let outer = tree.path().join("outer");
    let inner = tree.path().join("outer/inner");
    let coordinator = start(&db, code_crawler()).await;

    let nested = coordinator
        .start_scan(request("acme", vec![outer.clone(), inner]))
        .await
        .unwrap_err();
    let repeated = coordinator
        .start_scan(request("acme", vec![outer.clone(), outer]))
        .await
        .unwrap_err();

    assert!(nested.to_string().contains("is inside"), "error: {nested}");
    assert!(
        repeated.to_string().contains("is inside"),
        "error: {repeated}"
    );
    coordinator.shutdown().await;
}

#[tokio::test]
async fn rescan_keeps_facts_declared_through_the_api() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("requirements.txt"), "openai==1.30.0\n").unwrap();
    let coordinator = start(&db, code_crawler()).await;
    let first = coordinator
        .scan(request("acme", vec![tree.path().to_path_buf()]))
        .await
        .unwrap();

    // What PATCH /api/v1/systems/{id} stores.
    let admin = sqlx::PgPool::connect(&db.admin_url).await.unwrap();
    sqlx::query("UPDATE ai_systems SET declared = '{\"annex_iii\": \"employment\", \"role\": \"provider\"}' WHERE id = $1")
        .bind(first.system_ids[0])
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let second = coordinator
        .scan(request("acme", vec![tree.path().to_path_buf()]))
        .await
        .unwrap();

    assert_eq!(second.system_ids, first.system_ids);
    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let systems = store::systems::list(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(systems[0].risk_class, "high");
    assert_eq!(systems[0].annex_iii_area.as_deref(), Some("employment"));
    coordinator.shutdown().await;
}

/// Returns the event types in the tenant's webhook outbox, sorted, read as the superuser.
async fn outbox_events(db: &TestDb) -> Vec<String> {
    let admin = sqlx::PgPool::connect(&db.admin_url).await.unwrap();
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT event_type FROM webhook_outbox ORDER BY event_type")
            .fetch_all(&admin)
            .await
            .unwrap();
    admin.close().await;
    rows.into_iter().map(|(event_type,)| event_type).collect()
}

#[tokio::test]
async fn writer_raises_webhook_events_with_its_changes() {
    let db = TestDb::new().await;
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("requirements.txt"), "openai==1.30.0\n").unwrap();
    let coordinator = start(&db, code_crawler()).await;
    coordinator
        .scan(request("acme", vec![tree.path().to_path_buf()]))
        .await
        .unwrap();
    let admin = sqlx::PgPool::connect(&db.admin_url).await.unwrap();
    sqlx::query(
        "INSERT INTO webhook_endpoints (tenant_path, url, format, events, secret_nonce, secret_ciphertext, created_by) \
         VALUES ('acme', 'http://127.0.0.1:9/hook', 'json', \
         ARRAY['scan.completed', 'system.discovered', 'system.risk_changed', 'verdict.changed'], \
         '\\x000000000000000000000000', '\\x00', 'test')",
    )
    .execute(&admin)
    .await
    .unwrap();
    admin.close().await;

    // A second project is discovered; the first one's declaration changes its risk class.
    std::fs::create_dir_all(tree.path().join("second")).unwrap();
    std::fs::write(
        tree.path().join("second/package.json"),
        r#"{"dependencies": {"@anthropic-ai/sdk": "^0.27.0"}}"#,
    )
    .unwrap();
    std::fs::write(
        tree.path().join("secruna.yaml"),
        "role: provider\nannex_iii: employment\n",
    )
    .unwrap();
    coordinator
        .scan(request("acme", vec![tree.path().to_path_buf()]))
        .await
        .unwrap();

    let events = outbox_events(&db).await;
    assert!(
        events.contains(&"scan.completed".to_owned()),
        "events: {events:?}"
    );
    assert!(
        events.contains(&"system.discovered".to_owned()),
        "events: {events:?}"
    );
    assert!(
        events.contains(&"system.risk_changed".to_owned()),
        "events: {events:?}"
    );
    assert!(
        events.contains(&"verdict.changed".to_owned()),
        "events: {events:?}"
    );
    coordinator.shutdown().await;
}
