//! Per-scope coverage rows of a scan and the `cancelled` scan status.

use store::scans::ScopeRecord;
use store::testing::TestDb;

use crate::{context, seed_tenant};

fn failed(scope: &str) -> ScopeRecord {
    ScopeRecord {
        status: "failed".to_owned(),
        attempts: 3,
        error: Some("access denied".to_owned()),
        ..ScopeRecord::pending("prod", scope, "aws")
    }
}

#[tokio::test]
async fn settled_scope_replaces_pending_row() {
    let db = TestDb::new().await;
    let (scan_id, _) = seed_tenant(&db.store, "acme").await;
    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let pending = [
        ScopeRecord::pending("prod", "aws:1:eu-west-1", "aws"),
        ScopeRecord::pending("prod", "aws:1:us-east-1", "aws"),
    ];
    let num_pending = store::scans::upsert_scopes(&mut tx, scan_id, &pending)
        .await
        .unwrap();
    let num_settled = store::scans::upsert_scopes(&mut tx, scan_id, &[failed("aws:1:eu-west-1")])
        .await
        .unwrap();

    let rows = store::scans::list_scopes(&mut tx, scan_id).await.unwrap();
    assert_eq!(num_pending, 2);
    assert_eq!(num_settled, 1);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].scope, "aws:1:eu-west-1");
    assert_eq!(rows[0].status, "failed");
    assert_eq!(rows[0].attempts, 3);
    assert_eq!(rows[0].error.as_deref(), Some("access denied"));
    assert_eq!(rows[1].status, "pending");
}

#[tokio::test]
async fn late_pending_record_does_not_hide_an_outcome() {
    let db = TestDb::new().await;
    let (scan_id, _) = seed_tenant(&db.store, "acme").await;
    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    store::scans::upsert_scopes(&mut tx, scan_id, &[failed("gcp:p")])
        .await
        .unwrap();

    let num_written = store::scans::upsert_scopes(
        &mut tx,
        scan_id,
        &[ScopeRecord::pending("prod", "gcp:p", "aws")],
    )
    .await
    .unwrap();

    let rows = store::scans::list_scopes(&mut tx, scan_id).await.unwrap();
    assert_eq!(num_written, 0);
    assert_eq!(rows[0].status, "failed");
}

#[tokio::test]
async fn cancel_marks_only_pending_scopes() {
    let db = TestDb::new().await;
    let (scan_id, _) = seed_tenant(&db.store, "acme").await;
    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let records = [
        failed("a"),
        ScopeRecord::pending("prod", "b", "aws"),
        ScopeRecord::pending("prod", "c", "aws"),
    ];
    store::scans::upsert_scopes(&mut tx, scan_id, &records)
        .await
        .unwrap();

    let num_cancelled = store::scans::cancel_pending_scopes(&mut tx, scan_id, "cancelled by user")
        .await
        .unwrap();
    let finished = store::scans::finish(&mut tx, scan_id, "cancelled", serde_json::json!({}), None)
        .await
        .unwrap();

    let statuses: Vec<String> = store::scans::list_scopes(&mut tx, scan_id)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.status)
        .collect();
    assert_eq!(num_cancelled, 2);
    assert_eq!(statuses, ["failed", "cancelled", "cancelled"]);
    assert_eq!(finished.status, "cancelled");
}

#[tokio::test]
async fn other_tenant_sees_no_scope_rows() {
    let db = TestDb::new().await;
    let (scan_id, _) = seed_tenant(&db.store, "acme").await;
    seed_tenant(&db.store, "globex").await;
    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    store::scans::upsert_scopes(&mut tx, scan_id, &[failed("a")])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut other = db.store.begin(&context("globex")).await.unwrap();
    let rows = store::scans::list_scopes(&mut other, scan_id)
        .await
        .unwrap();
    let error = store::scans::upsert_scopes(&mut other, scan_id, &[failed("b")])
        .await
        .unwrap_err();

    assert!(rows.is_empty());
    assert!(
        matches!(error, store::Error::MissingReference { .. }),
        "{error}"
    );
}
