//! The human review queue: verdicts the evaluator could not settle (a rule
//! marked for counsel review, a classification with low confidence) wait
//! here until a person approves or rejects them with a comment.
//!
//! Approving keeps the evaluator's verdict. Rejecting may name the verdict to
//! show instead, from the framework's vocabulary. When the verdict shown
//! changes, a `verdict.changed` webhook event is raised in the decision's
//! transaction. A decision can also be handed to a second person through a
//! review link ([`handover`]); its creator may then no longer decide the
//! review.

mod handover;
mod links;

pub(crate) use handover::{__path_create_link, __path_use_link, create_link, use_link};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::listing::Cursor;
use store::reviews::{Decision, ReviewFilter, ReviewRow};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audited::{AuditedTx, ReadTx, RequiredAccess};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::pagination::{Page, PageQuery, into_page};
use crate::problem::{ApiError, PROBLEM_JSON, Problem};
use crate::state::AppState;

/// Maximum length of a decision's comment, in characters.
const MAX_COMMENT_LEN: usize = 4000;

const REVIEW_STATUSES: [&str; 3] = ["pending", "approved", "rejected"];

/// A verdict waiting for, or settled by, a human decision.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReviewView {
    /// Review id.
    pub(crate) id: Uuid,
    /// System whose verdict is reviewed.
    pub(crate) system_id: Uuid,
    /// Framework slug.
    pub(crate) framework: String,
    /// Rule id.
    pub(crate) rule_id: String,
    /// Verdict the evaluator proposed.
    pub(crate) verdict: String,
    /// Verdict shown for the rule: the rejecting reviewer's replacement, if
    /// any, otherwise the proposal.
    pub(crate) shown_verdict: String,
    /// `pending`, `approved` or `rejected`.
    pub(crate) status: String,
    /// Verdict a rejecting reviewer set instead of the proposal.
    pub(crate) decided_verdict: Option<String>,
    /// Actor that asked for the review.
    pub(crate) requested_by: String,
    /// Actor of the last decision.
    pub(crate) decided_by: Option<String>,
    /// Reason given with the last decision.
    pub(crate) comment: Option<String>,
    /// Time of the last decision.
    pub(crate) decided_at: Option<DateTime<Utc>>,
    /// Actor that handed the decision to a second person; it may not decide.
    pub(crate) link_requester: Option<String>,
    /// First request time.
    pub(crate) created_at: DateTime<Utc>,
    /// Last change.
    pub(crate) updated_at: DateTime<Utc>,
}

impl From<ReviewRow> for ReviewView {
    fn from(row: ReviewRow) -> Self {
        ReviewView {
            shown_verdict: row.shown_verdict().to_owned(),
            id: row.id,
            system_id: row.system_id,
            framework: row.framework,
            rule_id: row.rule_id,
            verdict: row.verdict,
            status: row.status,
            decided_verdict: row.decided_verdict,
            requested_by: row.requested_by,
            decided_by: row.decided_by,
            comment: row.comment,
            decided_at: row.decided_at,
            link_requester: row.link_requester,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Filters of GET /api/v1/reviews.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewQuery {
    /// Only reviews with this status (pending, approved, rejected).
    pub(crate) status: Option<String>,
    /// Only reviews of this framework (must be subscribed).
    pub(crate) framework: Option<String>,
    /// Only reviews of this system.
    pub(crate) system_id: Option<Uuid>,
    /// `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub(crate) limit: Option<i64>,
}

/// A decision on a review.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecisionBody {
    /// Reason for the decision, 1 to 4000 characters; required.
    pub(crate) comment: String,
    /// When rejecting: the verdict to show instead of the proposal, from the
    /// framework's vocabulary. Not accepted when approving.
    #[serde(default)]
    pub(crate) verdict: Option<String>,
}

/// Errors of the review routes: API errors, plus 410 for a used, expired or
/// superseded review link and 400 for a framework the rule book lacks.
#[derive(Debug)]
pub(crate) enum ReviewError {
    /// Any other API error.
    Api(ApiError),
    /// The link can no longer be used.
    Gone(String),
    /// A filter names a framework that is not in the rule book.
    UnknownFramework(String),
}

impl From<ApiError> for ReviewError {
    fn from(error: ApiError) -> Self {
        ReviewError::Api(error)
    }
}

impl From<store::Error> for ReviewError {
    fn from(error: store::Error) -> Self {
        ReviewError::Api(error.into())
    }
}

impl IntoResponse for ReviewError {
    fn into_response(self) -> Response {
        let (status, slug, detail, field) = match self {
            ReviewError::Api(error) => return error.into_response(),
            ReviewError::Gone(detail) => (StatusCode::GONE, "gone", detail, None),
            ReviewError::UnknownFramework(slug) => (
                StatusCode::BAD_REQUEST,
                "unknown-framework",
                format!("framework `{slug}` is unknown; GET /api/v1/frameworks lists the slugs"),
                Some("framework".to_owned()),
            ),
        };
        problem_response(status, slug, detail, field)
    }
}

/// Builds a problem-details response for a status [`ApiError`] has no
/// variant for.
pub(crate) fn problem_response(
    status: StatusCode,
    slug: &str,
    detail: String,
    field: Option<String>,
) -> Response {
    let problem = Problem {
        problem_type: format!("urn:secruna:problem:{slug}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        field,
    };
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

/// Checks a `framework` filter: 400 when the rule book lacks it, 422 when
/// the tenant does not subscribe to it.
pub(crate) fn check_framework_filter(
    state: &AppState,
    framework: &str,
    subscribed: &[String],
) -> Result<(), ReviewError> {
    if state.rule_book().framework(framework).is_none() {
        return Err(ReviewError::UnknownFramework(framework.to_owned()));
    }
    if !subscribed.iter().any(|slug| slug == framework) {
        return Err(ApiError::invalid(
            "framework",
            format!(
                "the tenant does not subscribe to `{framework}`; subscribe with PUT \
                 /api/v1/subscriptions first"
            ),
        )
        .into());
    }
    Ok(())
}

/// Lists reviews of the subscribed frameworks, oldest request first.
#[utoipa::path(get, path = "/api/v1/reviews", tag = "reviews", params(ReviewQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of reviews", body = Page<ReviewView>),
        (status = 400, description = "Framework not in the rule book", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter, unsubscribed framework or bad cursor", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    mut read: ReadTx,
    ApiQuery(query): ApiQuery<ReviewQuery>,
) -> Result<Json<Page<ReviewView>>, ReviewError> {
    if let Some(status) = query
        .status
        .as_deref()
        .filter(|value| !REVIEW_STATUSES.contains(value))
    {
        return Err(ApiError::invalid(
            "status",
            format!("status `{status}` is unknown; use pending, approved or rejected"),
        )
        .into());
    }
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    }
    .to_request()?;
    let subscribed = store::subscriptions::list(&mut read.tx).await?;
    let frameworks = match query.framework {
        Some(framework) => {
            check_framework_filter(&state, &framework, &subscribed)?;
            vec![framework]
        }
        None => subscribed,
    };
    let filter = ReviewFilter {
        frameworks,
        status: query.status,
        system_id: query.system_id,
    };
    let rows = store::reviews::list(&mut read.tx, &filter, page).await?;
    let key = |row: &ReviewRow| Cursor {
        at: row.created_at,
        id: row.id,
    };
    Ok(Json(into_page(rows, page, key, ReviewView::from)))
}

fn not_found(id: Uuid) -> ApiError {
    ApiError::NotFound {
        entity: "review",
        id: id.to_string(),
    }
}

/// Returns one review of a subscribed framework.
#[utoipa::path(get, path = "/api/v1/reviews/{id}", tag = "reviews",
    params(("id" = Uuid, Path, description = "Review id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The review", body = ReviewView),
        (status = 404, description = "No such review in the tenant", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get(
    mut read: ReadTx,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ReviewView>, ApiError> {
    let review = store::reviews::get(&mut read.tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let subscribed = store::subscriptions::list(&mut read.tx).await?;
    if !subscribed.contains(&review.framework) {
        return Err(not_found(id));
    }
    Ok(Json(review.into()))
}

/// Approves the proposed verdict of a review.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/approve", tag = "reviews",
    params(("id" = Uuid, Path, description = "Review id")),
    request_body = DecisionBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Decision stored and audited", body = ReviewView),
        (status = 403, description = "Read-only principal, or the requester of a two-person decision", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review in the tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing comment or a verdict sent with an approval", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn approve(
    State(state): State<AppState>,
    mut tx: AuditedTx,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Json<ReviewView>, ApiError> {
    decide_directly(&state, &mut tx, id, "approve", body).await?;
    let review = store::reviews::get(tx.tx(), id).await?;
    tx.commit().await?;
    Ok(Json(review.ok_or_else(|| not_found(id))?.into()))
}

/// Rejects the proposed verdict of a review, optionally naming the verdict
/// to show instead.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/reject", tag = "reviews",
    params(("id" = Uuid, Path, description = "Review id")),
    request_body = DecisionBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Decision stored and audited", body = ReviewView),
        (status = 403, description = "Read-only principal, or the requester of a two-person decision", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review in the tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing comment or a verdict outside the framework's vocabulary", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn reject(
    State(state): State<AppState>,
    mut tx: AuditedTx,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Json<ReviewView>, ApiError> {
    decide_directly(&state, &mut tx, id, "reject", body).await?;
    let review = store::reviews::get(tx.tx(), id).await?;
    tx.commit().await?;
    Ok(Json(review.ok_or_else(|| not_found(id))?.into()))
}

/// Decides a review as the request's principal.
async fn decide_directly(
    state: &AppState,
    tx: &mut AuditedTx,
    id: Uuid,
    decision: &str,
    body: DecisionBody,
) -> Result<(), ApiError> {
    let actor = tx
        .principal()
        .map(|principal| principal.actor())
        .unwrap_or_default();
    let review = lock_visible(tx, id).await?;
    if review.link_requester.as_deref() == Some(actor.as_str()) {
        return Err(ApiError::Forbidden(
            "you handed this decision to a second person with a review link, so someone else \
             must decide it"
                .to_owned(),
        ));
    }
    apply_decision(state, tx, review, decision, body, actor, json!({})).await?;
    Ok(())
}

/// Locks a review of a subscribed framework, or returns 404.
async fn lock_visible<A: RequiredAccess>(
    tx: &mut AuditedTx<A>,
    id: Uuid,
) -> Result<ReviewRow, ApiError> {
    let review = store::reviews::lock(tx.tx(), id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let subscribed = store::subscriptions::list(tx.tx()).await?;
    if !subscribed.contains(&review.framework) {
        return Err(not_found(id));
    }
    Ok(review)
}

/// Validates and stores a decision on a locked review, appends its audit
/// row (with `audit_extra` merged into the diff) and raises
/// `verdict.changed` when the verdict shown changes.
async fn apply_decision<A: RequiredAccess>(
    state: &AppState,
    tx: &mut AuditedTx<A>,
    review: ReviewRow,
    decision: &str,
    body: DecisionBody,
    decided_by: String,
    audit_extra: serde_json::Value,
) -> Result<ReviewRow, ApiError> {
    let comment = body.comment.trim().to_owned();
    let num_chars = comment.chars().count();
    if num_chars == 0 || num_chars > MAX_COMMENT_LEN {
        return Err(ApiError::invalid(
            "comment",
            format!("comment must be 1 to {MAX_COMMENT_LEN} characters giving the reason"),
        ));
    }
    let decided_verdict = checked_verdict(state, &review.framework, decision, body.verdict)?;
    let status = if decision == "approve" {
        "approved"
    } else {
        "rejected"
    };
    let change = Decision {
        status: status.to_owned(),
        decided_verdict,
        decided_by,
        comment,
    };
    let after = store::reviews::decide(tx.tx(), review.id, &change)
        .await?
        .ok_or_else(|| not_found(review.id))?;

    let mut diff = json!({
        "system_id": review.system_id,
        "framework": review.framework,
        "rule_id": review.rule_id,
        "status": {"from": review.status, "to": after.status},
        "shown_verdict": {"from": review.shown_verdict(), "to": after.shown_verdict()},
        "comment": after.comment,
    });
    if let (Some(diff), Some(extra)) = (diff.as_object_mut(), audit_extra.as_object()) {
        diff.extend(extra.clone());
    }
    let action = format!("review.{decision}");
    tx.record("review", &review.id.to_string(), &action, diff)
        .await?;
    if review.shown_verdict() != after.shown_verdict() {
        let event = json!({
            "system_id": review.system_id,
            "framework": review.framework,
            "rule_id": review.rule_id,
            "review_id": review.id,
            "from": review.shown_verdict(),
            "to": after.shown_verdict(),
        });
        store::webhooks::raise(tx.tx(), "verdict.changed", &event).await?;
    }
    Ok(after)
}

/// Checks the replacement verdict of a decision: accepted only with a
/// rejection, and only as a word of the framework's vocabulary.
fn checked_verdict(
    state: &AppState,
    framework: &str,
    decision: &str,
    verdict: Option<String>,
) -> Result<Option<String>, ApiError> {
    let Some(verdict) = verdict else {
        return Ok(None);
    };
    if decision == "approve" {
        return Err(ApiError::invalid(
            "verdict",
            "verdict is accepted only when rejecting; an approval keeps the proposed verdict",
        ));
    }
    let vocabulary = state
        .rule_book()
        .framework(framework)
        .map(|framework| framework.verdicts.clone())
        .unwrap_or_default();
    if !vocabulary.contains(&verdict) {
        return Err(ApiError::invalid(
            "verdict",
            format!(
                "verdict `{verdict}` is not in the vocabulary of {framework}; use one of {}",
                vocabulary.join(", ")
            ),
        ));
    }
    Ok(Some(verdict))
}
