//! Filtered, keyset-paginated reads for the REST API.
//!
//! Every list is ordered by `(created time, id)` and continues after a
//! [`Cursor`] holding the last pair seen, so rows inserted while a client
//! pages neither shift nor repeat the rows it has not read yet. Filters left
//! `None` do not restrict the list.

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use crate::{Error, Store, TenantContext, TenantTx};

/// Position after which a page starts: the sort key of the last row seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Creation time of the last row seen.
    pub at: DateTime<Utc>,
    /// Id of the last row seen.
    pub id: Uuid,
}

/// Which page to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Start after this row; `None` for the first page.
    pub after: Option<Cursor>,
    /// Maximum rows to return.
    pub limit: i64,
}

impl PageRequest {
    pub(crate) fn after_at(&self) -> Option<DateTime<Utc>> {
        self.after.map(|cursor| cursor.at)
    }

    pub(crate) fn after_id(&self) -> Option<Uuid> {
        self.after.map(|cursor| cursor.id)
    }
}

/// Filters of the AI system list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemFilter {
    /// Only systems of this risk class.
    pub risk_class: Option<String>,
    /// Only systems whose kinds include this one.
    pub kind: Option<String>,
    /// Only systems from this finding source.
    pub source: Option<String>,
}

/// Filter of the AI system list by verdict: systems with at least one rule
/// of `framework` whose shown verdict (after human review) is `verdict`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictFilter {
    /// Framework slug.
    pub framework: String,
    /// Verdict word of the framework's vocabulary.
    pub verdict: String,
}

/// An AI system as listed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SystemItem {
    /// System id.
    pub id: Uuid,
    /// Owning tenant path.
    pub tenant_path: String,
    /// Finding source.
    pub source: String,
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
    /// First time stored; the pagination key with `id`.
    pub created_at: DateTime<Utc>,
    /// Last change time.
    pub updated_at: DateTime<Utc>,
}

macro_rules! system_columns {
    () => {
        "id, tenant_path::text AS tenant_path, source, name, root, kinds, risk_class, \
         annex_iii_area, gpai, reasons, confidence, facts, created_at, updated_at"
    };
}

/// Filters of the finding list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingFilter {
    /// Only findings of this system.
    pub system_id: Option<Uuid>,
    /// Only findings with this status (`open`, `resolved`).
    pub status: Option<String>,
    /// Only findings of this kind.
    pub kind: Option<String>,
}

/// A finding as listed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FindingItem {
    /// Finding id.
    pub id: Uuid,
    /// AI system it belongs to.
    pub system_id: Uuid,
    /// Finding source.
    pub source: String,
    /// Crawl scope.
    pub scope: String,
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
    /// Detector attributes.
    pub attributes: serde_json::Value,
    /// Redacted evidence snippet.
    pub evidence: Option<String>,
    /// `open` or `resolved`.
    pub status: String,
    /// First time stored; the pagination key with `id`.
    pub created_at: DateTime<Utc>,
}

macro_rules! finding_columns {
    () => {
        "id, system_id, source, scope, kind, subject, path, line, confidence, attributes, \
         evidence, status, created_at"
    };
}

/// Filters of the evaluation list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvaluationFilter {
    /// Only frameworks in this list; callers pass the tenant's subscription.
    pub frameworks: Vec<String>,
    /// Only verdicts of this system.
    pub system_id: Option<Uuid>,
    /// Only verdicts with this status.
    pub status: Option<String>,
}

/// A verdict as listed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EvaluationItem {
    /// Evaluation id.
    pub id: Uuid,
    /// Evaluated system.
    pub system_id: Uuid,
    /// Framework slug.
    pub framework: String,
    /// Rule id.
    pub rule_id: String,
    /// Verdict shown: a rejecting reviewer's replacement, otherwise the
    /// evaluator's verdict.
    pub status: String,
    /// Status of the rule's human review (`pending`, `approved`,
    /// `rejected`); `None` when the verdict needs no review.
    pub review_status: Option<String>,
    /// Reasons for the verdict.
    pub reasons: serde_json::Value,
    /// Evidence the rule requires.
    pub evidence_required: serde_json::Value,
    /// First evaluation time; the pagination key with `id`.
    pub created_at: DateTime<Utc>,
    /// Last change time.
    pub updated_at: DateTime<Utc>,
}

macro_rules! evaluation_columns {
    () => {
        "evaluations.id, evaluations.system_id, evaluations.framework, evaluations.rule_id, \
         COALESCE(reviews.decided_verdict, evaluations.status) AS status, \
         reviews.status AS review_status, evaluations.reasons, evaluations.evidence_required, \
         evaluations.created_at, evaluations.updated_at"
    };
}

impl Store {
    /// Opens a read-only transaction for `ctx`: Postgres rejects any write in
    /// it, so a handler that only reads cannot change data by mistake.
    #[instrument(skip_all, name = "store.begin_read_only", fields(tenant.path = %ctx.path()))]
    pub async fn begin_read_only(&self, ctx: &TenantContext) -> Result<TenantTx, Error> {
        // One statement opens the transaction read-only, saving the round trip of a
        // separate SET TRANSACTION on every read request.
        self.begin_as("BEGIN READ ONLY", ctx).await
    }
}

/// Lists AI systems visible to the tenant.
pub async fn systems(
    tx: &mut TenantTx,
    filter: &SystemFilter,
    page: PageRequest,
) -> Result<Vec<SystemItem>, Error> {
    systems_with_verdict(tx, filter, None, page).await
}

/// Lists AI systems visible to the tenant, restricted to those with a
/// verdict when `verdict` is given.
#[instrument(skip_all, name = "store.listing.systems", fields(tenant.path = %tx.tenant()))]
pub async fn systems_with_verdict(
    tx: &mut TenantTx,
    filter: &SystemFilter,
    verdict: Option<&VerdictFilter>,
    page: PageRequest,
) -> Result<Vec<SystemItem>, Error> {
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        system_columns!(),
        " FROM ai_systems \
         WHERE ($1::text IS NULL OR risk_class = $1) \
             AND ($2::text IS NULL OR kinds @> ARRAY[$2::text]) \
             AND ($3::text IS NULL OR source = $3) \
             AND ($4::timestamptz IS NULL OR (created_at, id) > ($4, $5::uuid)) \
             AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM evaluations \
                 LEFT JOIN reviews ON reviews.system_id = evaluations.system_id \
                     AND reviews.framework = evaluations.framework \
                     AND reviews.rule_id = evaluations.rule_id \
                 WHERE evaluations.system_id = ai_systems.id AND evaluations.framework = $7 \
                     AND COALESCE(reviews.decided_verdict, evaluations.status) = $8)) \
         ORDER BY created_at, id LIMIT $6"
    ))
    .bind(&filter.risk_class)
    .bind(&filter.kind)
    .bind(&filter.source)
    .bind(page.after_at())
    .bind(page.after_id())
    .bind(page.limit)
    .bind(verdict.map(|verdict| &verdict.framework))
    .bind(verdict.map(|verdict| &verdict.verdict))
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Fetches one AI system visible to the tenant.
#[instrument(skip_all, name = "store.listing.system", fields(tenant.path = %tx.tenant(), system.id = %id))]
pub async fn system(tx: &mut TenantTx, id: Uuid) -> Result<Option<SystemItem>, Error> {
    let row = sqlx::query_as(concat!(
        "SELECT ",
        system_columns!(),
        " FROM ai_systems WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}

/// Lists findings visible to the tenant.
#[instrument(skip_all, name = "store.listing.findings", fields(tenant.path = %tx.tenant()))]
pub async fn findings(
    tx: &mut TenantTx,
    filter: &FindingFilter,
    page: PageRequest,
) -> Result<Vec<FindingItem>, Error> {
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        finding_columns!(),
        " FROM findings \
         WHERE ($1::uuid IS NULL OR system_id = $1) \
             AND ($2::text IS NULL OR status = $2) \
             AND ($3::text IS NULL OR kind = $3) \
             AND ($4::timestamptz IS NULL OR (created_at, id) > ($4, $5::uuid)) \
         ORDER BY created_at, id LIMIT $6"
    ))
    .bind(filter.system_id)
    .bind(&filter.status)
    .bind(&filter.kind)
    .bind(page.after_at())
    .bind(page.after_id())
    .bind(page.limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Lists verdicts visible to the tenant, of the frameworks in the filter only.
#[instrument(skip_all, name = "store.listing.evaluations", fields(tenant.path = %tx.tenant()))]
pub async fn evaluations(
    tx: &mut TenantTx,
    filter: &EvaluationFilter,
    page: PageRequest,
) -> Result<Vec<EvaluationItem>, Error> {
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        evaluation_columns!(),
        " FROM evaluations LEFT JOIN reviews ON reviews.system_id = evaluations.system_id \
             AND reviews.framework = evaluations.framework \
             AND reviews.rule_id = evaluations.rule_id \
         WHERE evaluations.framework = ANY($1::text[]) \
             AND ($2::uuid IS NULL OR evaluations.system_id = $2) \
             AND ($3::text IS NULL OR COALESCE(reviews.decided_verdict, evaluations.status) = $3) \
             AND ($4::timestamptz IS NULL OR (evaluations.created_at, evaluations.id) > ($4, $5::uuid)) \
         ORDER BY evaluations.created_at, evaluations.id LIMIT $6"
    ))
    .bind(&filter.frameworks)
    .bind(filter.system_id)
    .bind(&filter.status)
    .bind(page.after_at())
    .bind(page.after_id())
    .bind(page.limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Lists scans visible to the tenant, ordered by start time and id.
#[instrument(skip_all, name = "store.listing.scans", fields(tenant.path = %tx.tenant()))]
pub async fn scans(
    tx: &mut TenantTx,
    status: Option<&str>,
    page: PageRequest,
) -> Result<Vec<crate::scans::ScanRow>, Error> {
    let rows = sqlx::query_as(
        "SELECT id, source, target, requested_by, status, summary, error, started_at, finished_at \
         FROM scans \
         WHERE ($1::text IS NULL OR status = $1) \
             AND ($2::timestamptz IS NULL OR (started_at, id) > ($2, $3::uuid)) \
         ORDER BY started_at, id LIMIT $4",
    )
    .bind(status)
    .bind(page.after_at())
    .bind(page.after_id())
    .bind(page.limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}
