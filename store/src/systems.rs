//! AI systems: findings grouped and classified.

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use crate::{Error, TenantTx};

/// Values of one AI system as produced by classification.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemUpsert {
    /// Finding source (`code`).
    pub source: String,
    /// Stable id from the source, the upsert key with `source`.
    pub external_id: String,
    /// Display name.
    pub name: String,
    /// Project root or anchoring resource.
    pub root: String,
    /// Kinds of AI use (`calls_hosted_model_api`, ...).
    pub kinds: Vec<String>,
    /// EU AI Act risk class.
    pub risk_class: String,
    /// Annex III area slug when high-risk under Annex III.
    pub annex_iii_area: Option<String>,
    /// Whether the system builds on a general-purpose AI model.
    pub gpai: bool,
    /// Reasons for the classification (JSON array of strings).
    pub reasons: serde_json::Value,
    /// Confidence from 0 to 1.
    pub confidence: f32,
    /// Facts for the rule book (JSON object).
    pub facts: serde_json::Value,
    /// Scan that produced these values.
    pub scan_id: Uuid,
}

/// Outcome of an upsert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upserted {
    /// Row id, new or existing.
    pub id: Uuid,
    /// Whether the row was inserted or its values changed.
    pub changed: bool,
}

/// An AI system as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SystemRow {
    /// System id.
    pub id: Uuid,
    /// Owning tenant path.
    pub tenant_path: String,
    /// Finding source.
    pub source: String,
    /// Stable id from the source.
    pub external_id: String,
    /// Display name.
    pub name: String,
    /// Project root or anchoring resource.
    pub root: String,
    /// Kinds of AI use.
    pub kinds: Vec<String>,
    /// EU AI Act risk class.
    pub risk_class: String,
    /// Annex III area slug.
    pub annex_iii_area: Option<String>,
    /// Whether the system builds on a general-purpose AI model.
    pub gpai: bool,
    /// Classification reasons.
    pub reasons: serde_json::Value,
    /// Confidence from 0 to 1.
    pub confidence: f32,
    /// Facts for the rule book.
    pub facts: serde_json::Value,
    /// Scan that first found the system.
    pub first_scan_id: Uuid,
    /// Scan that last changed the row.
    pub changed_scan_id: Uuid,
    /// Last change time.
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct UpsertOutcome {
    id: Uuid,
}

/// Inserts the system or updates it when a value differs; an unchanged
/// system is not written, so its row version stays the same.
#[instrument(skip_all, name = "store.systems.upsert", fields(tenant.path = %tx.tenant(), system.external_id = %system.external_id))]
pub async fn upsert(tx: &mut TenantTx, system: &SystemUpsert) -> Result<Upserted, Error> {
    let tenant = tx.tenant().to_owned();
    let written: Option<UpsertOutcome> = sqlx::query_as(
        "INSERT INTO ai_systems (tenant_path, source, external_id, name, root, kinds, risk_class, \
             annex_iii_area, gpai, reasons, confidence, facts, first_scan_id, changed_scan_id) \
         VALUES ($1::ltree, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
         ON CONFLICT ON CONSTRAINT ai_systems_source_external_id_key DO UPDATE SET \
             name = excluded.name, root = excluded.root, kinds = excluded.kinds, \
             risk_class = excluded.risk_class, annex_iii_area = excluded.annex_iii_area, \
             gpai = excluded.gpai, reasons = excluded.reasons, confidence = excluded.confidence, \
             facts = excluded.facts, changed_scan_id = excluded.changed_scan_id, updated_at = now() \
         WHERE (ai_systems.name, ai_systems.root, ai_systems.kinds, ai_systems.risk_class, \
                ai_systems.annex_iii_area, ai_systems.gpai, ai_systems.reasons, \
                ai_systems.confidence, ai_systems.facts) \
             IS DISTINCT FROM (excluded.name, excluded.root, excluded.kinds, excluded.risk_class, \
                excluded.annex_iii_area, excluded.gpai, excluded.reasons, excluded.confidence, \
                excluded.facts) \
         RETURNING id",
    )
    .bind(&tenant)
    .bind(&system.source)
    .bind(&system.external_id)
    .bind(&system.name)
    .bind(&system.root)
    .bind(&system.kinds)
    .bind(&system.risk_class)
    .bind(&system.annex_iii_area)
    .bind(system.gpai)
    .bind(&system.reasons)
    .bind(system.confidence)
    .bind(&system.facts)
    .bind(system.scan_id)
    .fetch_optional(tx.conn())
    .await?;
    if let Some(written) = written {
        return Ok(Upserted {
            id: written.id,
            changed: true,
        });
    }

    let id = sqlx::query_scalar(
        "SELECT id FROM ai_systems WHERE tenant_path = $1::ltree AND source = $2 AND external_id = $3",
    )
    .bind(&tenant)
    .bind(&system.source)
    .bind(&system.external_id)
    .fetch_one(tx.conn())
    .await?;
    Ok(Upserted { id, changed: false })
}

/// Lists the systems visible to the tenant (its own and its subsidiaries'),
/// ordered by tenant, root and name.
#[instrument(skip_all, name = "store.systems.list", fields(tenant.path = %tx.tenant()))]
pub async fn list(tx: &mut TenantTx) -> Result<Vec<SystemRow>, Error> {
    let rows = sqlx::query_as(
        "SELECT id, tenant_path::text AS tenant_path, source, external_id, name, root, kinds, \
             risk_class, annex_iii_area, gpai, reasons, confidence, facts, first_scan_id, \
             changed_scan_id, updated_at \
         FROM ai_systems ORDER BY tenant_path, root, name",
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Returns the risk class of the system with this upsert key, or `None` when the tenant
/// has no such system yet. The writer compares it with the new class to raise events.
#[instrument(skip_all, name = "store.systems.risk_class_by_key", fields(tenant.path = %tx.tenant()))]
pub async fn risk_class_by_key(
    tx: &mut TenantTx,
    source: &str,
    external_id: &str,
) -> Result<Option<String>, Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT risk_class FROM ai_systems WHERE source = $1 AND external_id = $2")
            .bind(source)
            .bind(external_id)
            .fetch_optional(tx.conn())
            .await?;
    Ok(row.map(|(risk_class,)| risk_class))
}
