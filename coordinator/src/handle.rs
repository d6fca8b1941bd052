//! The handle the binary and the gateway use to start the actor tree and run scans.

use std::sync::Arc;
use std::time::Duration;

use agents::{CodeScanOptions, SourceRegistry};
use proto::{Declaration, Finding};
use ractor::{Actor, ActorRef};
use rule_book::RuleBook;
use store::{Store, TenantContext};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::actors::coordinator::{CancelScan, CoordinatorActor, CoordinatorMsg};
use crate::classify::Classification;
use crate::scan::{ScanError, ScanHandle, ScanOutcome, ScanReplies, ScanRequest};

/// Classification function run by the classifier pool. Tests replace it to inject failures.
pub type ClassifyFn =
    Arc<dyn Fn(&str, &[Finding], Option<&Declaration>) -> Classification + Send + Sync>;

/// Restart policy of a connector for its failing crawlers.
#[derive(Debug, Clone, Copy)]
pub struct RestartPolicy {
    /// Attempts per scope, the first one included, before the scope is marked failed.
    pub max_attempts: u32,
    /// Delay before the second attempt; doubled for each later one.
    pub initial_backoff: Duration,
    /// Upper bound of the delay.
    pub max_backoff: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RestartPolicy {
    /// Returns the delay before attempt `next_attempt` (2 for the first retry), with up to
    /// 25 % jitter so that crawlers failing together do not retry together.
    pub fn backoff(&self, next_attempt: u32) -> Duration {
        let doublings = next_attempt.saturating_sub(2).min(16);
        let base = self
            .initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff);
        let jitter_ms = (base.as_millis() as u64 / 4).max(1);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos() as u64)
            .unwrap_or(0);
        base + Duration::from_millis(nanos % jitter_ms)
    }
}

/// Default size of the classifier pool. Workers spend most of their time waiting for the
/// writer's commit, so the pool is sized by how many systems a batch should carry, not by
/// the number of cores. With one worker per core, batches contained one or two systems,
/// and a 317-system scan took 8.5 s instead of 3.4 s (`load-tests/scan-bench.sh`).
pub const DEFAULT_NUM_CLASSIFIERS: usize = 64;

/// Default maximum systems per writer transaction; equal to the pool size, so a batch
/// fills as soon as every worker waits.
pub const DEFAULT_WRITER_BATCH_SIZE: usize = DEFAULT_NUM_CLASSIFIERS;

/// Default maximum of writer transactions committing at once. Batches of different systems
/// touch different rows, so they commit side by side. With one at a time, the database
/// worked on one core while the other waited (`load-tests/ingest-bench.sh`).
pub const DEFAULT_WRITER_MAX_IN_FLIGHT: usize = 4;

/// Default maximum of crawlers one connector runs at once. A connector with more scopes
/// queues the rest, so an organisation of 1,000 accounts does not start 1,000 crawls.
pub const DEFAULT_MAX_CRAWLERS_PER_CONNECTOR: usize = 16;

/// Everything the actor tree needs.
#[derive(Clone)]
pub struct CoordinatorConfig {
    /// Application login to Postgres.
    pub store: Store,
    /// Loaded and validated rule book.
    pub rule_book: Arc<RuleBook>,
    /// Factories of the connector kinds a scan may name. The request's code targets use
    /// the factory of kind `code` when one is registered (tests register one to inject
    /// faults), and the built-in [`crate::CodeSource`] otherwise.
    pub sources: SourceRegistry,
    /// Walk options of the built-in code source.
    pub code_options: CodeScanOptions,
    /// Maximum crawlers one connector runs at once; at least 1.
    pub max_crawlers_per_connector: usize,
    /// Classification run by the classifier workers for each system.
    pub classify: ClassifyFn,
    /// Crawler restart policy.
    pub restart: RestartPolicy,
    /// Number of classifier workers.
    pub num_classifiers: usize,
    /// Maximum systems the writer commits in one transaction.
    pub writer_batch_size: usize,
    /// How long the writer waits to fill a batch.
    pub writer_batch_delay: Duration,
    /// Maximum writer transactions committing at once; at least 1.
    pub writer_max_in_flight: usize,
}

impl CoordinatorConfig {
    /// Creates a configuration with the default classifier, code walk options, restart
    /// policy and pool sizes.
    pub fn new(store: Store, rule_book: Arc<RuleBook>, sources: SourceRegistry) -> Self {
        CoordinatorConfig {
            store,
            rule_book,
            sources,
            code_options: CodeScanOptions::default(),
            max_crawlers_per_connector: DEFAULT_MAX_CRAWLERS_PER_CONNECTOR,
            classify: Arc::new(crate::classify::classify),
            restart: RestartPolicy::default(),
            num_classifiers: DEFAULT_NUM_CLASSIFIERS,
            writer_batch_size: DEFAULT_WRITER_BATCH_SIZE,
            writer_batch_delay: Duration::from_millis(2),
            writer_max_in_flight: DEFAULT_WRITER_MAX_IN_FLIGHT,
        }
    }
}

/// Handle to a running actor tree.
pub struct Coordinator {
    root: ActorRef<CoordinatorMsg>,
    join: JoinHandle<()>,
    sources: SourceRegistry,
    ingest_locks: crate::actors::ingest::SystemLocks,
}

impl Coordinator {
    /// Starts the root actor, the classifier pool and the writer.
    pub async fn spawn(config: CoordinatorConfig) -> Result<Coordinator, ScanError> {
        crate::metrics::describe();
        let sources = config.sources.clone();
        let name = format!("coordinator:{}", crate::actors::next_actor_number());
        let (root, join) = Actor::spawn(Some(name), CoordinatorActor, config)
            .await
            .map_err(|error| ScanError::Aborted(format!("coordinator failed to start: {error}")))?;
        Ok(Coordinator {
            root,
            join,
            sources,
            ingest_locks: crate::actors::ingest::SystemLocks::default(),
        })
    }

    /// Returns the connector factories scans build their sources with, so callers can
    /// check a connector's settings the same way before storing it.
    pub fn sources(&self) -> &SourceRegistry {
        &self.sources
    }

    /// Records a scan and starts it; returns once the `scans` row exists, with a handle that
    /// yields the outcome.
    pub async fn start_scan(&self, request: ScanRequest) -> Result<ScanHandle, ScanError> {
        let (replies, started_rx, finished_rx) = ScanReplies::new();
        self.root
            .cast(CoordinatorMsg::StartScan(request, replies))
            .map_err(|error| ScanError::Aborted(format!("coordinator unavailable: {error}")))?;
        let scan_id = started_rx.await.map_err(|_| {
            ScanError::Aborted("coordinator stopped before the scan started".to_owned())
        })??;
        Ok(ScanReplies::handle(scan_id, finished_rx))
    }

    /// Runs one scan to completion and returns its outcome.
    pub async fn scan(&self, request: ScanRequest) -> Result<ScanOutcome, ScanError> {
        self.start_scan(request).await?.outcome().await
    }

    /// Cancels a running scan of the tenant: stops its connectors and crawlers, marks the
    /// scopes that have not settled `cancelled` and closes the scan `cancelled`. Returns
    /// once the scan row is closed: `true` when this call cancelled the scan, `false` when
    /// no scan with that id runs for the tenant in this process (unknown, finished, or run
    /// by another process). The caller writes the audit row of the request.
    pub async fn cancel_scan(
        &self,
        tenant: &TenantContext,
        scan_id: Uuid,
    ) -> Result<bool, ScanError> {
        self.request_cancel(tenant, scan_id, None).await
    }

    /// Cancels a running scan like [`Coordinator::cancel_scan`], and writes a
    /// `scan.cancel` audit row for `actor` (e.g. `cli:alice`) in the transaction that
    /// closes the scan. For callers without a transaction of their own, such as the CLI.
    pub async fn cancel_scan_audited(
        &self,
        tenant: &TenantContext,
        scan_id: Uuid,
        actor: &str,
    ) -> Result<bool, ScanError> {
        self.request_cancel(tenant, scan_id, Some(actor.to_owned()))
            .await
    }

    async fn request_cancel(
        &self,
        tenant: &TenantContext,
        scan_id: Uuid,
        actor: Option<String>,
    ) -> Result<bool, ScanError> {
        let (reply_tx, reply_rx) = tokio::sync::oneshot::channel();
        let cancel = CancelScan {
            tenant_path: tenant.path().as_str().to_owned(),
            scan_id,
            actor,
            reply_tx,
        };
        self.root
            .cast(CoordinatorMsg::CancelScan(cancel))
            .map_err(|error| ScanError::Aborted(format!("coordinator unavailable: {error}")))?;
        reply_rx.await.map_err(|_| {
            ScanError::Aborted(format!(
                "scan {scan_id} lost its tenant actor while cancelling"
            ))
        })
    }

    /// Classifies and stores findings sent in over the ingest API for `tenant`, under the
    /// ingest scan `scan_id`, through the classifier pool and writer that crawls use.
    /// Returns one result per finding, in input order, once every system is committed.
    pub async fn ingest(
        &self,
        store: &Store,
        tenant: &store::TenantContext,
        scan_id: uuid::Uuid,
        findings: Vec<Finding>,
    ) -> Result<Vec<crate::IngestResult>, ScanError> {
        crate::actors::ingest::ingest(
            &self.root,
            &self.ingest_locks,
            store,
            tenant,
            scan_id,
            findings,
        )
        .await
    }

    /// Stops the tree and waits until every actor has exited.
    pub async fn shutdown(self) {
        self.root.stop(Some("shutdown".to_owned()));
        let _ = self.join.await;
    }
}
