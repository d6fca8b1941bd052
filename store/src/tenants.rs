//! Tenants: the tree of customer organisations.

use tracing::instrument;
use uuid::Uuid;

use crate::{Error, TenantPath, TenantTx};

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRow {
    /// Tenant id.
    pub id: Uuid,
    /// Slug path as given (`acme/emea`).
    pub slug: String,
    /// ltree path of escaped slugs.
    pub path: String,
    /// Whether this call created the tenant.
    pub created: bool,
}

#[derive(sqlx::FromRow)]
struct StoredTenant {
    id: Uuid,
    slug: String,
    path: String,
}

/// Creates the tenant `slug_path` if missing, together with any missing
/// ancestors inside the transaction's tenant, and returns it.
///
/// The tenant must lie within the transaction's tenant. Ancestors above that
/// tenant are not created, because row-level security rejects writes outside
/// the transaction's subtree.
#[instrument(skip_all, name = "store.tenants.ensure", fields(tenant.path = %tx.tenant()))]
pub async fn ensure(tx: &mut TenantTx, slug_path: &str) -> Result<TenantRow, Error> {
    let target = TenantPath::from_slug_path(slug_path)?;
    let context = tx.context().path().clone();
    if !target.is_within(&context) {
        return Err(Error::OutsideTenant {
            requested: target.to_string(),
            context: context.to_string(),
        });
    }

    let mut created = false;
    for path in target.ancestors_and_self() {
        if path.is_within(&context) {
            created = insert_if_missing(tx, &path).await?;
        }
    }

    let stored: StoredTenant =
        sqlx::query_as("SELECT id, slug, path::text AS path FROM tenants WHERE path = $1::ltree")
            .bind(target.as_str())
            .fetch_one(tx.conn())
            .await?;
    Ok(TenantRow {
        id: stored.id,
        slug: stored.slug,
        path: stored.path,
        created,
    })
}

/// Inserts one tenant row unless it exists, and returns whether it was new.
async fn insert_if_missing(tx: &mut TenantTx, path: &TenantPath) -> Result<bool, Error> {
    let parent = path.parent();
    let result = sqlx::query(
        "INSERT INTO tenants (slug, path, parent_path) VALUES ($1, $2::ltree, $3::ltree) \
         ON CONFLICT (path) DO NOTHING",
    )
    .bind(path.slug_path())
    .bind(path.as_str())
    .bind(parent.as_ref().map(TenantPath::as_str))
    .execute(tx.conn())
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Returns the row of the transaction's own tenant, or `None` when no tenant
/// has that path, so callers can tell a missing tenant from an empty one.
#[instrument(skip_all, name = "store.tenants.get_current", fields(tenant.path = %tx.tenant()))]
pub async fn get_current(tx: &mut TenantTx) -> Result<Option<TenantRow>, Error> {
    let path = tx.tenant().to_owned();
    let stored: Option<StoredTenant> =
        sqlx::query_as("SELECT id, slug, path::text AS path FROM tenants WHERE path = $1::ltree")
            .bind(path)
            .fetch_optional(tx.conn())
            .await?;
    Ok(stored.map(|row| TenantRow {
        id: row.id,
        slug: row.slug,
        path: row.path,
        created: false,
    }))
}

/// Lists the transaction's tenant and its subsidiaries, ordered by path.
#[instrument(skip_all, name = "store.tenants.list", fields(tenant.path = %tx.tenant()))]
pub async fn list(tx: &mut TenantTx) -> Result<Vec<TenantRow>, Error> {
    let rows: Vec<StoredTenant> =
        sqlx::query_as("SELECT id, slug, path::text AS path FROM tenants ORDER BY path")
            .fetch_all(tx.conn())
            .await?;
    Ok(rows
        .into_iter()
        .map(|row| TenantRow {
            id: row.id,
            slug: row.slug,
            path: row.path,
            created: false,
        })
        .collect())
}
