//! Store::connect rejects logins that row-level security would not apply to.

use store::testing::TestDb;
use store::{Error, Store};

/// Runs one administrative statement on the test database.
async fn admin(db: &TestDb, statement: &str) {
    let pool = db.admin_pool().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// Returns the URL of `role` (password `pw`) on the test database.
fn url_for(db: &TestDb, role: &str) -> String {
    let options: sqlx::postgres::PgConnectOptions = db.app_url.parse().unwrap();
    use sqlx::ConnectOptions;
    options
        .username(role)
        .password("pw")
        .to_url_lossy()
        .to_string()
}

#[tokio::test]
async fn connect_accepts_application_login() {
    let db = TestDb::new().await;
    Store::connect(&db.app_url).await.unwrap();
}

#[tokio::test]
async fn connect_rejects_superuser() {
    let db = TestDb::new().await;
    let error = Store::connect(&db.admin_url).await.unwrap_err();
    let Error::SuperuserRole { role } = &error else {
        panic!("expected SuperuserRole, got {error}");
    };
    assert!(
        error
            .to_string()
            .contains(&format!("`{role}` is a superuser")),
        "{error}"
    );
}

#[tokio::test]
async fn connect_rejects_bypassrls_role() {
    let db = TestDb::new().await;
    let role = format!("{}_bypass", db.database);
    admin(
        &db,
        &format!("CREATE ROLE {role} LOGIN BYPASSRLS PASSWORD 'pw' IN ROLE secruna_app"),
    )
    .await;

    let error = Store::connect(&url_for(&db, &role)).await.unwrap_err();
    assert!(
        matches!(&error, Error::BypassRlsRole { role: found } if *found == role),
        "{error}"
    );
    assert!(error.to_string().contains("NOBYPASSRLS"), "{error}");
}

#[tokio::test]
async fn connect_rejects_table_owner() {
    let db = TestDb::new().await;
    let role = format!("{}_owner", db.database);
    admin(
        &db,
        &format!("CREATE ROLE {role} LOGIN PASSWORD 'pw' IN ROLE secruna_app; ALTER TABLE tenants OWNER TO {role}"),
    )
    .await;

    let error = Store::connect(&url_for(&db, &role)).await.unwrap_err();
    assert!(
        matches!(&error, Error::OwnerRole { role: found, table, owner } if *found == role && table == "tenants" && *owner == role),
        "{error}"
    );
}

#[tokio::test]
async fn connect_rejects_member_of_owner_role() {
    let db = TestDb::new().await;
    let owner = format!("{}_team", db.database);
    let member = format!("{}_member", db.database);
    admin(
        &db,
        &format!(
            "CREATE ROLE {owner} NOLOGIN; ALTER TABLE scans OWNER TO {owner}; \
             CREATE ROLE {member} LOGIN PASSWORD 'pw' IN ROLE {owner}, secruna_app"
        ),
    )
    .await;

    let error = Store::connect(&url_for(&db, &member)).await.unwrap_err();
    assert!(
        matches!(&error, Error::OwnerRole { role, table, owner: found } if *role == member && table == "scans" && *found == owner),
        "{error}"
    );
}

#[tokio::test]
async fn connect_rejects_role_without_grants() {
    let db = TestDb::new().await;
    let role = format!("{}_outsider", db.database);
    admin(&db, &format!("CREATE ROLE {role} LOGIN PASSWORD 'pw'")).await;

    let error = Store::connect(&url_for(&db, &role)).await.unwrap_err();
    assert!(
        matches!(&error, Error::NotApplicationRole { role: found } if *found == role),
        "{error}"
    );
    assert!(
        error.to_string().contains("GRANT secruna_app TO"),
        "{error}"
    );
}
