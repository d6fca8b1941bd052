//! Migrations reverse cleanly and the application role's grants are minimal.

use store::testing::TestDb;
use store::{Error, TenantTx};

use crate::{context, seed_tenant};

async fn try_statement(tx: &mut TenantTx, statement: &str) -> Result<u64, Error> {
    let result = sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
        .execute(tx.conn_for_tests())
        .await?;
    Ok(result.rows_affected())
}

#[tokio::test]
async fn migrations_undo_and_reapply() {
    let db = TestDb::new().await;
    let pool = db.admin_pool().await;
    let migrator = sqlx::migrate!("../migrations");

    migrator.undo(&pool, 0).await.unwrap();
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_sqlx_migrations'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(tables, 0);

    migrator.run(&pool).await.unwrap();
    let forced: Vec<String> = sqlx::query_scalar(
        "SELECT relname::text FROM pg_class WHERE relrowsecurity AND relforcerowsecurity \
         AND relnamespace = 'public'::regnamespace ORDER BY relname",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut expected = crate::TENANT_TABLES.to_vec();
    expected.sort();
    assert_eq!(forced, expected);
}

#[tokio::test]
async fn audit_log_rejects_update_and_delete() {
    let db = TestDb::new().await;
    seed_tenant(&db.store, "acme").await;
    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    store::audit::append(
        &mut tx,
        store::audit::AuditEntry {
            actor_type: "user".to_owned(),
            actor_id: "u1".to_owned(),
            entity_type: "scan".to_owned(),
            entity_id: "s1".to_owned(),
            action: "create".to_owned(),
            diff: serde_json::json!({}),
            ip: None,
            user_agent: None,
            request_id: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    for statement in [
        "UPDATE audit_log SET action = 'delete'",
        "DELETE FROM audit_log",
    ] {
        let mut tx = db.store.begin(&context("acme")).await.unwrap();
        let error = try_statement(&mut tx, statement).await.unwrap_err();
        assert!(
            matches!(error, Error::PermissionDenied { .. }),
            "{statement}: {error}"
        );
    }
}

#[tokio::test]
async fn application_role_owns_nothing() {
    let db = TestDb::new().await;
    let pool = db.admin_pool().await;
    let owned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class WHERE pg_has_role('secruna_app', relowner, 'USAGE') \
         AND relnamespace = 'public'::regnamespace",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(owned, 0);
}
