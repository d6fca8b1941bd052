//! The human review queue: verdicts the evaluator could not settle, their
//! decisions, and the single-use links that let a second person decide one.
//!
//! The writer calls [`request_batch`] in the transaction that stores a
//! system's verdicts, so a review exists exactly when its verdict does. A
//! later scan that proposes another verdict reopens the review, and one that
//! no longer needs a human withdraws a review still pending.

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use crate::listing::PageRequest;
use crate::{Error, TenantTx};

/// A verdict that needs a human decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRequest {
    /// Framework slug; must be in the catalogue.
    pub framework: String,
    /// Rule id within the framework.
    pub rule_id: String,
    /// Verdict the evaluator proposes.
    pub verdict: String,
}

/// A review as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReviewRow {
    /// Review id.
    pub id: Uuid,
    /// Owning tenant path.
    pub tenant_path: String,
    /// System whose verdict is reviewed.
    pub system_id: Uuid,
    /// Framework slug.
    pub framework: String,
    /// Rule id.
    pub rule_id: String,
    /// Verdict the evaluator proposed.
    pub verdict: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// Verdict set by a rejecting reviewer instead of the proposal.
    pub decided_verdict: Option<String>,
    /// Actor that asked for the review.
    pub requested_by: String,
    /// Actor of the last decision.
    pub decided_by: Option<String>,
    /// Reason given with the last decision.
    pub comment: Option<String>,
    /// Time of the last decision.
    pub decided_at: Option<DateTime<Utc>>,
    /// Actor that handed the decision to a second person through a link.
    pub link_requester: Option<String>,
    /// First request time; the pagination key with `id`.
    pub created_at: DateTime<Utc>,
    /// Last change time.
    pub updated_at: DateTime<Utc>,
}

impl ReviewRow {
    /// Returns the verdict shown for the rule: the reviewer's replacement
    /// when a rejection set one, otherwise the evaluator's proposal.
    pub fn shown_verdict(&self) -> &str {
        self.decided_verdict.as_deref().unwrap_or(&self.verdict)
    }
}

macro_rules! review_columns {
    () => {
        "id, tenant_path::text AS tenant_path, system_id, framework, rule_id, verdict, status, \
         decided_verdict, requested_by, decided_by, comment, decided_at, link_requester, \
         created_at, updated_at"
    };
}

/// Filters of the review list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewFilter {
    /// Only reviews of these frameworks; callers pass the tenant's subscription.
    pub frameworks: Vec<String>,
    /// Only reviews with this status.
    pub status: Option<String>,
    /// Only reviews of this system.
    pub system_id: Option<Uuid>,
}

/// Records which verdicts of `system_id` need a human decision: inserts new
/// reviews, reopens those whose proposed verdict changed, and deletes pending
/// reviews of the system whose rule is no longer in `requests`. Unchanged
/// reviews are not written. Returns the number of reviews inserted or
/// reopened.
#[instrument(skip_all, name = "store.reviews.request_batch", fields(tenant.path = %tx.tenant(), system.id = %system_id, reviews.count = requests.len()))]
pub async fn request_batch(
    tx: &mut TenantTx,
    system_id: Uuid,
    requests: &[ReviewRequest],
    requested_by: &str,
) -> Result<u64, Error> {
    let tenant = tx.tenant().to_owned();
    let frameworks: Vec<&str> = requests.iter().map(|r| r.framework.as_str()).collect();
    let rule_ids: Vec<&str> = requests.iter().map(|r| r.rule_id.as_str()).collect();
    let verdicts: Vec<&str> = requests.iter().map(|r| r.verdict.as_str()).collect();

    sqlx::query(
        "DELETE FROM reviews WHERE system_id = $1 AND status = 'pending' \
             AND (framework, rule_id) NOT IN \
                 (SELECT * FROM UNNEST($2::text[], $3::text[]))",
    )
    .bind(system_id)
    .bind(&frameworks)
    .bind(&rule_ids)
    .execute(tx.conn())
    .await?;
    if requests.is_empty() {
        return Ok(0);
    }

    let written = sqlx::query(
        "INSERT INTO reviews (tenant_path, system_id, framework, rule_id, verdict, requested_by) \
         SELECT $1::ltree, $2, framework, rule_id, verdict, $6 \
         FROM UNNEST($3::text[], $4::text[], $5::text[]) AS proposed (framework, rule_id, verdict) \
         ON CONFLICT ON CONSTRAINT reviews_system_rule_key DO UPDATE SET \
             verdict = excluded.verdict, status = 'pending', decided_verdict = NULL, \
             decided_by = NULL, comment = NULL, decided_at = NULL, link_requester = NULL, \
             requested_by = excluded.requested_by, updated_at = now() \
         WHERE reviews.verdict IS DISTINCT FROM excluded.verdict",
    )
    .bind(&tenant)
    .bind(system_id)
    .bind(&frameworks)
    .bind(&rule_ids)
    .bind(&verdicts)
    .bind(requested_by)
    .execute(tx.conn())
    .await?;
    Ok(written.rows_affected())
}

/// Lists reviews visible to the tenant, ordered by request time and id.
#[instrument(skip_all, name = "store.reviews.list", fields(tenant.path = %tx.tenant()))]
pub async fn list(
    tx: &mut TenantTx,
    filter: &ReviewFilter,
    page: PageRequest,
) -> Result<Vec<ReviewRow>, Error> {
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        review_columns!(),
        " FROM reviews \
         WHERE framework = ANY($1::text[]) \
             AND ($2::text IS NULL OR status = $2) \
             AND ($3::uuid IS NULL OR system_id = $3) \
             AND ($4::timestamptz IS NULL OR (created_at, id) > ($4, $5::uuid)) \
         ORDER BY created_at, id LIMIT $6"
    ))
    .bind(&filter.frameworks)
    .bind(&filter.status)
    .bind(filter.system_id)
    .bind(page.after_at())
    .bind(page.after_id())
    .bind(page.limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Fetches one review visible to the tenant.
#[instrument(skip_all, name = "store.reviews.get", fields(tenant.path = %tx.tenant(), review.id = %id))]
pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<ReviewRow>, Error> {
    let row = sqlx::query_as(concat!(
        "SELECT ",
        review_columns!(),
        " FROM reviews WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}

/// Fetches one review and locks it until the transaction ends, so two
/// decisions on it are made one after the other.
#[instrument(skip_all, name = "store.reviews.lock", fields(tenant.path = %tx.tenant(), review.id = %id))]
pub async fn lock(tx: &mut TenantTx, id: Uuid) -> Result<Option<ReviewRow>, Error> {
    let row = sqlx::query_as(concat!(
        "SELECT ",
        review_columns!(),
        " FROM reviews WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}

/// A decision on a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// `approved` or `rejected`.
    pub status: String,
    /// Verdict to show instead of the proposal; only with `rejected`.
    pub decided_verdict: Option<String>,
    /// Actor making the decision.
    pub decided_by: String,
    /// Reason for the decision.
    pub comment: String,
}

/// Stores a decision on a review visible to the tenant and returns the
/// updated row, or `None` when there is no such review.
#[instrument(skip_all, name = "store.reviews.decide", fields(tenant.path = %tx.tenant(), review.id = %id, review.status = %decision.status))]
pub async fn decide(
    tx: &mut TenantTx,
    id: Uuid,
    decision: &Decision,
) -> Result<Option<ReviewRow>, Error> {
    let row = sqlx::query_as(concat!(
        "UPDATE reviews SET status = $2, decided_verdict = $3, decided_by = $4, comment = $5, \
             decided_at = now(), updated_at = now() \
         WHERE id = $1 RETURNING ",
        review_columns!()
    ))
    .bind(id)
    .bind(&decision.status)
    .bind(&decision.decided_verdict)
    .bind(&decision.decided_by)
    .bind(&decision.comment)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}

/// A review link to store; the link text itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    /// Link id, chosen by the caller because it is signed into the link.
    pub id: Uuid,
    /// The one review the link may decide.
    pub review_id: Uuid,
    /// Decisions the link allows (`approve`, `reject`).
    pub decisions: Vec<String>,
    /// Proposed verdict the link was created for.
    pub verdict: String,
    /// SHA-256 of the link's nonce.
    pub nonce_hash: [u8; 32],
    /// End of the link's validity.
    pub expires_at: DateTime<Utc>,
    /// Requester creating the link.
    pub created_by: String,
}

/// A review link as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LinkRow {
    /// Link id.
    pub id: Uuid,
    /// Review the link may decide.
    pub review_id: Uuid,
    /// Decisions the link allows.
    pub decisions: Vec<String>,
    /// Proposed verdict the link was created for.
    pub verdict: String,
    /// End of the link's validity.
    pub expires_at: DateTime<Utc>,
    /// Requester who created the link.
    pub created_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of use; `None` while unused.
    pub used_at: Option<DateTime<Utc>>,
    /// Name the reviewer gave when using the link.
    pub used_by_name: Option<String>,
}

macro_rules! link_columns {
    () => {
        "id, review_id, decisions, verdict, expires_at, created_by, created_at, used_at, \
         used_by_name"
    };
}

/// Stores a review link in the tenant of its review and marks its
/// creator as the review's link requester, who may then no longer decide it.
#[instrument(skip_all, name = "store.reviews.create_link", fields(tenant.path = %tx.tenant(), review.id = %link.review_id, review_link.id = %link.id))]
pub async fn create_link(tx: &mut TenantTx, link: &NewLink) -> Result<LinkRow, Error> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query_as(concat!(
        "INSERT INTO review_links (id, tenant_path, review_id, decisions, verdict, nonce_hash, \
             expires_at, created_by) \
         SELECT $1, reviews.tenant_path, $2, $3, $4, $5, $6, $7 FROM reviews \
         WHERE reviews.id = $2 RETURNING ",
        link_columns!()
    ))
    .bind(link.id)
    .bind(link.review_id)
    .bind(&link.decisions)
    .bind(&link.verdict)
    .bind(link.nonce_hash.as_slice())
    .bind(link.expires_at)
    .bind(&link.created_by)
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = row else {
        return Err(Error::NotFound {
            entity: "review",
            id: link.review_id.to_string(),
            tenant: tenant.clone(),
        });
    };
    sqlx::query("UPDATE reviews SET link_requester = $2, updated_at = now() WHERE id = $1")
        .bind(link.review_id)
        .bind(&link.created_by)
        .execute(tx.conn())
        .await?;
    Ok(row)
}

/// Fetches a link by the SHA-256 of its nonce and locks it until the
/// transaction ends, so it cannot be used twice concurrently.
#[instrument(skip_all, name = "store.reviews.lock_link", fields(tenant.path = %tx.tenant()))]
pub async fn lock_link(tx: &mut TenantTx, nonce_hash: &[u8; 32]) -> Result<Option<LinkRow>, Error> {
    let row = sqlx::query_as(concat!(
        "SELECT ",
        link_columns!(),
        " FROM review_links WHERE nonce_hash = $1 FOR UPDATE"
    ))
    .bind(nonce_hash.as_slice())
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}

/// Marks a link used by the reviewer `name`; returns false when it was
/// already used.
#[instrument(skip_all, name = "store.reviews.use_link", fields(tenant.path = %tx.tenant(), review_link.id = %id))]
pub async fn use_link(tx: &mut TenantTx, id: Uuid, name: &str) -> Result<bool, Error> {
    let result = sqlx::query(
        "UPDATE review_links SET used_at = now(), used_by_name = $2 \
         WHERE id = $1 AND used_at IS NULL",
    )
    .bind(id)
    .bind(name)
    .execute(tx.conn())
    .await?;
    Ok(result.rows_affected() == 1)
}
