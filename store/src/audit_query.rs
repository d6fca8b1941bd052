//! Reads of the audit trail for the REST API: filtered pages and a stream
//! for exports of any size.

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use tracing::instrument;
use uuid::Uuid;

use crate::listing::PageRequest;
use crate::{Error, TenantTx};

/// Filters of the audit list; `None` does not restrict it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only rows of this actor id.
    pub actor_id: Option<String>,
    /// Only rows about this kind of entity.
    pub entity_type: Option<String>,
    /// Only rows about this entity id.
    pub entity_id: Option<String>,
    /// Only rows at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only rows before this time.
    pub to: Option<DateTime<Utc>>,
}

/// An audit row as listed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditItem {
    /// Row id (UUIDv7).
    pub id: Uuid,
    /// Tenant whose chain holds the row.
    pub tenant_path: String,
    /// Position in that chain.
    pub seq: i64,
    /// Kind of actor.
    pub actor_type: String,
    /// Actor id.
    pub actor_id: String,
    /// Kind of entity changed.
    pub entity_type: String,
    /// Entity id.
    pub entity_id: String,
    /// Action taken.
    pub action: String,
    /// JSON description of the change.
    pub diff: serde_json::Value,
    /// UTC time of the change; the pagination key with `id`.
    pub occurred_at: DateTime<Utc>,
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// Hash of the previous row, hex.
    pub prev_hash: String,
    /// Hash of this row, hex.
    pub row_hash: String,
}

/// Select list and filter shared by the page and the stream; `$6`, `$7` are
/// the cursor.
macro_rules! audit_select {
    () => {
        "SELECT id, tenant_path::text AS tenant_path, seq, actor_type, actor_id, entity_type, \
             entity_id, action, diff, occurred_at, host(ip) AS ip, user_agent, request_id, \
             encode(prev_hash, 'hex') AS prev_hash, encode(row_hash, 'hex') AS row_hash \
         FROM audit_log \
         WHERE ($1::text IS NULL OR actor_id = $1) \
             AND ($2::text IS NULL OR entity_type = $2) \
             AND ($3::text IS NULL OR entity_id = $3) \
             AND ($4::timestamptz IS NULL OR occurred_at >= $4) \
             AND ($5::timestamptz IS NULL OR occurred_at < $5) \
             AND ($6::timestamptz IS NULL OR (occurred_at, id) > ($6, $7::uuid)) \
         ORDER BY occurred_at, id"
    };
}

/// Lists audit rows visible to the tenant (its own chain and its
/// subsidiaries'), oldest first.
#[instrument(skip_all, name = "store.audit_query.page", fields(tenant.path = %tx.tenant()))]
pub async fn page(
    tx: &mut TenantTx,
    filter: &AuditFilter,
    page: PageRequest,
) -> Result<Vec<AuditItem>, Error> {
    let rows = sqlx::query_as(concat!(audit_select!(), " LIMIT $8"))
        .bind(&filter.actor_id)
        .bind(&filter.entity_type)
        .bind(&filter.entity_id)
        .bind(filter.from)
        .bind(filter.to)
        .bind(page.after.map(|cursor| cursor.at))
        .bind(page.after.map(|cursor| cursor.id))
        .bind(page.limit)
        .fetch_all(tx.conn())
        .await?;
    Ok(rows)
}

/// Streams every matching audit row, oldest first, without loading them all
/// into memory; rows arrive as Postgres sends them.
pub fn stream<'a>(
    tx: &'a mut TenantTx,
    filter: &AuditFilter,
) -> BoxStream<'a, Result<AuditItem, Error>> {
    sqlx::query_as::<_, AuditItem>(audit_select!())
        .bind(filter.actor_id.clone())
        .bind(filter.entity_type.clone())
        .bind(filter.entity_id.clone())
        .bind(filter.from)
        .bind(filter.to)
        .bind(None::<DateTime<Utc>>)
        .bind(None::<Uuid>)
        .fetch(tx.conn())
        .map_err(Error::from)
        .boxed()
}
