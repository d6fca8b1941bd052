//! Row-level security: what each connection state and tenant can see.

use store::testing::TestDb;
use store::{Error, Store};

use crate::{TENANT_TABLES, context, count_rows, seed_tenant};

#[tokio::test]
async fn fresh_connection_without_tenant_sees_no_rows() {
    let db = TestDb::new().await;
    seed_tenant(&db.store, "acme").await;
    seed_tenant(&db.store, "globex").await;

    let pool = db.app_pool(1).await;
    for table in TENANT_TABLES {
        assert_eq!(count_rows(&pool, table).await, 0, "table {table}");
    }
}

#[tokio::test]
async fn connection_after_tenant_transaction_sees_no_rows() {
    let db = TestDb::new().await;
    seed_tenant(&db.store, "acme").await;
    let store = Store::connect_with(&db.app_url, 1).await.unwrap();

    let mut tx = store.begin(&context("acme")).await.unwrap();
    assert_eq!(count_rows(tx.conn_for_tests(), "ai_systems").await, 1);
    tx.commit().await.unwrap();

    let pool = store.pool_for_tests();
    let setting: Option<String> =
        sqlx::query_scalar("SELECT current_setting('app.current_tenant_path', true)")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(setting.as_deref(), Some(""));
    for table in TENANT_TABLES {
        assert_eq!(count_rows(pool, table).await, 0, "table {table}");
    }
}

#[tokio::test]
async fn connection_after_rolled_back_transaction_sees_no_rows() {
    let db = TestDb::new().await;
    seed_tenant(&db.store, "acme").await;
    let store = Store::connect_with(&db.app_url, 1).await.unwrap();

    let tx = store.begin(&context("acme")).await.unwrap();
    drop(tx);

    for table in TENANT_TABLES {
        assert_eq!(
            count_rows(store.pool_for_tests(), table).await,
            0,
            "table {table}"
        );
    }
}

#[tokio::test]
async fn reused_connection_carries_no_tenant() {
    let db = TestDb::new().await;
    let (_, acme_system) = seed_tenant(&db.store, "acme").await;
    let (_, globex_system) = seed_tenant(&db.store, "globex").await;
    let store = Store::connect_with(&db.app_url, 1).await.unwrap();

    let mut tx = store.begin(&context("acme")).await.unwrap();
    let ids: Vec<_> = store::systems::list(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, vec![acme_system]);
    tx.commit().await.unwrap();

    let mut tx = store.begin(&context("globex")).await.unwrap();
    let ids: Vec<_> = store::systems::list(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, vec![globex_system]);
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn tenant_cannot_touch_other_tenant_rows() {
    let db = TestDb::new().await;
    seed_tenant(&db.store, "acme").await;
    let (_, globex_system) = seed_tenant(&db.store, "globex").await;
    let mut tx = db.store.begin(&context("globex")).await.unwrap();
    sqlx::query(
        "INSERT INTO connectors (tenant_path, kind, name) VALUES ('globex', 'code', 'repo')",
    )
    .execute(tx.conn_for_tests())
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let conn = tx.conn_for_tests();
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM ai_systems WHERE id = $1")
        .bind(globex_system)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(seen, 0);
    let updated = sqlx::query("UPDATE ai_systems SET name = 'stolen' WHERE id = $1")
        .bind(globex_system)
        .execute(&mut *conn)
        .await
        .unwrap();
    assert_eq!(updated.rows_affected(), 0);
    let deleted = sqlx::query("DELETE FROM connectors WHERE name = 'repo'")
        .execute(&mut *conn)
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 0);
    tx.rollback().await.unwrap();

    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let insert = sqlx::query(
        "INSERT INTO connectors (tenant_path, kind, name) VALUES ('globex', 'code', 'planted')",
    )
    .execute(tx.conn_for_tests())
    .await
    .map_err(Error::from)
    .unwrap_err();
    assert!(matches!(insert, Error::PermissionDenied { .. }), "{insert}");
    assert!(
        insert.to_string().contains("row-level security"),
        "{insert}"
    );
}

#[tokio::test]
async fn parent_sees_children_and_child_sees_only_itself() {
    let db = TestDb::new().await;
    let (_, acme) = seed_tenant(&db.store, "acme").await;
    let (_, emea) = seed_tenant(&db.store, "acme/emea").await;
    let (_, apac) = seed_tenant(&db.store, "acme/apac").await;

    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let mut ids: Vec<_> = store::systems::list(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    ids.sort();
    let mut expected = vec![acme, emea, apac];
    expected.sort();
    assert_eq!(ids, expected);
    let tenants: Vec<String> = store::tenants::list(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.slug)
        .collect();
    assert_eq!(tenants, vec!["acme", "acme/apac", "acme/emea"]);
    tx.commit().await.unwrap();

    let mut tx = db.store.begin(&context("acme/emea")).await.unwrap();
    let ids: Vec<_> = store::systems::list(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, vec![emea]);
    let tenants: Vec<String> = store::tenants::list(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.slug)
        .collect();
    assert_eq!(tenants, vec!["acme/emea"]);
}

#[tokio::test]
async fn ensure_rejects_tenant_outside_context() {
    let db = TestDb::new().await;
    let mut tx = db.store.begin(&context("acme/emea")).await.unwrap();
    let error = store::tenants::ensure(&mut tx, "acme").await.unwrap_err();
    assert!(
        matches!(&error, Error::OutsideTenant { requested, context } if requested == "acme" && context == "acme.emea"),
        "{error}"
    );
}

#[tokio::test]
async fn ensure_creates_missing_ancestors_within_context() {
    let db = TestDb::new().await;
    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let row = store::tenants::ensure(&mut tx, "acme/emea/de")
        .await
        .unwrap();
    assert!(row.created);
    assert_eq!(row.path, "acme.emea.de");
    let again = store::tenants::ensure(&mut tx, "acme/emea/de")
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.id, row.id);
    let slugs: Vec<String> = store::tenants::list(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.slug)
        .collect();
    assert_eq!(slugs, vec!["acme", "acme/emea", "acme/emea/de"]);
}

#[tokio::test]
async fn get_current_finds_only_own_tenant_row() {
    let db = TestDb::new().await;
    let mut tx = db.store.begin(&context("acme/emea")).await.unwrap();
    let created = store::tenants::ensure(&mut tx, "acme/emea").await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.store.begin(&context("acme/emea")).await.unwrap();
    let current = store::tenants::get_current(&mut tx).await.unwrap().unwrap();
    assert_eq!(current.id, created.id);
    assert_eq!(current.slug, "acme/emea");
    assert_eq!(current.path, "acme.emea");
    assert!(!current.created);

    // `acme` sees its child's row but has no row of its own.
    for missing in ["acme", "nosuch", "acme/emea/de"] {
        let mut tx = db.store.begin(&context(missing)).await.unwrap();
        let found = store::tenants::get_current(&mut tx).await.unwrap();
        assert_eq!(found, None, "tenant {missing}");
    }
}
