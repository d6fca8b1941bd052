//! Idempotent upserts, resolution of vanished findings, subscriptions.

use store::evaluations::EvaluationUpsert;
use store::findings::FindingUpsert;
use store::testing::TestDb;
use store::{Error, FrameworkRow, TenantTx};
use uuid::Uuid;

use crate::{context, seed_tenant, system};

async fn xmin(tx: &mut TenantTx, table: &str, id: Uuid) -> String {
    let statement = format!("SELECT xmin::text FROM {table} WHERE id = $1");
    sqlx::query_scalar(sqlx::AssertSqlSafe(statement))
        .bind(id)
        .fetch_one(tx.conn_for_tests())
        .await
        .unwrap()
}

fn finding(system_id: Uuid, external_id: &str, scan_id: Uuid) -> FindingUpsert {
    FindingUpsert {
        system_id,
        source: "code".to_owned(),
        scope: "/src/acme".to_owned(),
        external_id: external_id.to_owned(),
        kind: "dependency".to_owned(),
        subject: "openai".to_owned(),
        path: format!("{external_id}/requirements.txt"),
        line: Some(3),
        confidence: 0.9,
        project_root: ".".to_owned(),
        attributes: serde_json::json!({"category": "hosted_api", "ecosystem": "pypi"}),
        evidence: Some("openai==1.40".to_owned()),
        scan_id,
    }
}

fn framework() -> FrameworkRow {
    FrameworkRow {
        slug: "eu-ai-act".to_owned(),
        title: "EU AI Act".to_owned(),
        version: "2024/1689".to_owned(),
        description: "Regulation (EU) 2024/1689".to_owned(),
    }
}

fn evaluation(system_id: Uuid, rule_id: &str, status: &str, scan_id: Uuid) -> EvaluationUpsert {
    EvaluationUpsert {
        system_id,
        framework: "eu-ai-act".to_owned(),
        rule_id: rule_id.to_owned(),
        status: status.to_owned(),
        reasons: serde_json::json!(["reason"]),
        evidence_required: serde_json::json!([]),
        scan_id,
    }
}

#[tokio::test]
async fn unchanged_system_upsert_writes_nothing() {
    let db = TestDb::new().await;
    let (scan_id, system_id) = seed_tenant(&db.store, "acme").await;
    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let before = xmin(&mut tx, "ai_systems", system_id).await;
    tx.commit().await.unwrap();

    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let rescan = store::scans::create(
        &mut tx,
        store::scans::NewScan {
            source: "code".to_owned(),
            target: "/src/acme".to_owned(),
            requested_by: "test".to_owned(),
        },
    )
    .await
    .unwrap();
    let same = store::systems::upsert(&mut tx, &system("acme-system", rescan.id))
        .await
        .unwrap();
    assert_eq!(
        same,
        store::systems::Upserted {
            id: system_id,
            changed: false
        }
    );
    tx.commit().await.unwrap();

    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    assert_eq!(xmin(&mut tx, "ai_systems", system_id).await, before);
    let mut changed = system("acme-system", rescan.id);
    changed.risk_class = "high".to_owned();
    changed.annex_iii_area = Some("employment".to_owned());
    let written = store::systems::upsert(&mut tx, &changed).await.unwrap();
    assert_eq!(
        written,
        store::systems::Upserted {
            id: system_id,
            changed: true
        }
    );
    let rows = store::systems::list(&mut tx).await.unwrap();
    assert_eq!(rows[0].risk_class, "high");
    assert_eq!(rows[0].changed_scan_id, rescan.id);
    assert_eq!(rows[0].first_scan_id, scan_id);
}

#[tokio::test]
async fn unchanged_findings_and_evaluations_write_nothing() {
    let db = TestDb::new().await;
    let (scan_id, system_id) = seed_tenant(&db.store, "acme").await;
    db.store.upsert_frameworks(&[framework()]).await.unwrap();
    let findings = vec![
        finding(system_id, "f1", scan_id),
        finding(system_id, "f2", scan_id),
    ];
    let evaluations = vec![
        evaluation(system_id, "art-50", "pass", scan_id),
        evaluation(system_id, "art-4", "needs_evidence", scan_id),
    ];

    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    assert_eq!(
        store::findings::upsert_batch(&mut tx, &findings)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store::evaluations::upsert_batch(&mut tx, &evaluations)
            .await
            .unwrap(),
        2
    );
    tx.commit().await.unwrap();

    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let open = store::findings::list_open_for_system(&mut tx, system_id)
        .await
        .unwrap();
    let verdicts = store::evaluations::list_for_system(&mut tx, system_id)
        .await
        .unwrap();
    let mut before = Vec::new();
    for row in &open {
        before.push(xmin(&mut tx, "findings", row.id).await);
    }
    for row in &verdicts {
        before.push(xmin(&mut tx, "evaluations", row.id).await);
    }
    assert_eq!(
        store::findings::upsert_batch(&mut tx, &findings)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store::evaluations::upsert_batch(&mut tx, &evaluations)
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();

    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let mut after = Vec::new();
    for row in &open {
        after.push(xmin(&mut tx, "findings", row.id).await);
    }
    for row in &verdicts {
        after.push(xmin(&mut tx, "evaluations", row.id).await);
    }
    assert_eq!(after, before);
    let flipped = vec![evaluation(system_id, "art-50", "fail", scan_id)];
    assert_eq!(
        store::evaluations::upsert_batch(&mut tx, &flipped)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn unchanged_framework_upsert_writes_nothing() {
    let db = TestDb::new().await;
    db.store.upsert_frameworks(&[framework()]).await.unwrap();
    let pool = db.store.pool_for_tests();
    let query = "SELECT xmin::text FROM frameworks WHERE slug = 'eu-ai-act'";
    let before: String = sqlx::query_scalar(query).fetch_one(pool).await.unwrap();

    db.store.upsert_frameworks(&[framework()]).await.unwrap();
    let after: String = sqlx::query_scalar(query).fetch_one(pool).await.unwrap();
    assert_eq!(after, before);

    let mut renamed = framework();
    renamed.title = "Artificial Intelligence Act".to_owned();
    db.store
        .upsert_frameworks(&[renamed.clone()])
        .await
        .unwrap();
    assert_eq!(db.store.list_frameworks().await.unwrap(), vec![renamed]);
}

#[tokio::test]
async fn vanished_finding_resolves_and_reopens() {
    let db = TestDb::new().await;
    let (scan_id, system_id) = seed_tenant(&db.store, "acme").await;
    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let both = vec![
        finding(system_id, "f1", scan_id),
        finding(system_id, "f2", scan_id),
    ];
    store::findings::upsert_batch(&mut tx, &both).await.unwrap();

    let seen = vec!["f1".to_owned()];
    let resolved = store::findings::resolve_missing(&mut tx, "code", "/src/acme", &seen, scan_id)
        .await
        .unwrap();
    assert_eq!(resolved, 1);
    let open: Vec<String> = store::findings::list_open_for_system(&mut tx, system_id)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.external_id)
        .collect();
    assert_eq!(open, vec!["f1"]);
    let (status, resolved_at): (String, Option<chrono::DateTime<chrono::Utc>>) =
        sqlx::query_as("SELECT status, resolved_at FROM findings WHERE external_id = 'f2'")
            .fetch_one(tx.conn_for_tests())
            .await
            .unwrap();
    assert_eq!(status, "resolved");
    assert!(resolved_at.is_some());
    let again = store::findings::resolve_missing(&mut tx, "code", "/src/acme", &seen, scan_id)
        .await
        .unwrap();
    assert_eq!(again, 0);

    assert_eq!(
        store::findings::upsert_batch(&mut tx, &both).await.unwrap(),
        1
    );
    let open = store::findings::list_open_for_system(&mut tx, system_id)
        .await
        .unwrap();
    assert_eq!(open.len(), 2);
    assert!(
        open.iter()
            .all(|row| row.status == "open" && row.resolved_at.is_none())
    );
}

#[tokio::test]
async fn repeated_key_in_batch_keeps_last_entry() {
    let db = TestDb::new().await;
    let (scan_id, system_id) = seed_tenant(&db.store, "acme").await;
    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let mut second = finding(system_id, "f1", scan_id);
    second.line = Some(9);
    let written =
        store::findings::upsert_batch(&mut tx, &[finding(system_id, "f1", scan_id), second])
            .await
            .unwrap();
    assert_eq!(written, 1);
    let open = store::findings::list_open_for_system(&mut tx, system_id)
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].line, Some(9));
}

#[tokio::test]
async fn subscriptions_replace_and_reject_unknown_framework() {
    let db = TestDb::new().await;
    seed_tenant(&db.store, "acme").await;
    let mut other = framework();
    other.slug = "uk-defence-ai".to_owned();
    db.store
        .upsert_frameworks(&[framework(), other])
        .await
        .unwrap();

    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    store::subscriptions::set(&mut tx, &["eu-ai-act", "uk-defence-ai"])
        .await
        .unwrap();
    store::subscriptions::set(&mut tx, &["uk-defence-ai"])
        .await
        .unwrap();
    assert_eq!(
        store::subscriptions::list(&mut tx).await.unwrap(),
        vec!["uk-defence-ai"]
    );
    tx.commit().await.unwrap();

    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let error = store::subscriptions::set(&mut tx, &["eu-ai-act", "no-such-framework"])
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::UnknownFrameworks { slugs } if *slugs == ["no-such-framework"]),
        "{error}"
    );
    assert_eq!(
        store::subscriptions::list(&mut tx).await.unwrap(),
        vec!["uk-defence-ai"]
    );
}

#[tokio::test]
async fn scan_finish_records_status_and_summary() {
    let db = TestDb::new().await;
    let (scan_id, _) = seed_tenant(&db.store, "acme").await;
    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let finished = store::scans::finish(
        &mut tx,
        scan_id,
        "partial",
        serde_json::json!({"files": 3}),
        Some("one scope failed"),
    )
    .await
    .unwrap();
    assert_eq!(finished.status, "partial");
    assert_eq!(finished.summary, serde_json::json!({"files": 3}));
    assert_eq!(finished.error.as_deref(), Some("one scope failed"));
    assert!(finished.finished_at.is_some());
    tx.commit().await.unwrap();

    let mut tx = db.store.begin(&context("globex")).await.unwrap();
    let error = store::scans::finish(&mut tx, scan_id, "completed", serde_json::json!({}), None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::NotFound { entity: "scan", .. }),
        "{error}"
    );
}

#[tokio::test]
async fn write_without_tenant_row_fails() {
    let db = TestDb::new().await;
    let mut tx = db.store.begin(&context("nobody")).await.unwrap();
    let scan = store::scans::NewScan {
        source: "code".to_owned(),
        target: "/src".to_owned(),
        requested_by: "test".to_owned(),
    };
    let error = store::scans::create(&mut tx, scan).await.unwrap_err();
    assert!(
        matches!(&error, Error::TenantNotFound { constraint } if constraint == "scans_tenant_fkey"),
        "{error}"
    );
}

/// Two transactions that upsert the same findings in opposite orders deadlock; the one
/// Postgres ends reports a transaction conflict, which the writer runs again.
#[tokio::test]
async fn crossed_upserts_report_transaction_conflict() {
    let db = TestDb::new().await;
    let (scan_id, system_id) = seed_tenant(&db.store, "acme").await;
    let mut first = db.store.begin(&context("acme")).await.unwrap();
    let mut second = db.store.begin(&context("acme")).await.unwrap();
    store::findings::upsert_batch(&mut first, &[finding(system_id, "a", scan_id)])
        .await
        .unwrap();
    store::findings::upsert_batch(&mut second, &[finding(system_id, "b", scan_id)])
        .await
        .unwrap();

    let finding_a = [finding(system_id, "a", scan_id)];
    let finding_b = [finding(system_id, "b", scan_id)];
    let (first_result, second_result) = tokio::join!(
        store::findings::upsert_batch(&mut first, &finding_b),
        store::findings::upsert_batch(&mut second, &finding_a),
    );

    let errors: Vec<Error> = [first_result, second_result]
        .into_iter()
        .filter_map(Result::err)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].is_transaction_conflict(), "{}", errors[0]);
    assert!(
        !Error::InvalidValue {
            constraint: "x".to_owned()
        }
        .is_transaction_conflict()
    );
}
