//! Findings: raw discoveries, upserted in batches and resolved when gone.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use tracing::instrument;
use uuid::Uuid;

use crate::{Error, TenantTx};

/// Rows per INSERT statement, keeping the bind count (15 per row) well under
/// the protocol limit of 65535.
const ROWS_PER_STATEMENT: usize = 1000;

/// Values of one finding as produced by a connector.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingUpsert {
    /// AI system the finding was grouped into.
    pub system_id: Uuid,
    /// Finding source (`code`).
    pub source: String,
    /// Crawl scope (scan root, account and region).
    pub scope: String,
    /// Stable id, the upsert key with `source`.
    pub external_id: String,
    /// Finding kind.
    pub kind: String,
    /// Canonical name of what was found.
    pub subject: String,
    /// Location inside the scope.
    pub path: String,
    /// First line, 1-based.
    pub line: Option<i32>,
    /// Detector confidence from 0 to 1.
    pub confidence: f32,
    /// Owning project root relative to the scope.
    pub project_root: String,
    /// Detector attributes (JSON object).
    pub attributes: serde_json::Value,
    /// Redacted evidence snippet.
    pub evidence: Option<String>,
    /// Scan that saw the finding.
    pub scan_id: Uuid,
}

/// A finding as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FindingRow {
    /// Finding id.
    pub id: Uuid,
    /// AI system it belongs to.
    pub system_id: Uuid,
    /// Finding source.
    pub source: String,
    /// Crawl scope.
    pub scope: String,
    /// Stable id.
    pub external_id: String,
    /// Finding kind.
    pub kind: String,
    /// Canonical name of what was found.
    pub subject: String,
    /// Location inside the scope.
    pub path: String,
    /// First line, 1-based.
    pub line: Option<i32>,
    /// Detector confidence.
    pub confidence: f32,
    /// Owning project root.
    pub project_root: String,
    /// Detector attributes.
    pub attributes: serde_json::Value,
    /// Redacted evidence snippet.
    pub evidence: Option<String>,
    /// `open` or `resolved`.
    pub status: String,
    /// When the finding was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Inserts or updates findings and returns how many rows were inserted or
/// changed. Unchanged open findings are not written; a resolved finding that
/// is seen again reopens. When the batch repeats a key, the last entry wins.
#[instrument(skip_all, name = "store.findings.upsert_batch", fields(tenant.path = %tx.tenant(), findings.count = findings.len()))]
pub async fn upsert_batch(tx: &mut TenantTx, findings: &[FindingUpsert]) -> Result<u64, Error> {
    let unique = last_per_key(findings);
    let tenant = tx.tenant().to_owned();
    let mut num_written = 0;
    for chunk in unique.chunks(ROWS_PER_STATEMENT) {
        let mut builder = QueryBuilder::<Postgres>::new(
            "INSERT INTO findings (tenant_path, system_id, source, scope, external_id, kind, \
                 subject, path, line, confidence, project_root, attributes, evidence, \
                 first_scan_id, changed_scan_id) ",
        );
        builder.push_values(chunk, |mut row, finding| {
            row.push_bind(&tenant)
                .push_unseparated("::ltree")
                .push_bind(finding.system_id)
                .push_bind(&finding.source)
                .push_bind(&finding.scope)
                .push_bind(&finding.external_id)
                .push_bind(&finding.kind)
                .push_bind(&finding.subject)
                .push_bind(&finding.path)
                .push_bind(finding.line)
                .push_bind(finding.confidence)
                .push_bind(&finding.project_root)
                .push_bind(&finding.attributes)
                .push_bind(&finding.evidence)
                .push_bind(finding.scan_id)
                .push_bind(finding.scan_id);
        });
        builder.push(
            " ON CONFLICT ON CONSTRAINT findings_source_external_id_key DO UPDATE SET \
                 system_id = excluded.system_id, scope = excluded.scope, kind = excluded.kind, \
                 subject = excluded.subject, path = excluded.path, line = excluded.line, \
                 confidence = excluded.confidence, project_root = excluded.project_root, \
                 attributes = excluded.attributes, evidence = excluded.evidence, \
                 status = 'open', resolved_at = NULL, \
                 changed_scan_id = excluded.changed_scan_id, updated_at = now() \
             WHERE findings.status <> 'open' \
                OR (findings.system_id, findings.scope, findings.kind, findings.subject, \
                    findings.path, findings.line, findings.confidence, findings.project_root, \
                    findings.attributes, findings.evidence) \
                IS DISTINCT FROM (excluded.system_id, excluded.scope, excluded.kind, \
                    excluded.subject, excluded.path, excluded.line, excluded.confidence, \
                    excluded.project_root, excluded.attributes, excluded.evidence)",
        );
        num_written += builder.build().execute(tx.conn()).await?.rows_affected();
    }
    Ok(num_written)
}

/// Keeps the last finding for each `(source, external_id)`, because one
/// INSERT ... ON CONFLICT statement cannot touch the same row twice.
fn last_per_key(findings: &[FindingUpsert]) -> Vec<&FindingUpsert> {
    let mut index_by_key: HashMap<(&str, &str), usize> = HashMap::new();
    let mut unique: Vec<&FindingUpsert> = Vec::with_capacity(findings.len());
    for finding in findings {
        let key = (finding.source.as_str(), finding.external_id.as_str());
        match index_by_key.get(&key) {
            Some(&index) => unique[index] = finding,
            None => {
                index_by_key.insert(key, unique.len());
                unique.push(finding);
            }
        }
    }
    unique
}

/// Resolves the open findings of `source` and `scope` whose external ids are
/// not in `seen_external_ids`, and returns how many were resolved. Rows are
/// kept, so history and evidence survive.
#[instrument(skip_all, name = "store.findings.resolve_missing", fields(tenant.path = %tx.tenant(), scan.id = %scan_id, findings.seen = seen_external_ids.len()))]
pub async fn resolve_missing(
    tx: &mut TenantTx,
    source: &str,
    scope: &str,
    seen_external_ids: &[String],
    scan_id: Uuid,
) -> Result<u64, Error> {
    let tenant = tx.tenant().to_owned();
    let result = sqlx::query(
        "UPDATE findings SET status = 'resolved', resolved_at = now(), \
             changed_scan_id = $5, updated_at = now() \
         WHERE tenant_path = $1::ltree AND source = $2 AND scope = $3 AND status = 'open' \
             AND NOT (external_id = ANY($4::text[]))",
    )
    .bind(&tenant)
    .bind(source)
    .bind(scope)
    .bind(seen_external_ids)
    .bind(scan_id)
    .execute(tx.conn())
    .await?;
    Ok(result.rows_affected())
}

/// Lists the open findings of one system, ordered by path and line.
#[instrument(skip_all, name = "store.findings.list_open_for_system", fields(tenant.path = %tx.tenant(), system.id = %system_id))]
pub async fn list_open_for_system(
    tx: &mut TenantTx,
    system_id: Uuid,
) -> Result<Vec<FindingRow>, Error> {
    let rows = sqlx::query_as(
        "SELECT id, system_id, source, scope, external_id, kind, subject, path, line, \
             confidence, project_root, attributes, evidence, status, resolved_at \
         FROM findings WHERE system_id = $1 AND status = 'open' \
         ORDER BY path, line NULLS FIRST, kind, subject",
    )
    .bind(system_id)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}
