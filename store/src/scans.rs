//! Scans: one row per discovery run.

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use crate::{Error, TenantContext, TenantPath, TenantTx};

/// Request to record a new scan.
#[derive(Debug, Clone)]
pub struct NewScan {
    /// Finding source the scan produces (`code`).
    pub source: String,
    /// Scan target (a folder, an account).
    pub target: String,
    /// User, token or scheduler that requested the scan.
    pub requested_by: String,
}

/// A scan as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ScanRow {
    /// Scan id.
    pub id: Uuid,
    /// Finding source.
    pub source: String,
    /// Scan target.
    pub target: String,
    /// Requester.
    pub requested_by: String,
    /// `running`, `completed`, `partial`, `failed` or `cancelled`.
    pub status: String,
    /// Counters reported at the end.
    pub summary: serde_json::Value,
    /// Cause of a failed or partial scan.
    pub error: Option<String>,
    /// Start time.
    pub started_at: DateTime<Utc>,
    /// End time, `None` while running.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Column list of [`ScanRow`], as a macro so `concat!` can build static SQL.
macro_rules! scan_columns {
    () => {
        "id, source, target, requested_by, status, summary, error, started_at, finished_at"
    };
}

/// Records a new running scan for the transaction's tenant.
#[instrument(skip_all, name = "store.scans.create", fields(tenant.path = %tx.tenant(), scan.source = %scan.source))]
pub async fn create(tx: &mut TenantTx, scan: NewScan) -> Result<ScanRow, Error> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query_as(concat!(
        "INSERT INTO scans (tenant_path, source, target, requested_by) \
         VALUES ($1::ltree, $2, $3, $4) RETURNING ",
        scan_columns!()
    ))
    .bind(&tenant)
    .bind(&scan.source)
    .bind(&scan.target)
    .bind(&scan.requested_by)
    .fetch_one(tx.conn())
    .await?;
    Ok(row)
}

/// Marks a scan finished with `status` (`completed`, `partial`, `failed` or `cancelled`).
#[instrument(skip_all, name = "store.scans.finish", fields(tenant.path = %tx.tenant(), scan.id = %id, scan.status = status))]
pub async fn finish(
    tx: &mut TenantTx,
    id: Uuid,
    status: &str,
    summary: serde_json::Value,
    error: Option<&str>,
) -> Result<ScanRow, Error> {
    let row: Option<ScanRow> = sqlx::query_as(concat!(
        "UPDATE scans SET status = $2, summary = $3, error = $4, finished_at = now() \
         WHERE id = $1 RETURNING ",
        scan_columns!()
    ))
    .bind(id)
    .bind(status)
    .bind(summary)
    .bind(error)
    .fetch_optional(tx.conn())
    .await?;
    row.ok_or_else(|| Error::NotFound {
        entity: "scan",
        id: id.to_string(),
        tenant: tx.tenant().to_owned(),
    })
}

/// Fetches one scan visible to the tenant.
#[instrument(skip_all, name = "store.scans.get", fields(tenant.path = %tx.tenant(), scan.id = %id))]
pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<ScanRow>, Error> {
    let row = sqlx::query_as(concat!(
        "SELECT ",
        scan_columns!(),
        " FROM scans WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}

/// Coverage of one scope of a scan, as written while the scan runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeRecord {
    /// Connector name, `code` for paths given to the scan.
    pub connector: String,
    /// Scope id inside the connector.
    pub scope: String,
    /// Provider family of the scope.
    pub provider: String,
    /// `pending`, `covered`, `partial`, `skipped`, `failed` or `cancelled`.
    pub status: String,
    /// Crawler attempts spent so far.
    pub attempts: i32,
    /// Findings produced.
    pub num_findings: i64,
    /// Last error of a failed scope, or why it was cancelled.
    pub error: Option<String>,
    /// Reason a skipped scope does not apply.
    pub skip_reason: Option<String>,
    /// Denied listings as a JSON array of `{service, permission, message}`.
    pub gaps: serde_json::Value,
    /// Listings cut short, as a JSON array of strings.
    pub incomplete: serde_json::Value,
    /// Non-fatal problems, as a JSON array of strings.
    pub issues: serde_json::Value,
}

impl ScopeRecord {
    /// Creates the record of a scope that has not settled yet.
    pub fn pending(connector: &str, scope: &str, provider: &str) -> Self {
        ScopeRecord {
            connector: connector.to_owned(),
            scope: scope.to_owned(),
            provider: provider.to_owned(),
            status: "pending".to_owned(),
            attempts: 0,
            num_findings: 0,
            error: None,
            skip_reason: None,
            gaps: serde_json::json!([]),
            incomplete: serde_json::json!([]),
            issues: serde_json::json!([]),
        }
    }
}

/// A scope row as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ScanScopeRow {
    /// Scan id.
    pub scan_id: Uuid,
    /// Connector name.
    pub connector: String,
    /// Scope id.
    pub scope: String,
    /// Provider family.
    pub provider: String,
    /// Scope status.
    pub status: String,
    /// Crawler attempts.
    pub attempts: i32,
    /// Findings produced.
    pub num_findings: i64,
    /// Last error, or why the scope was cancelled.
    pub error: Option<String>,
    /// Reason a skipped scope does not apply.
    pub skip_reason: Option<String>,
    /// Denied listings.
    pub gaps: serde_json::Value,
    /// Listings cut short.
    pub incomplete: serde_json::Value,
    /// Non-fatal problems.
    pub issues: serde_json::Value,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Inserts or replaces the coverage rows of scan `scan_id`, one statement per row, and
/// returns the number of rows written. A settled row is never set back to `pending`, so a
/// late pending record cannot hide an outcome.
#[instrument(skip_all, name = "store.scans.upsert_scopes", fields(tenant.path = %tx.tenant(), scan.id = %scan_id, num_scopes = records.len()))]
pub async fn upsert_scopes(
    tx: &mut TenantTx,
    scan_id: Uuid,
    records: &[ScopeRecord],
) -> Result<u64, Error> {
    let tenant = tx.tenant().to_owned();
    let mut num_written = 0;
    for record in records {
        let result = sqlx::query(
            "INSERT INTO scan_scopes (tenant_path, scan_id, connector, scope, provider, status, \
             attempts, num_findings, error, skip_reason, gaps, incomplete, issues) \
             VALUES ($1::ltree, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (scan_id, connector, scope) DO UPDATE SET \
             provider = EXCLUDED.provider, status = EXCLUDED.status, \
             attempts = EXCLUDED.attempts, num_findings = EXCLUDED.num_findings, \
             error = EXCLUDED.error, skip_reason = EXCLUDED.skip_reason, gaps = EXCLUDED.gaps, \
             incomplete = EXCLUDED.incomplete, issues = EXCLUDED.issues, updated_at = now() \
             WHERE EXCLUDED.status <> 'pending' OR scan_scopes.status = 'pending'",
        )
        .bind(&tenant)
        .bind(scan_id)
        .bind(&record.connector)
        .bind(&record.scope)
        .bind(&record.provider)
        .bind(&record.status)
        .bind(record.attempts)
        .bind(record.num_findings)
        .bind(record.error.as_deref())
        .bind(record.skip_reason.as_deref())
        .bind(&record.gaps)
        .bind(&record.incomplete)
        .bind(&record.issues)
        .execute(tx.conn())
        .await?;
        num_written += result.rows_affected();
    }
    Ok(num_written)
}

/// Lists the coverage rows of a scan visible to the tenant, by connector and scope.
#[instrument(skip_all, name = "store.scans.list_scopes", fields(tenant.path = %tx.tenant(), scan.id = %scan_id))]
pub async fn list_scopes(tx: &mut TenantTx, scan_id: Uuid) -> Result<Vec<ScanScopeRow>, Error> {
    let rows = sqlx::query_as(
        "SELECT scan_id, connector, scope, provider, status, attempts, num_findings, error, \
         skip_reason, gaps, incomplete, issues, updated_at FROM scan_scopes \
         WHERE scan_id = $1 ORDER BY connector, scope",
    )
    .bind(scan_id)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Marks every pending scope of a scan `cancelled` with `reason`; returns how many changed.
#[instrument(skip_all, name = "store.scans.cancel_pending_scopes", fields(tenant.path = %tx.tenant(), scan.id = %scan_id))]
pub async fn cancel_pending_scopes(
    tx: &mut TenantTx,
    scan_id: Uuid,
    reason: &str,
) -> Result<u64, Error> {
    let result = sqlx::query(
        "UPDATE scan_scopes SET status = 'cancelled', error = $2, updated_at = now() \
         WHERE scan_id = $1 AND status = 'pending'",
    )
    .bind(scan_id)
    .bind(reason)
    .execute(tx.conn())
    .await?;
    Ok(result.rows_affected())
}

/// Source of the scan row that records one `Ingest.StreamFindings` stream. Such a scan ends
/// when its stream ends, and a restart of its server marks it failed, so it is never
/// cancelled.
pub const INGEST_SOURCE: &str = "ingest";

/// Error and summary of a scan closed by [`cancel_orphan`].
pub const ORPHAN_CANCEL_REASON: &str = "scan cancelled; no running server was crawling it";

/// Closes a scan that no coordinator runs (its server exited mid-scan) as `cancelled`,
/// and marks its pending scopes cancelled. Returns `false`, changing nothing, when the
/// scan is not running any more or records an ingest stream. Of two calls that race, one
/// closes it.
#[instrument(skip_all, name = "store.scans.cancel_orphan", fields(tenant.path = %tx.tenant(), scan.id = %id))]
pub async fn cancel_orphan(tx: &mut TenantTx, id: Uuid) -> Result<bool, Error> {
    let reason = ORPHAN_CANCEL_REASON;
    let summary = serde_json::json!({ "cancelled": reason });
    let closed = sqlx::query(
        "UPDATE scans SET status = 'cancelled', summary = $2, error = $3, finished_at = now() \
         WHERE id = $1 AND status = 'running' AND source <> $4",
    )
    .bind(id)
    .bind(summary)
    .bind(reason)
    .bind(INGEST_SOURCE)
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1;
    if closed {
        cancel_pending_scopes(tx, id, reason).await?;
    }
    Ok(closed)
}

/// Returns the context of the tenant that owns a scan visible to the transaction's tenant,
/// so a parent tenant can address a subsidiary's scan; `None` when there is no such scan.
#[instrument(skip_all, name = "store.scans.owner", fields(tenant.path = %tx.tenant(), scan.id = %id))]
pub async fn owner(tx: &mut TenantTx, id: Uuid) -> Result<Option<TenantContext>, Error> {
    let path: Option<String> =
        sqlx::query_scalar("SELECT tenant_path::text FROM scans WHERE id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    match path {
        Some(path) => Ok(Some(TenantContext::new(TenantPath::from_ltree(&path)?))),
        None => Ok(None),
    }
}
