//! Scans: one row per discovery run.

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use crate::{Error, TenantTx};

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
    /// `running`, `completed`, `partial` or `failed`.
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

/// Marks a scan finished with `status` (`completed`, `partial` or `failed`).
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
