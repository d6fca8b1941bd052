//! Facts about an AI system declared through the API, and the classification
//! recomputed from them.

use tracing::instrument;
use uuid::Uuid;

use crate::{Error, TenantTx};

/// A system's classification, recomputed after its declared facts changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Reclassified {
    /// Declaration fields set through the API (a JSON object).
    pub declared: serde_json::Value,
    /// Display name.
    pub name: String,
    /// EU AI Act risk class.
    pub risk_class: String,
    /// Annex III area slug.
    pub annex_iii_area: Option<String>,
    /// Whether the system builds on a general-purpose AI model.
    pub gpai: bool,
    /// Reasons for the risk class (JSON array of strings).
    pub reasons: serde_json::Value,
    /// Confidence from 0 to 1.
    pub confidence: f32,
    /// Facts for the rule book (JSON object).
    pub facts: serde_json::Value,
}

/// Returns the declared facts and the last scan of a system visible to the
/// tenant; `None` when there is no such system.
#[instrument(skip_all, name = "store.declared.get", fields(tenant.path = %tx.tenant(), system.id = %id))]
pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<(serde_json::Value, Uuid)>, Error> {
    let row = sqlx::query_as("SELECT declared, changed_scan_id FROM ai_systems WHERE id = $1")
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    Ok(row)
}

/// Returns the declared facts of the system with this upsert key, if it exists and
/// has any. Scans read them so that facts declared through the API survive a rescan.
#[instrument(skip_all, name = "store.declared.get_by_key", fields(tenant.path = %tx.tenant()))]
pub async fn get_by_key(
    tx: &mut TenantTx,
    source: &str,
    external_id: &str,
) -> Result<Option<serde_json::Value>, Error> {
    let row: Option<(Option<serde_json::Value>,)> =
        sqlx::query_as("SELECT declared FROM ai_systems WHERE source = $1 AND external_id = $2")
            .bind(source)
            .bind(external_id)
            .fetch_optional(tx.conn())
            .await?;
    Ok(row.and_then(|(declared,)| declared))
}

/// Stores declared facts and the classification computed from them. The
/// system's last scan stays as it is, because no scan made this change.
#[instrument(skip_all, name = "store.declared.reclassify", fields(tenant.path = %tx.tenant(), system.id = %id))]
pub async fn reclassify(tx: &mut TenantTx, id: Uuid, update: &Reclassified) -> Result<(), Error> {
    let result = sqlx::query(
        "UPDATE ai_systems SET declared = $2, name = $3, risk_class = $4, annex_iii_area = $5, \
         gpai = $6, reasons = $7, confidence = $8, facts = $9, updated_at = now() \
         WHERE id = $1",
    )
    .bind(id)
    .bind(&update.declared)
    .bind(&update.name)
    .bind(&update.risk_class)
    .bind(update.annex_iii_area.as_deref())
    .bind(update.gpai)
    .bind(&update.reasons)
    .bind(update.confidence)
    .bind(&update.facts)
    .execute(tx.conn())
    .await?;
    if result.rows_affected() == 0 {
        return Err(Error::NotFound {
            entity: "system",
            id: id.to_string(),
            tenant: tx.tenant().to_owned(),
        });
    }
    Ok(())
}
