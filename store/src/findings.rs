//! Findings: raw discoveries, upserted in batches and resolved when gone.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use crate::{Error, TenantTx};

/// Rows per INSERT statement. The parameters are arrays, so this bounds the size of one
/// message rather than the bind count.
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
    let mut unique = last_per_key(findings);
    // Rows are locked in key order, so two transactions that upsert overlapping findings
    // queue behind each other instead of deadlocking.
    unique.sort_unstable_by(|left, right| {
        (left.source.as_str(), left.external_id.as_str())
            .cmp(&(right.source.as_str(), right.external_id.as_str()))
    });
    let tenant = tx.tenant().to_owned();
    let mut num_written = 0;
    for chunk in unique.chunks(ROWS_PER_STATEMENT) {
        let columns = Columns::of(chunk);
        num_written += sqlx::query(UPSERT)
            .bind(&tenant)
            .bind(&columns.system_id)
            .bind(&columns.source)
            .bind(&columns.scope)
            .bind(&columns.external_id)
            .bind(&columns.kind)
            .bind(&columns.subject)
            .bind(&columns.path)
            .bind(&columns.line)
            .bind(&columns.confidence)
            .bind(&columns.project_root)
            .bind(&columns.attributes)
            .bind(&columns.evidence)
            .bind(&columns.scan_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
    }
    Ok(num_written)
}

/// The upsert of [`upsert_batch`]. Every column travels as one array parameter, so the
/// statement text is the same for any number of rows. sqlx then prepares it once per
/// connection, and the client encodes 14 parameters instead of 15 per row.
const UPSERT: &str = "INSERT INTO findings (tenant_path, system_id, source, scope, external_id, \
         kind, subject, path, line, confidence, project_root, attributes, evidence, \
         first_scan_id, changed_scan_id) \
     SELECT $1::ltree, u.system_id, u.source, u.scope, u.external_id, u.kind, u.subject, \
         u.path, u.line, u.confidence, u.project_root, u.attributes, u.evidence, u.scan_id, \
         u.scan_id \
     FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
         $8::text[], $9::int4[], $10::float4[], $11::text[], $12::jsonb[], $13::text[], \
         $14::uuid[]) \
         AS u (system_id, source, scope, external_id, kind, subject, path, line, confidence, \
             project_root, attributes, evidence, scan_id) \
     ON CONFLICT ON CONSTRAINT findings_source_external_id_key DO UPDATE SET \
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
            excluded.project_root, excluded.attributes, excluded.evidence)";

/// Column arrays of a chunk of findings, the parameters of [`UPSERT`].
struct Columns<'a> {
    system_id: Vec<Uuid>,
    source: Vec<&'a str>,
    scope: Vec<&'a str>,
    external_id: Vec<&'a str>,
    kind: Vec<&'a str>,
    subject: Vec<&'a str>,
    path: Vec<&'a str>,
    line: Vec<Option<i32>>,
    confidence: Vec<f32>,
    project_root: Vec<&'a str>,
    attributes: Vec<&'a serde_json::Value>,
    evidence: Vec<Option<&'a str>>,
    scan_id: Vec<Uuid>,
}

impl<'a> Columns<'a> {
    fn of(findings: &[&'a FindingUpsert]) -> Self {
        Self {
            system_id: findings.iter().map(|finding| finding.system_id).collect(),
            source: findings
                .iter()
                .map(|finding| finding.source.as_str())
                .collect(),
            scope: findings
                .iter()
                .map(|finding| finding.scope.as_str())
                .collect(),
            external_id: findings
                .iter()
                .map(|finding| finding.external_id.as_str())
                .collect(),
            kind: findings
                .iter()
                .map(|finding| finding.kind.as_str())
                .collect(),
            subject: findings
                .iter()
                .map(|finding| finding.subject.as_str())
                .collect(),
            path: findings
                .iter()
                .map(|finding| finding.path.as_str())
                .collect(),
            line: findings.iter().map(|finding| finding.line).collect(),
            confidence: findings.iter().map(|finding| finding.confidence).collect(),
            project_root: findings
                .iter()
                .map(|finding| finding.project_root.as_str())
                .collect(),
            attributes: findings.iter().map(|finding| &finding.attributes).collect(),
            evidence: findings
                .iter()
                .map(|finding| finding.evidence.as_deref())
                .collect(),
            scan_id: findings.iter().map(|finding| finding.scan_id).collect(),
        }
    }
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

/// An open finding with the key of the system it belongs to.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SystemFindingRow {
    /// Source of the system.
    pub system_source: String,
    /// External id of the system.
    pub system_external_id: String,
    /// The finding.
    #[sqlx(flatten)]
    pub finding: FindingRow,
}

/// Lists the open findings of the systems with the given `(source, external id)` keys, in
/// one statement, without their evidence snippets (`evidence` is `None`): the caller
/// classifies them, and snippets would make the rows many times larger. Only systems of
/// the transaction's own tenant count, not those of its subtree. A key without a stored
/// system yields nothing.
#[instrument(skip_all, name = "store.findings.list_open_for_system_keys", fields(tenant.path = %tx.tenant(), systems.requested = keys.len()))]
pub async fn list_open_for_system_keys(
    tx: &mut TenantTx,
    keys: &[(&str, &str)],
) -> Result<Vec<SystemFindingRow>, Error> {
    let tenant = tx.tenant().to_owned();
    let sources: Vec<&str> = keys.iter().map(|(source, _)| *source).collect();
    let external_ids: Vec<&str> = keys.iter().map(|(_, external_id)| *external_id).collect();
    let rows = sqlx::query_as(
        "SELECT s.source AS system_source, s.external_id AS system_external_id, f.id, \
             f.system_id, f.source, f.scope, f.external_id, f.kind, f.subject, f.path, f.line, \
             f.confidence, f.project_root, f.attributes, NULL::text AS evidence, f.status, \
             f.resolved_at \
         FROM UNNEST($2::text[], $3::text[]) AS k (source, external_id) \
         JOIN ai_systems s ON s.tenant_path = $1::ltree AND s.source = k.source \
             AND s.external_id = k.external_id \
         JOIN findings f ON f.system_id = s.id AND f.status = 'open'",
    )
    .bind(&tenant)
    .bind(&sources)
    .bind(&external_ids)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
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
