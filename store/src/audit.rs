//! The per-tenant audit chain: append and verify.
//!
//! Each row stores `row_hash = SHA-256(prev_hash || canonical row)`, where
//! `prev_hash` is the previous row's hash (32 zero bytes for the first row)
//! and the canonical form is a JSON array of the fields in a fixed order. Appends lock the
//! tenant's row in `audit_chain_heads`, so concurrent writers queue behind
//! each other instead of forking the chain.

mod canonical;

use std::net::IpAddr;

use chrono::{DateTime, SubsecRound, Utc};
use futures::TryStreamExt;
use tracing::instrument;
use uuid::Uuid;

use self::canonical::HashedRow;
use crate::{Error, TenantTx};

/// `prev_hash` of the first row of every chain.
const GENESIS_HASH: [u8; 32] = [0; 32];

/// A change to record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Kind of actor (`user`, `token`, `staff`, `system`).
    pub actor_type: String,
    /// Id of the user, token or staff member.
    pub actor_id: String,
    /// Kind of entity changed (`scan`, `subscription`).
    pub entity_type: String,
    /// Id of the entity changed.
    pub entity_id: String,
    /// Action taken on the entity (`create`, `update`, `delete`).
    pub action: String,
    /// JSON description of the change.
    pub diff: serde_json::Value,
    /// Client address, when the change came over the network.
    pub ip: Option<IpAddr>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Request id for correlation with logs.
    pub request_id: Option<String>,
}

/// A row appended to the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Row id.
    pub id: Uuid,
    /// Position in the tenant's chain, from 1.
    pub seq: i64,
    /// Time of the change, truncated to microseconds.
    pub occurred_at: DateTime<Utc>,
    /// Hash of the previous row, hex.
    pub prev_hash: String,
    /// Hash of this row, hex.
    pub row_hash: String,
}

/// Result of checking a tenant's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Rows read before the first bad one, or all rows.
    pub rows_checked: u64,
    /// First row that breaks the chain, `None` when the chain is intact.
    pub first_bad: Option<BadRow>,
}

/// A row that breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// Position in the chain.
    pub seq: i64,
    /// Row id, `None` when the row is missing.
    pub id: Option<Uuid>,
    /// Description of the fault.
    pub reason: String,
}

#[derive(sqlx::FromRow)]
struct ChainHead {
    last_seq: i64,
    last_hash: Vec<u8>,
}

/// Appends `entry` to the chain of the transaction's tenant.
///
/// The chain head stays locked until the transaction ends, so keep the
/// transaction short after an append.
#[instrument(skip_all, name = "store.audit.append", fields(tenant.path = %tx.tenant(), audit.action = %entry.action))]
pub async fn append(tx: &mut TenantTx, entry: AuditEntry) -> Result<AuditRow, Error> {
    let tenant = tx.tenant().to_owned();
    let diff: serde_json::Value = sqlx::query_scalar("SELECT $1::jsonb")
        .bind(&entry.diff)
        .fetch_one(tx.conn())
        .await?;
    let head = lock_head(tx, &tenant).await?;

    let id = Uuid::now_v7();
    let seq = head.last_seq + 1;
    let occurred_at = Utc::now().trunc_subsecs(6);
    let row = HashedRow {
        tenant_path: &tenant,
        seq,
        id,
        actor_type: &entry.actor_type,
        actor_id: &entry.actor_id,
        entity_type: &entry.entity_type,
        entity_id: &entry.entity_id,
        action: &entry.action,
        diff: &diff,
        occurred_at,
        ip: entry.ip,
        user_agent: entry.user_agent.as_deref(),
        request_id: entry.request_id.as_deref(),
    };
    let row_hash = row.hash(&head.last_hash);

    sqlx::query(
        "INSERT INTO audit_log (id, tenant_path, seq, actor_type, actor_id, entity_type, \
             entity_id, action, diff, occurred_at, ip, user_agent, request_id, prev_hash, row_hash) \
         VALUES ($1, $2::ltree, $3, $4, $5, $6, $7, $8, $9, $10, $11::inet, $12, $13, $14, $15)",
    )
    .bind(id)
    .bind(&tenant)
    .bind(seq)
    .bind(&entry.actor_type)
    .bind(&entry.actor_id)
    .bind(&entry.entity_type)
    .bind(&entry.entity_id)
    .bind(&entry.action)
    .bind(&diff)
    .bind(occurred_at)
    .bind(entry.ip.map(|ip| ip.to_string()))
    .bind(&entry.user_agent)
    .bind(&entry.request_id)
    .bind(&head.last_hash)
    .bind(&row_hash[..])
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE audit_chain_heads SET last_seq = $2, last_hash = $3 WHERE tenant_path = $1::ltree",
    )
    .bind(&tenant)
    .bind(seq)
    .bind(&row_hash[..])
    .execute(tx.conn())
    .await?;

    Ok(AuditRow {
        id,
        seq,
        occurred_at,
        prev_hash: hex::encode(&head.last_hash),
        row_hash: hex::encode(row_hash),
    })
}

/// Creates the tenant's chain head if missing and locks it FOR UPDATE.
async fn lock_head(tx: &mut TenantTx, tenant: &str) -> Result<ChainHead, Error> {
    sqlx::query(
        "INSERT INTO audit_chain_heads (tenant_path, last_seq, last_hash) \
         VALUES ($1::ltree, 0, $2) ON CONFLICT ON CONSTRAINT audit_chain_heads_pkey DO NOTHING",
    )
    .bind(tenant)
    .bind(&GENESIS_HASH[..])
    .execute(tx.conn())
    .await?;
    let head = sqlx::query_as(
        "SELECT last_seq, last_hash FROM audit_chain_heads \
         WHERE tenant_path = $1::ltree FOR UPDATE",
    )
    .bind(tenant)
    .fetch_one(tx.conn())
    .await?;
    Ok(head)
}

#[derive(sqlx::FromRow)]
struct StoredRow {
    id: Uuid,
    seq: i64,
    actor_type: String,
    actor_id: String,
    entity_type: String,
    entity_id: String,
    action: String,
    diff: serde_json::Value,
    occurred_at: DateTime<Utc>,
    ip: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
    prev_hash: Vec<u8>,
    row_hash: Vec<u8>,
}

/// Recomputes the chain of the transaction's own tenant (not its
/// subsidiaries') and names the first row that does not match.
#[instrument(skip_all, name = "store.audit.verify", fields(tenant.path = %tx.tenant()))]
pub async fn verify(tx: &mut TenantTx) -> Result<VerifyReport, Error> {
    let tenant = tx.tenant().to_owned();
    let mut expected_prev = GENESIS_HASH.to_vec();
    let mut expected_seq = 1;
    let mut rows_checked = 0;
    {
        let mut rows = sqlx::query_as::<_, StoredRow>(
            "SELECT id, seq, actor_type, actor_id, entity_type, entity_id, action, diff, \
                 occurred_at, host(ip) AS ip, user_agent, request_id, prev_hash, row_hash \
             FROM audit_log WHERE tenant_path = $1::ltree ORDER BY seq",
        )
        .bind(&tenant)
        .fetch(tx.conn());
        while let Some(row) = rows.try_next().await? {
            if let Some(reason) = check_row(&tenant, &row, expected_seq, &expected_prev) {
                let first_bad = BadRow {
                    seq: row.seq,
                    id: Some(row.id),
                    reason,
                };
                return Ok(report(rows_checked, Some(first_bad)));
            }
            rows_checked += 1;
            expected_seq = row.seq + 1;
            expected_prev = row.row_hash;
        }
    }

    let head: Option<ChainHead> = sqlx::query_as(
        "SELECT last_seq, last_hash FROM audit_chain_heads WHERE tenant_path = $1::ltree",
    )
    .bind(&tenant)
    .fetch_optional(tx.conn())
    .await?;
    let last_seq = expected_seq - 1;
    let first_bad = match head {
        Some(head) if head.last_seq != last_seq || head.last_hash != expected_prev => {
            Some(BadRow {
                seq: head.last_seq,
                id: None,
                reason: format!(
                    "chain head points at seq {} but the chain ends at seq {last_seq}; rows were removed or the head was changed",
                    head.last_seq
                ),
            })
        }
        None if last_seq > 0 => Some(BadRow {
            seq: last_seq,
            id: None,
            reason: "chain head is missing".to_owned(),
        }),
        _ => None,
    };
    Ok(report(rows_checked, first_bad))
}

fn report(rows_checked: u64, first_bad: Option<BadRow>) -> VerifyReport {
    VerifyReport {
        rows_checked,
        first_bad,
    }
}

/// Returns why `row` breaks the chain, or `None` when it fits.
fn check_row(
    tenant: &str,
    row: &StoredRow,
    expected_seq: i64,
    expected_prev: &[u8],
) -> Option<String> {
    if row.seq != expected_seq {
        return Some(format!(
            "expected seq {expected_seq} but found seq {}; rows are missing",
            row.seq
        ));
    }
    if row.prev_hash != expected_prev {
        return Some("prev_hash does not match the previous row's hash".to_owned());
    }
    let Ok(ip) = row.ip.as_deref().map(str::parse::<IpAddr>).transpose() else {
        return Some(format!("stored ip {:?} is not an address", row.ip));
    };
    let hashed = HashedRow {
        tenant_path: tenant,
        seq: row.seq,
        id: row.id,
        actor_type: &row.actor_type,
        actor_id: &row.actor_id,
        entity_type: &row.entity_type,
        entity_id: &row.entity_id,
        action: &row.action,
        diff: &row.diff,
        occurred_at: row.occurred_at,
        ip,
        user_agent: row.user_agent.as_deref(),
        request_id: row.request_id.as_deref(),
    };
    if hashed.hash(&row.prev_hash)[..] != row.row_hash[..] {
        return Some("row_hash does not match the row's contents".to_owned());
    }
    None
}
