//! Closing writes of a scan, and coverage rows written while it runs.

use serde_json::json;
use store::{Store, TenantContext};
use tracing::warn;
use uuid::Uuid;

use super::FinishScan;
use crate::scan::ScanStatus;

/// Stores coverage rows of a running scan in their own transaction, logging a failure.
pub(super) async fn record_scopes(
    store: &Store,
    ctx: &TenantContext,
    scan_id: Uuid,
    records: &[store::scans::ScopeRecord],
) {
    let written = async {
        let mut tx = store.begin(ctx).await?;
        store::scans::upsert_scopes(&mut tx, scan_id, records).await?;
        tx.commit().await
    };
    if let Err(error) = written.await {
        warn!(tenant.path = %ctx.path().as_str(), scan.id = %scan_id, %error, "storing scope progress failed; it is stored when the scan closes");
    }
}

/// Stores the final coverage rows, resolves vanished findings of crawled scopes, closes
/// the scan row, raises its webhook event and appends the audit rows, atomically.
pub(super) async fn finish_scan(store: &Store, finish: FinishScan) -> Result<(), store::Error> {
    let mut tx = store.begin(&finish.ctx).await?;
    store::scans::upsert_scopes(&mut tx, finish.scan_id, &finish.scopes).await?;
    for covered in &finish.covered {
        store::findings::resolve_missing(
            &mut tx,
            &covered.source,
            &covered.scope,
            &covered.seen,
            finish.scan_id,
        )
        .await?;
    }
    let scan = store::scans::finish(
        &mut tx,
        finish.scan_id,
        finish.status.as_str(),
        finish.summary.clone(),
        finish.error.as_deref(),
    )
    .await?;
    // A cancelled scan raises `scan.failed` with status `cancelled`: the event vocabulary
    // has no cancel event, and subscribers learn that the scan did not complete.
    let event_type = match finish.status {
        ScanStatus::Failed | ScanStatus::Cancelled => "scan.failed",
        ScanStatus::Completed | ScanStatus::Partial => "scan.completed",
    };
    let event = json!({
        "scan_id": scan.id,
        "status": scan.status,
        "target": scan.target,
        "summary": scan.summary,
        "error": scan.error,
        "num_systems": finish.summary.get("num_systems"),
    });
    store::webhooks::raise(&mut tx, event_type, &event).await?;
    if let Some(actor) = &finish.cancelled_by {
        let entry = crate::actors::audit_entry(
            actor,
            "scan",
            &finish.scan_id.to_string(),
            "scan.cancel",
            json!({ "status": { "from": "running", "to": "cancelled" } }),
        );
        store::audit::append(&mut tx, entry).await?;
    }
    let entry = crate::actors::audit_entry(
        "system:coordinator",
        "scan",
        &finish.scan_id.to_string(),
        "scan.finished",
        json!({ "status": finish.status.as_str(), "summary": finish.summary }),
    );
    store::audit::append(&mut tx, entry).await?;
    tx.commit().await
}
