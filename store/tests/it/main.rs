//! Integration tests on a real PostgreSQL: tenant isolation, role checks,
//! idempotent upserts, the audit chain and the embedded cluster.

mod audit;
mod auth;
mod connect;
mod embedded;
mod isolation;
mod scan_scopes;
mod schema;
mod slugs;
mod upserts;

use store::scans::NewScan;
use store::systems::SystemUpsert;
use store::{Store, TenantContext, TenantPath};
use uuid::Uuid;

/// Tables with a tenant_path column and row-level security.
const TENANT_TABLES: [&str; 18] = [
    "tenants",
    "framework_subscriptions",
    "connectors",
    "scans",
    "ai_systems",
    "findings",
    "evaluations",
    "audit_log",
    "audit_chain_heads",
    "users",
    "sessions",
    "api_tokens",
    "webhook_endpoints",
    "webhook_outbox",
    "webhook_deliveries",
    "scan_scopes",
    "reviews",
    "review_links",
];

fn context(slug_path: &str) -> TenantContext {
    TenantContext::new(TenantPath::from_slug_path(slug_path).unwrap())
}

fn system(external_id: &str, scan_id: Uuid) -> SystemUpsert {
    SystemUpsert {
        source: "code".to_owned(),
        external_id: external_id.to_owned(),
        name: external_id.to_owned(),
        root: ".".to_owned(),
        kinds: vec!["calls_hosted_model_api".to_owned()],
        risk_class: "limited".to_owned(),
        annex_iii_area: None,
        gpai: true,
        reasons: serde_json::json!(["calls the OpenAI API"]),
        confidence: 0.75,
        facts: serde_json::json!({"system.role": "deployer"}),
        scan_id,
    }
}

/// Creates the tenant, a scan and one AI system in it; returns the scan and
/// system ids.
async fn seed_tenant(store: &Store, slug_path: &str) -> (Uuid, Uuid) {
    let mut tx = store.begin(&context(slug_path)).await.unwrap();
    store::tenants::ensure(&mut tx, slug_path).await.unwrap();
    let scan = store::scans::create(
        &mut tx,
        NewScan {
            source: "code".to_owned(),
            target: format!("/src/{slug_path}"),
            requested_by: "test".to_owned(),
        },
    )
    .await
    .unwrap();
    let upserted =
        store::systems::upsert(&mut tx, &system(&format!("{slug_path}-system"), scan.id))
            .await
            .unwrap();
    tx.commit().await.unwrap();
    (scan.id, upserted.id)
}

/// Counts the rows of `table` visible on `executor`.
async fn count_rows<'e, E>(executor: E, table: &str) -> i64
where
    E: sqlx::PgExecutor<'e>,
{
    let statement = format!("SELECT count(*) FROM {table}");
    sqlx::query_scalar(sqlx::AssertSqlSafe(statement))
        .fetch_one(executor)
        .await
        .unwrap()
}
