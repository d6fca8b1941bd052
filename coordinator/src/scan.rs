//! Requests and outcomes of one scan.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use uuid::Uuid;

/// A request to scan code roots for one tenant.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// Tenant slug path, `acme` or `acme/emea` for a subsidiary.
    pub tenant: String,
    /// Folders or local git repositories; each one is a scope with its own crawler.
    pub targets: Vec<PathBuf>,
    /// Frameworks to evaluate. They are added to the tenant's subscription; when empty, the
    /// tenant's current subscription is used, and a tenant without one is subscribed to
    /// the EU AI Act.
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
    /// Some scopes were covered and others failed; see [`ScanOutcome::scopes`].
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
    /// Non-fatal problems: unreadable files, invalid declarations, classifier errors.
    pub issues: Vec<String>,
}

/// What a finished scan produced.
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

/// Error that prevents a scan from starting or finishing.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The tenant slug cannot be used.
    #[error("invalid tenant `{tenant}`: {reason}")]
    InvalidTenant {
        /// Slug path as given.
        tenant: String,
        /// Why it was rejected, with the fix.
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
    /// The database rejected a read or write.
    #[error("database error: {0}")]
    Store(#[from] store::Error),
    /// The actor tree stopped before the scan finished.
    #[error("scan aborted: {0}")]
    Aborted(String),
}
