//! Framework subscriptions of the transaction's tenant.

use tracing::instrument;

use crate::{Error, TenantTx};

/// Replaces the tenant's subscriptions with `frameworks`; slugs missing from
/// the catalogue are rejected with [`Error::UnknownFrameworks`] naming them.
#[instrument(skip_all, name = "store.subscriptions.set", fields(tenant.path = %tx.tenant(), frameworks.count = frameworks.len()))]
pub async fn set(tx: &mut TenantTx, frameworks: &[&str]) -> Result<(), Error> {
    let unknown: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT requested.slug FROM unnest($1::text[]) AS requested (slug) \
         WHERE NOT EXISTS (SELECT 1 FROM frameworks WHERE frameworks.slug = requested.slug) \
         ORDER BY requested.slug",
    )
    .bind(frameworks)
    .fetch_all(tx.conn())
    .await?;
    if !unknown.is_empty() {
        return Err(Error::UnknownFrameworks { slugs: unknown });
    }

    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "DELETE FROM framework_subscriptions \
         WHERE tenant_path = $1::ltree AND NOT (framework_slug = ANY($2::text[]))",
    )
    .bind(&tenant)
    .bind(frameworks)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO framework_subscriptions (tenant_path, framework_slug) \
         SELECT $1::ltree, slug FROM unnest($2::text[]) AS slug \
         ON CONFLICT ON CONSTRAINT framework_subscriptions_pkey DO NOTHING",
    )
    .bind(&tenant)
    .bind(frameworks)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Lists the slugs the tenant itself subscribes to, sorted.
#[instrument(skip_all, name = "store.subscriptions.list", fields(tenant.path = %tx.tenant()))]
pub async fn list(tx: &mut TenantTx) -> Result<Vec<String>, Error> {
    let tenant = tx.tenant().to_owned();
    let slugs = sqlx::query_scalar(
        "SELECT framework_slug FROM framework_subscriptions \
         WHERE tenant_path = $1::ltree ORDER BY framework_slug",
    )
    .bind(&tenant)
    .fetch_all(tx.conn())
    .await?;
    Ok(slugs)
}
