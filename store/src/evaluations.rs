//! Evaluations: the latest verdict of each rule for each system.

use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use tracing::instrument;
use uuid::Uuid;

use crate::{Error, TenantTx};

/// Rows per INSERT statement (8 binds per row).
const ROWS_PER_STATEMENT: usize = 2000;

/// One verdict to store.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationUpsert {
    /// Evaluated system.
    pub system_id: Uuid,
    /// Framework slug; must be in the catalogue.
    pub framework: String,
    /// Rule id within the framework.
    pub rule_id: String,
    /// Verdict from the framework's vocabulary.
    pub status: String,
    /// Reasons for the verdict (JSON array of strings).
    pub reasons: serde_json::Value,
    /// Evidence the rule requires (JSON array).
    pub evidence_required: serde_json::Value,
    /// Scan whose results were evaluated.
    pub scan_id: Uuid,
}

/// A verdict as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EvaluationRow {
    /// Evaluation id.
    pub id: Uuid,
    /// Evaluated system.
    pub system_id: Uuid,
    /// Framework slug.
    pub framework: String,
    /// Rule id.
    pub rule_id: String,
    /// Verdict.
    pub status: String,
    /// Reasons for the verdict.
    pub reasons: serde_json::Value,
    /// Evidence the rule requires.
    pub evidence_required: serde_json::Value,
    /// Scan that last changed the verdict.
    pub changed_scan_id: Uuid,
    /// Last change time.
    pub updated_at: DateTime<Utc>,
}

/// Inserts or updates verdicts and returns how many rows were inserted or
/// changed; unchanged verdicts are not written. A batch must not repeat a
/// `(system_id, framework, rule_id)` key.
#[instrument(skip_all, name = "store.evaluations.upsert_batch", fields(tenant.path = %tx.tenant(), evaluations.count = evaluations.len()))]
pub async fn upsert_batch(
    tx: &mut TenantTx,
    evaluations: &[EvaluationUpsert],
) -> Result<u64, Error> {
    let tenant = tx.tenant().to_owned();
    let mut num_written = 0;
    for chunk in evaluations.chunks(ROWS_PER_STATEMENT) {
        let mut builder = QueryBuilder::<Postgres>::new(
            "INSERT INTO evaluations (tenant_path, system_id, framework, rule_id, status, \
                 reasons, evidence_required, changed_scan_id) ",
        );
        builder.push_values(chunk, |mut row, evaluation| {
            row.push_bind(&tenant)
                .push_unseparated("::ltree")
                .push_bind(evaluation.system_id)
                .push_bind(&evaluation.framework)
                .push_bind(&evaluation.rule_id)
                .push_bind(&evaluation.status)
                .push_bind(&evaluation.reasons)
                .push_bind(&evaluation.evidence_required)
                .push_bind(evaluation.scan_id);
        });
        builder.push(
            " ON CONFLICT ON CONSTRAINT evaluations_system_rule_key DO UPDATE SET \
                 status = excluded.status, reasons = excluded.reasons, \
                 evidence_required = excluded.evidence_required, \
                 changed_scan_id = excluded.changed_scan_id, updated_at = now() \
             WHERE (evaluations.status, evaluations.reasons, evaluations.evidence_required) \
                 IS DISTINCT FROM (excluded.status, excluded.reasons, excluded.evidence_required)",
        );
        num_written += builder.build().execute(tx.conn()).await?.rows_affected();
    }
    Ok(num_written)
}

/// Lists the verdicts of one system, ordered by framework and rule.
#[instrument(skip_all, name = "store.evaluations.list_for_system", fields(tenant.path = %tx.tenant(), system.id = %system_id))]
pub async fn list_for_system(
    tx: &mut TenantTx,
    system_id: Uuid,
) -> Result<Vec<EvaluationRow>, Error> {
    let rows = sqlx::query_as(
        "SELECT id, system_id, framework, rule_id, status, reasons, evidence_required, \
             changed_scan_id, updated_at \
         FROM evaluations WHERE system_id = $1 ORDER BY framework, rule_id",
    )
    .bind(system_id)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}
