//! Request and response bodies of the scan routes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::scans::{ScanRow, ScanScopeRow};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A scan to start: a folder on the server, stored connectors, or both.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewScanBody {
    /// Folder or git repository on the server, absolute or relative to the scan root.
    #[serde(default)]
    pub(crate) path: Option<String>,
    /// Ids of the tenant's connectors to crawl in the same scan.
    #[serde(default)]
    pub(crate) connector_ids: Vec<Uuid>,
    /// Frameworks to evaluate, added to the subscription; omit to use the subscription.
    #[serde(default)]
    pub(crate) frameworks: Vec<String>,
}

/// A scan.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScanView {
    /// Scan id.
    pub(crate) id: Uuid,
    /// Provider families the scan crawls, comma-separated (`code`, `aws,code`).
    pub(crate) source: String,
    /// Scanned folders and `connector:<name>` lines.
    pub(crate) target: String,
    /// Requester (`user:<id>`, `token:<id>`).
    pub(crate) requested_by: String,
    /// running, completed, partial, failed or cancelled.
    pub(crate) status: String,
    /// Counters, scopes not covered (`not_covered`) and system ids, reported at the end.
    #[schema(value_type = Object)]
    pub(crate) summary: serde_json::Value,
    /// Scopes not covered and why, for a partial, failed or cancelled scan.
    pub(crate) error: Option<String>,
    /// Start time.
    pub(crate) started_at: DateTime<Utc>,
    /// End time, `null` while running.
    pub(crate) finished_at: Option<DateTime<Utc>>,
}

impl From<ScanRow> for ScanView {
    fn from(row: ScanRow) -> Self {
        ScanView {
            id: row.id,
            source: row.source,
            target: row.target,
            requested_by: row.requested_by,
            status: row.status,
            summary: row.summary,
            error: row.error,
            started_at: row.started_at,
            finished_at: row.finished_at,
        }
    }
}

/// Coverage of one scope, updated as the scope settles.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScopeView {
    /// Connector name; `code` for the scanned folder.
    pub(crate) connector: String,
    /// Scope id: account and region, subscription, project, organisation or folder;
    /// `*` when listing the connector's scopes failed.
    pub(crate) scope: String,
    /// Provider family.
    pub(crate) provider: String,
    /// pending, covered, partial, skipped, failed or cancelled.
    pub(crate) status: String,
    /// Crawler attempts.
    pub(crate) attempts: i32,
    /// Findings produced.
    pub(crate) num_findings: i64,
    /// Last error of a failed scope, or why it was cancelled.
    pub(crate) error: Option<String>,
    /// Reason a skipped scope does not apply.
    pub(crate) skip_reason: Option<String>,
    /// Listings denied, each with the permission to grant.
    #[schema(value_type = Vec<Object>)]
    pub(crate) gaps: serde_json::Value,
    /// Listings cut short and files not read, with the reason.
    #[schema(value_type = Vec<String>)]
    pub(crate) incomplete: serde_json::Value,
    /// Non-fatal problems met on the way.
    #[schema(value_type = Vec<String>)]
    pub(crate) issues: serde_json::Value,
    /// Last change of the row.
    pub(crate) updated_at: DateTime<Utc>,
}

impl From<ScanScopeRow> for ScopeView {
    fn from(row: ScanScopeRow) -> Self {
        ScopeView {
            connector: row.connector,
            scope: row.scope,
            provider: row.provider,
            status: row.status,
            attempts: row.attempts,
            num_findings: row.num_findings,
            error: row.error,
            skip_reason: row.skip_reason,
            gaps: row.gaps,
            incomplete: row.incomplete,
            issues: row.issues,
            updated_at: row.updated_at,
        }
    }
}

/// A scan with its per-scope coverage.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScanDetail {
    /// The stored scan.
    #[serde(flatten)]
    pub(crate) scan: ScanView,
    /// One entry per scope, pending ones included while the scan runs.
    pub(crate) scopes: Vec<ScopeView>,
}

/// Filters of GET /api/v1/scans.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScanQuery {
    /// Only scans with this status (running, completed, partial, failed, cancelled).
    pub(crate) status: Option<String>,
    /// `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub(crate) limit: Option<i64>,
}
