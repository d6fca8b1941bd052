//! Requests and outcomes of one scan.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::oneshot;
use uuid::Uuid;

/// A request to scan code roots for one tenant.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// Tenant slug path, `acme` or `acme/emea` for a subsidiary.
    pub tenant: String,
    /// Folders or local git repositories; each one is a scope with its own crawler.
    pub targets: Vec<PathBuf>,
    /// Frameworks to evaluate, which are added to the tenant's subscription. When empty,
    /// the tenant's current subscription is used, and a tenant without one is subscribed
    /// to the EU AI Act.
    pub frameworks: Vec<String>,
    /// Actor recorded in the audit trail, e.g. `cli:alice`.
    pub requested_by: String,
    /// Counters the crawlers update while they walk, read by progress displays.
    pub progress: Arc<agents::ScanProgress>,
}

/// Final state of a scan, stored in `scans.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// Every scope was covered.
    Completed,
    /// Some scopes failed, or some systems of a covered scope could not be classified or
    /// stored; see [`ScanOutcome::scopes`].
    Partial,
    /// No scope was covered.
    Failed,
}

impl ScanStatus {
    /// Returns the name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::Completed => "completed",
            ScanStatus::Partial => "partial",
            ScanStatus::Failed => "failed",
        }
    }
}

/// Whether a scope was covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeStatus {
    /// The crawler walked the whole scope and its systems were written.
    Covered,
    /// The crawler failed on every attempt of its restart budget.
    Failed,
}

/// Result for one scope of a scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeOutcome {
    /// Scope id: the canonical path of the scanned root.
    pub scope: String,
    /// Covered or failed.
    pub status: ScopeStatus,
    /// Crawler attempts, including the one that succeeded.
    pub attempts: u32,
    /// Last error when the scope failed.
    pub error: Option<String>,
    /// Number of findings the crawler produced.
    pub num_findings: u64,
    /// Systems of this scope that could not be classified or stored; any makes the scan
    /// `partial`.
    pub num_failed_systems: u64,
    /// Non-fatal problems: unreadable files, invalid declarations, classifier errors.
    pub issues: Vec<String>,
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
    /// One entry per requested target, in request order.
    pub scopes: Vec<ScopeOutcome>,
    /// AI systems written by this scan.
    pub system_ids: Vec<Uuid>,
    /// Frameworks evaluated.
    pub frameworks: Vec<String>,
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
    /// The request names no target.
    #[error("no scan target given: pass at least one folder or repository path")]
    NoTargets,
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
