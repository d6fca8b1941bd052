//! The audit chain stays linear under concurrent appends and names the
//! first tampered row.

use std::net::IpAddr;

use store::Store;
use store::audit::{AuditEntry, VerifyReport};
use store::testing::TestDb;

use crate::{context, seed_tenant};

const WRITERS: usize = 16;
const APPENDS_PER_WRITER: usize = 50;

fn entry(writer: usize, index: usize) -> AuditEntry {
    AuditEntry {
        actor_type: "user".to_owned(),
        actor_id: format!("writer-{writer}"),
        entity_type: "scan".to_owned(),
        entity_id: format!("{writer}-{index}"),
        action: "create".to_owned(),
        diff: serde_json::json!({"b": [1, 2.5, null], "a": {"z": true, "y": "ü"}}),
        ip: Some("2001:db8::1".parse::<IpAddr>().unwrap()),
        user_agent: Some("secruna-test".to_owned()),
        request_id: Some(format!("req-{writer}-{index}")),
    }
}

async fn append_many(store: &Store, writer: usize, count: usize) {
    for index in 0..count {
        let mut tx = store.begin(&context("acme")).await.unwrap();
        store::audit::append(&mut tx, entry(writer, index))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}

async fn verify(store: &Store, slug_path: &str) -> VerifyReport {
    let mut tx = store.begin(&context(slug_path)).await.unwrap();
    store::audit::verify(&mut tx).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_form_one_chain() {
    let db = TestDb::new().await;
    seed_tenant(&db.store, "acme").await;
    let store = Store::connect_with(&db.app_url, WRITERS as u32)
        .await
        .unwrap();

    let writers = (0..WRITERS).map(|writer| {
        let store = store.clone();
        tokio::spawn(async move { append_many(&store, writer, APPENDS_PER_WRITER).await })
    });
    for writer in futures::future::join_all(writers).await {
        writer.unwrap();
    }

    let report = verify(&store, "acme").await;
    assert_eq!(report.first_bad, None);
    assert_eq!(report.rows_checked, (WRITERS * APPENDS_PER_WRITER) as u64);
    let pool = db.admin_pool().await;
    let (rows, distinct, max): (i64, i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT prev_hash), max(seq) FROM audit_log")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(rows, 800);
    assert_eq!(distinct, 800);
    assert_eq!(max, 800);
}

#[tokio::test]
async fn verify_names_tampered_row() {
    let db = TestDb::new().await;
    seed_tenant(&db.store, "acme").await;
    append_many(&db.store, 0, 5).await;
    assert_eq!(verify(&db.store, "acme").await.rows_checked, 5);

    let pool = db.admin_pool().await;
    let tampered_id: uuid::Uuid =
        sqlx::query_scalar("UPDATE audit_log SET diff = '{\"a\": 1}' WHERE seq = 3 RETURNING id")
            .fetch_one(&pool)
            .await
            .unwrap();

    let report = verify(&db.store, "acme").await;
    assert_eq!(report.rows_checked, 2);
    let bad = report.first_bad.unwrap();
    assert_eq!(bad.seq, 3);
    assert_eq!(bad.id, Some(tampered_id));
    assert_eq!(bad.reason, "row_hash does not match the row's contents");
}

#[tokio::test]
async fn verify_names_gap_after_deleted_row() {
    let db = TestDb::new().await;
    seed_tenant(&db.store, "acme").await;
    append_many(&db.store, 0, 4).await;

    let pool = db.admin_pool().await;
    sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(&pool)
        .await
        .unwrap();

    let bad = verify(&db.store, "acme").await.first_bad.unwrap();
    assert_eq!(bad.seq, 3);
    assert!(
        bad.reason.starts_with("expected seq 2 but found seq 3"),
        "{}",
        bad.reason
    );
}

#[tokio::test]
async fn verify_names_truncated_chain_tail() {
    let db = TestDb::new().await;
    seed_tenant(&db.store, "acme").await;
    append_many(&db.store, 0, 3).await;

    let pool = db.admin_pool().await;
    sqlx::query("DELETE FROM audit_log WHERE seq = 3")
        .execute(&pool)
        .await
        .unwrap();

    let report = verify(&db.store, "acme").await;
    assert_eq!(report.rows_checked, 2);
    let bad = report.first_bad.unwrap();
    assert_eq!(bad.seq, 3);
    assert_eq!(bad.id, None);
}

#[tokio::test]
async fn chains_are_per_tenant() {
    let db = TestDb::new().await;
    seed_tenant(&db.store, "acme").await;
    seed_tenant(&db.store, "globex").await;
    append_many(&db.store, 0, 2).await;
    let mut tx = db.store.begin(&context("globex")).await.unwrap();
    let row = store::audit::append(&mut tx, entry(9, 0)).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(row.seq, 1);
    assert_eq!(row.prev_hash, "0".repeat(64));
    assert_eq!(verify(&db.store, "globex").await.rows_checked, 1);
    assert_eq!(verify(&db.store, "acme").await.rows_checked, 2);
}
