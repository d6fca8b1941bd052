//! Requests and outcomes of one scan.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use agents::{ConnectorSpec, CoverageGap};
use serde::Serialize;
use tokio::sync::oneshot;
use uuid::Uuid;

/// A request to scan code roots and connectors for one tenant.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// Tenant slug path, `acme` or `acme/emea` for a subsidiary.
    pub tenant: String,
    /// Folders or local git repositories, crawled by the built-in `code` connector; each
    /// one is a scope with its own crawler.
    pub targets: Vec<PathBuf>,
    /// Connectors to crawl besides the targets, each built by the configured registry.
    pub connectors: Vec<ConnectorSpec>,
    /// Frameworks to evaluate, which are added to the tenant's subscription. When empty,
    /// the tenant's current subscription is used, and a tenant without one is subscribed
    /// to the EU AI Act.
    pub frameworks: Vec<String>,
    /// Actor recorded in the audit trail, e.g. `cli:alice`.
    pub requested_by: String,
    /// Counters the code crawlers update while they walk, read by progress displays.
    pub progress: Arc<agents::ScanProgress>,
}

/// Final state of a scan, stored in `scans.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// Every scope was covered, or skipped because it does not apply, with no gap.
    Completed,
    /// Some scopes were not fully covered, or some systems of a covered scope could not
    /// be classified or stored; [`ScanOutcome::not_covered`] lists the scopes and why.
    Partial,
    /// No scope was covered.
    Failed,
    /// The scan was cancelled before every scope settled.
    Cancelled,
}

impl ScanStatus {
    /// Returns the name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::Completed => "completed",
            ScanStatus::Partial => "partial",
            ScanStatus::Failed => "failed",
            ScanStatus::Cancelled => "cancelled",
        }
    }
}

/// How much of a scope a scan covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeStatus {
    /// The crawler read the whole scope and its systems were written.
    Covered,
    /// The crawl finished but some listings were denied or cut short, or some files were
    /// not read; [`ScopeOutcome::gaps`] and [`ScopeOutcome::incomplete`] say which.
    Partial,
    /// The scope does not apply (a region that is not enabled); [`ScopeOutcome::skipped`]
    /// says why.
    Skipped,
    /// The crawler failed permanently or on every attempt of its restart budget.
    Failed,
    /// The scan was cancelled before the scope settled.
    Cancelled,
}

impl ScopeStatus {
    /// Returns the name stored in `scan_scopes.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeStatus::Covered => "covered",
            ScopeStatus::Partial => "partial",
            ScopeStatus::Skipped => "skipped",
            ScopeStatus::Failed => "failed",
            ScopeStatus::Cancelled => "cancelled",
        }
    }

    /// Returns whether the crawl read the scope, at least in part.
    pub fn was_crawled(self) -> bool {
        matches!(self, ScopeStatus::Covered | ScopeStatus::Partial)
    }

    /// Returns whether the crawl read all of the scope, so a finding it did not see has vanished.
    /// A partial scope may have missed findings behind a denied or cut-short listing, so
    /// it resolves nothing.
    pub fn resolves_vanished(self) -> bool {
        self == ScopeStatus::Covered
    }
}

/// Scope id recorded when listing a connector's scopes failed.
pub const ALL_SCOPES: &str = "*";

/// Result for one scope of a scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeOutcome {
    /// Name of the connector that listed the scope; `code` for the request's targets.
    pub connector: String,
    /// Provider family of the scope (`code`, `aws`, `github`, ...).
    pub provider: String,
    /// Scope id: the canonical path of a code root, or the connector's scope id;
    /// [`ALL_SCOPES`] when listing the connector's scopes failed.
    pub scope: String,
    /// How much of the scope was covered.
    pub status: ScopeStatus,
    /// Crawler attempts, including the one that succeeded.
    pub attempts: u32,
    /// Last error of a failed scope, or why it was cancelled.
    pub error: Option<String>,
    /// Reason a skipped scope does not apply.
    pub skipped: Option<String>,
    /// Number of findings the crawler produced.
    pub num_findings: u64,
    /// Systems of this scope that could not be classified or stored; any makes the scan
    /// `partial`.
    pub num_failed_systems: u64,
    /// Listings denied for lack of a permission.
    pub gaps: Vec<CoverageGap>,
    /// Listings cut short and files not read, each with the reason.
    pub incomplete: Vec<String>,
    /// Non-fatal problems: malformed resources, invalid declarations, classifier errors.
    pub issues: Vec<String>,
}

impl ScopeOutcome {
    /// Creates the outcome of a scope that did not settle by crawling: failed or cancelled.
    pub(crate) fn unsettled(
        connector: &str,
        provider: &str,
        scope: &str,
        status: ScopeStatus,
        attempts: u32,
        error: String,
    ) -> Self {
        ScopeOutcome {
            connector: connector.to_owned(),
            provider: provider.to_owned(),
            scope: scope.to_owned(),
            status,
            attempts,
            error: Some(error),
            skipped: None,
            num_findings: 0,
            num_failed_systems: 0,
            gaps: Vec::new(),
            incomplete: Vec::new(),
            issues: Vec::new(),
        }
    }

    /// Returns whether the scope counts as fully covered for the scan status.
    pub fn is_complete(&self) -> bool {
        matches!(self.status, ScopeStatus::Covered | ScopeStatus::Skipped)
            && self.gaps.is_empty()
            && self.incomplete.is_empty()
            && self.num_failed_systems == 0
    }

    /// Returns why the scope is not fully covered, `None` when it is.
    pub fn shortfall(&self) -> Option<String> {
        if self.is_complete() {
            return None;
        }
        let mut reasons: Vec<String> = self.error.iter().cloned().collect();
        reasons.extend(self.gaps.iter().map(|gap| {
            format!(
                "{} denied (grant {}): {}",
                gap.service, gap.permission, gap.message
            )
        }));
        reasons.extend(self.incomplete.iter().cloned());
        if self.num_failed_systems > 0 {
            reasons.push(format!(
                "{} systems could not be classified or stored",
                self.num_failed_systems
            ));
        }
        Some(reasons.join("; "))
    }

    /// Converts the outcome to its `scan_scopes` row.
    pub(crate) fn to_record(&self) -> store::scans::ScopeRecord {
        store::scans::ScopeRecord {
            connector: self.connector.clone(),
            scope: self.scope.clone(),
            provider: self.provider.clone(),
            status: self.status.as_str().to_owned(),
            attempts: i32::try_from(self.attempts).unwrap_or(i32::MAX),
            num_findings: i64::try_from(self.num_findings).unwrap_or(i64::MAX),
            error: self.error.clone(),
            skip_reason: self.skipped.clone(),
            gaps: serde_json::to_value(&self.gaps).unwrap_or_default(),
            incomplete: serde_json::json!(self.incomplete),
            issues: serde_json::json!(self.issues),
        }
    }
}

/// Result of a finished scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScanOutcome {
    /// Id of the `scans` row.
    pub scan_id: Uuid,
    /// Tenant path the scan ran under.
    pub tenant_path: String,
    /// Final status.
    pub status: ScanStatus,
    /// One entry per scope: the code targets first in request order, then each
    /// connector's scopes in listing order.
    pub scopes: Vec<ScopeOutcome>,
    /// AI systems written by this scan.
    pub system_ids: Vec<Uuid>,
    /// Frameworks evaluated.
    pub frameworks: Vec<String>,
}

impl ScanOutcome {
    /// Returns the scopes that were not fully covered.
    pub fn not_covered(&self) -> impl Iterator<Item = &ScopeOutcome> {
        self.scopes.iter().filter(|scope| !scope.is_complete())
    }
}

/// A scan that has been recorded and is running.
#[derive(Debug)]
pub struct ScanHandle {
    scan_id: Uuid,
    finished_rx: oneshot::Receiver<Result<ScanOutcome, ScanError>>,
}

impl ScanHandle {
    /// Returns the id of the `scans` row, which exists from the moment the handle does.
    pub fn scan_id(&self) -> Uuid {
        self.scan_id
    }

    /// Waits until the scan has finished and returns its outcome.
    pub async fn outcome(self) -> Result<ScanOutcome, ScanError> {
        self.finished_rx.await.map_err(|_| {
            ScanError::Aborted(format!("scan {} lost its tenant actor", self.scan_id))
        })?
    }
}

/// Reply ports of a scan request: one for the recorded scan id, one for the outcome.
pub(crate) struct ScanReplies {
    /// Receives the scan id, or the error that kept the scan from starting.
    pub(crate) started_tx: oneshot::Sender<Result<Uuid, ScanError>>,
    /// Receives the outcome.
    pub(crate) finished_tx: oneshot::Sender<Result<ScanOutcome, ScanError>>,
}

impl ScanReplies {
    /// Creates the ports and the caller's ends: the start receiver and a handle builder.
    pub(crate) fn new() -> (
        ScanReplies,
        oneshot::Receiver<Result<Uuid, ScanError>>,
        oneshot::Receiver<Result<ScanOutcome, ScanError>>,
    ) {
        let (started_tx, started_rx) = oneshot::channel();
        let (finished_tx, finished_rx) = oneshot::channel();
        (
            ScanReplies {
                started_tx,
                finished_tx,
            },
            started_rx,
            finished_rx,
        )
    }

    /// Builds the caller's handle once the scan id is known.
    pub(crate) fn handle(
        scan_id: Uuid,
        finished_rx: oneshot::Receiver<Result<ScanOutcome, ScanError>>,
    ) -> ScanHandle {
        ScanHandle {
            scan_id,
            finished_rx,
        }
    }

    /// Reports an error that kept the scan from starting.
    pub(crate) fn reject(self, error: ScanError) {
        let _ = self.started_tx.send(Err(error));
    }
}

/// Error that prevents a scan from starting or finishing.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The tenant slug cannot be used.
    #[error("invalid tenant `{tenant}`: {reason}")]
    InvalidTenant {
        /// Slug path as given.
        tenant: String,
        /// Reason for the rejection, with the fix.
        reason: String,
    },
    /// A requested framework is not in the rule book.
    #[error("unknown framework `{slug}`: known frameworks are {known}")]
    UnknownFramework {
        /// Slug as given.
        slug: String,
        /// Comma-separated list of known slugs.
        known: String,
    },
    /// The request names no target and no connector.
    #[error("no scan target given: pass at least one folder or repository path, or a connector")]
    NoTargets,
    /// Two connectors of the request share a name, so their scopes could not be distinguished.
    #[error("connector name `{name}` is used twice: give each connector of a scan its own name")]
    DuplicateConnector {
        /// The repeated name.
        name: String,
    },
    /// A connector's spec cannot be built into a source.
    #[error("connector `{name}` is invalid: {message}")]
    InvalidConnector {
        /// Connector name.
        name: String,
        /// What is wrong and how to fix it, from the connector's factory.
        message: String,
    },
    /// One target is the same as, or inside, another, so its files would be scanned twice.
    #[error(
        "scan target `{inner}` is inside `{outer}`: pass only `{outer}`, or scan them separately"
    )]
    OverlappingTargets {
        /// The enclosing target.
        outer: String,
        /// The target inside it, or its duplicate.
        inner: String,
    },
    /// The database rejected a read or write.
    #[error("database error: {0}")]
    Store(#[from] store::Error),
    /// The actor tree stopped before the scan finished.
    #[error("scan aborted: {0}")]
    Aborted(String),
}

/// Returns the real path of `requested`, read relative to the canonical `root`, when it is
/// a folder inside `root` with symbolic links followed; `None` for a missing path, a file,
/// or a path that leaves `root`. Callers answer every `None` with one message, so that
/// callers of the API cannot learn which server paths exist outside the root.
pub fn folder_in_root(root: &Path, requested: &Path) -> Option<PathBuf> {
    let path = std::fs::canonicalize(root.join(requested)).ok()?;
    (path.starts_with(root) && path.is_dir()).then_some(path)
}
