//! Users, sessions and API tokens: the bearer-token lookup works before any
//! tenant is set and returns only live tokens; the tables stay isolated.

use chrono::{Duration, Utc};
use store::api_tokens::NewApiToken;
use store::testing::TestDb;
use store::users::NewUser;

use crate::{context, count_rows, seed_tenant};

fn token_hash(byte: u8) -> [u8; 32] {
    [byte; 32]
}

async fn create_token(db: &TestDb, tenant: &str, hash: [u8; 32], expires_in: Option<Duration>) {
    let mut tx = db.store.begin(&context(tenant)).await.unwrap();
    let token = NewApiToken {
        name: "ci".to_owned(),
        scope: "write".to_owned(),
        token_hash: hash,
        created_by: "test".to_owned(),
        expires_at: expires_in.map(|duration| Utc::now() + duration),
    };
    store::api_tokens::create(&mut tx, &token).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn authenticate_finds_live_tokens_without_tenant() {
    let db = TestDb::new().await;
    seed_tenant(&db.store, "acme/emea").await;
    create_token(&db, "acme/emea", token_hash(1), None).await;
    create_token(&db, "acme/emea", token_hash(2), Some(Duration::seconds(-1))).await;

    let found = db
        .store
        .authenticate(&token_hash(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.principal_type, "token");
    assert_eq!(found.tenant_path, context("acme/emea").path().as_str());
    assert_eq!(found.role, "write");
    assert_eq!(found.expires_at, None);

    assert_eq!(
        db.store.authenticate(&token_hash(2)).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        db.store.authenticate(&token_hash(3)).await.unwrap(),
        None,
        "unknown"
    );
}

#[tokio::test]
async fn revoked_token_and_session_are_not_found() {
    let db = TestDb::new().await;
    seed_tenant(&db.store, "acme").await;
    create_token(&db, "acme", token_hash(1), None).await;
    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let user = NewUser {
        email: "Ann@Example.org".to_owned(),
        password_hash: "$argon2id$placeholder".to_owned(),
        role: "auditor".to_owned(),
    };
    let user = store::users::create(&mut tx, &user).await.unwrap();
    assert_eq!(user.email, "ann@example.org");
    store::sessions::create(
        &mut tx,
        user.id,
        &token_hash(4),
        Utc::now() + Duration::hours(1),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let session = db
        .store
        .authenticate(&token_hash(4))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.principal_type, "user");
    assert_eq!(session.principal_id, user.id);
    assert_eq!(session.role, "auditor");

    let mut tx = db.store.begin(&context("acme")).await.unwrap();
    let tokens = store::api_tokens::list(&mut tx).await.unwrap();
    store::api_tokens::revoke(&mut tx, tokens[0].id)
        .await
        .unwrap()
        .unwrap();
    store::sessions::revoke(&mut tx, &token_hash(4))
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(db.store.authenticate(&token_hash(1)).await.unwrap(), None);
    assert_eq!(db.store.authenticate(&token_hash(4)).await.unwrap(), None);
}

#[tokio::test]
async fn auth_tables_are_isolated_by_tenant() {
    let db = TestDb::new().await;
    seed_tenant(&db.store, "acme").await;
    seed_tenant(&db.store, "globex").await;
    create_token(&db, "acme", token_hash(1), None).await;

    let pool = db.app_pool(1).await;
    assert_eq!(count_rows(&pool, "api_tokens").await, 0, "no tenant set");

    let mut globex = db.store.begin(&context("globex")).await.unwrap();
    assert!(
        store::api_tokens::list(&mut globex)
            .await
            .unwrap()
            .is_empty()
    );
    let tokens_of_acme =
        store::api_tokens::list(&mut db.store.begin(&context("acme")).await.unwrap())
            .await
            .unwrap();
    let revoked = store::api_tokens::revoke(&mut globex, tokens_of_acme[0].id)
        .await
        .unwrap();
    assert_eq!(revoked, None, "another tenant's token cannot be revoked");
}

#[tokio::test]
async fn lookup_function_is_not_public() {
    let db = TestDb::new().await;
    let admin = db.admin_pool().await;
    let public_can_execute: bool = sqlx::query_scalar(
        "SELECT has_function_privilege('public', 'secruna_authenticate(bytea)', 'EXECUTE')",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert!(!public_can_execute);
    let app_can_execute: bool = sqlx::query_scalar(
        "SELECT has_function_privilege('secruna_app', 'secruna_authenticate(bytea)', 'EXECUTE')",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert!(app_can_execute);
}

#[tokio::test]
async fn read_only_transaction_rejects_writes() {
    let db = TestDb::new().await;
    seed_tenant(&db.store, "acme").await;
    let mut tx = db.store.begin_read_only(&context("acme")).await.unwrap();
    assert_eq!(count_rows(tx.conn_for_tests(), "ai_systems").await, 1);
    let error = sqlx::query("UPDATE ai_systems SET name = 'changed'")
        .execute(tx.conn_for_tests())
        .await
        .unwrap_err();
    let code = error
        .as_database_error()
        .and_then(|error| error.code())
        .unwrap();
    assert_eq!(code, "25006", "read_only_sql_transaction: {error}");
}
