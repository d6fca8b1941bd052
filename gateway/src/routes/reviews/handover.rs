//! Two-person decisions: a member creates a review link for one review, and
//! the holder of the link decides that review once, without an account.
//!
//! The audit trail gets one row when the link is created (the requester as
//! actor) and one when it is used (the link as actor, with the requester and
//! the name the reviewer gave in the diff).

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::reviews::NewLink;
use store::{TenantContext, TenantPath};
use utoipa::ToSchema;
use uuid::Uuid;

use super::links::{self, LinkClaims};
use super::{DecisionBody, ReviewError, ReviewView, apply_decision, lock_visible};
use crate::audited::{AuditedTx, RequestMeta};
use crate::auth::Principal;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Lifetime of a link when the request sets none: 24 hours.
const DEFAULT_LINK_MINUTES: i64 = 24 * 60;

/// Maximum lifetime of a link: 7 days.
const MAX_LINK_MINUTES: i64 = 7 * 24 * 60;

/// Maximum length of a reviewer name, in characters.
const MAX_REVIEWER_LEN: usize = 200;

/// A review link to create.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewLinkBody {
    /// Decisions the link allows: `approve`, `reject` or both (the default).
    #[serde(default)]
    pub(crate) decisions: Option<Vec<String>>,
    /// Minutes until the link expires, 1 to 10080 (default 1440).
    #[serde(default)]
    pub(crate) expires_in_minutes: Option<i64>,
}

/// A new review link; the link text is shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LinkCreated {
    /// Link id, recorded as the actor of the decision made with it.
    pub(crate) id: Uuid,
    /// The one review the link decides.
    pub(crate) review_id: Uuid,
    /// Link text; POST it to `path` once.
    pub(crate) token: String,
    /// Path that takes the decision: `/api/v1/review-links/<token>`.
    pub(crate) path: String,
    /// Decisions the link allows.
    pub(crate) decisions: Vec<String>,
    /// End of the link's validity.
    pub(crate) expires_at: DateTime<Utc>,
}

/// A decision made through a review link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LinkDecisionBody {
    /// `approve` or `reject`; must be allowed by the link.
    pub(crate) decision: String,
    /// Name of the person deciding, 1 to 200 characters, kept in the audit trail.
    pub(crate) reviewer: String,
    /// Reason for the decision, 1 to 4000 characters.
    pub(crate) comment: String,
    /// When rejecting: the verdict to show instead of the proposal.
    #[serde(default)]
    pub(crate) verdict: Option<String>,
}

fn parse_decisions(requested: Option<Vec<String>>) -> Result<Vec<String>, ApiError> {
    let mut decisions = requested.unwrap_or_else(|| vec!["approve".into(), "reject".into()]);
    if decisions.is_empty() {
        return Err(ApiError::invalid(
            "decisions",
            "decisions is empty; list approve, reject or both",
        ));
    }
    for (index, decision) in decisions.iter().enumerate() {
        if !matches!(decision.as_str(), "approve" | "reject") {
            return Err(ApiError::invalid(
                format!("decisions[{index}]"),
                format!("decision `{decision}` is unknown; use approve or reject"),
            ));
        }
    }
    decisions.sort();
    decisions.dedup();
    Ok(decisions)
}

/// Creates a signed, single-use link that lets its holder approve or reject
/// this one review; the creator may then no longer decide it.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/links", tag = "reviews",
    params(("id" = Uuid, Path, description = "Review id")),
    request_body = NewLinkBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Link created; the token is shown only now", body = LinkCreated),
        (status = 403, description = "Read-only principal", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review in the tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The review is already decided", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body, or the server has no key to sign links with", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_link(
    State(state): State<AppState>,
    mut tx: AuditedTx,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewLinkBody>,
) -> Result<(StatusCode, Json<LinkCreated>), ApiError> {
    let decisions = parse_decisions(body.decisions)?;
    let minutes = body.expires_in_minutes.unwrap_or(DEFAULT_LINK_MINUTES);
    if !(1..=MAX_LINK_MINUTES).contains(&minutes) {
        return Err(ApiError::invalid(
            "expires_in_minutes",
            format!("expires_in_minutes {minutes} is out of range; pass 1 to {MAX_LINK_MINUTES}"),
        ));
    }
    let Some(key) = state.config().secret_key.clone() else {
        return Err(ApiError::invalid(
            "id",
            "this server has no key to sign review links with; the operator sets \
             SECRUNA_SECRET_KEY (32 random bytes in base64)",
        ));
    };
    let review = lock_visible(&mut tx, id).await?;
    if review.status != "pending" {
        return Err(ApiError::Conflict(format!(
            "review {id} is already {}; a link can only be made for a pending review",
            review.status
        )));
    }

    let requester = tx
        .principal()
        .map(|principal| principal.actor())
        .unwrap_or_default();
    let tenant = tx.tx().context().path().as_str().to_owned();
    let expires_at = Utc::now() + Duration::minutes(minutes);
    let claims = LinkClaims::new(tenant, review.id, decisions.clone(), expires_at);
    let link = NewLink {
        id: claims.link,
        review_id: review.id,
        decisions: decisions.clone(),
        verdict: review.verdict.clone(),
        nonce_hash: claims.nonce_hash(),
        expires_at,
        created_by: requester.clone(),
    };
    let stored = store::reviews::create_link(tx.tx(), &link).await?;
    let diff = json!({
        "link_id": stored.id,
        "requester": requester,
        "decisions": decisions,
        "expires_at": stored.expires_at,
    });
    tx.record("review", &id.to_string(), "review.link_create", diff)
        .await?;
    tx.commit().await?;

    let token = links::sign(&key, &claims);
    Ok((
        StatusCode::CREATED,
        Json(LinkCreated {
            id: stored.id,
            review_id: id,
            path: format!("/api/v1/review-links/{token}"),
            token,
            decisions,
            expires_at: stored.expires_at,
        }),
    ))
}

fn link_not_found() -> ReviewError {
    ReviewError::Api(ApiError::NotFound {
        entity: "review link",
        id: "(as given)".to_owned(),
    })
}

/// Decides the one review a link was made for. The link is the only
/// credential; it works once, before its expiry, and only for the decisions
/// it names. Its creator may not use it.
#[utoipa::path(post, path = "/api/v1/review-links/{token}", tag = "reviews",
    params(("token" = String, Path, description = "Link text from POST /api/v1/reviews/{id}/links")),
    request_body = LinkDecisionBody,
    responses(
        (status = 200, description = "Decision stored and audited", body = ReviewView),
        (status = 403, description = "Decision not allowed by the link, or the link's creator deciding", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a link this server signed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The review was decided meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The link was used, has expired, or its verdict was superseded", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn use_link(
    State(state): State<AppState>,
    meta: RequestMeta,
    caller: Caller,
    ApiPath(token): ApiPath<String>,
    ApiJson(body): ApiJson<LinkDecisionBody>,
) -> Result<Json<ReviewView>, ReviewError> {
    let key = state
        .config()
        .secret_key
        .clone()
        .ok_or_else(link_not_found)?;
    let claims = links::verify(&key, &token).ok_or_else(link_not_found)?;
    let path = TenantPath::from_ltree(&claims.tenant).map_err(|_| link_not_found())?;
    crate::auth::check_tenant_budget(&state, &path)?;
    if claims.is_expired(Utc::now()) {
        return Err(ReviewError::Gone(
            "this review link has expired; ask its creator for a new one".to_owned(),
        ));
    }
    if !matches!(body.decision.as_str(), "approve" | "reject") {
        return Err(ApiError::invalid(
            "decision",
            format!(
                "decision `{}` is unknown; use approve or reject",
                body.decision
            ),
        )
        .into());
    }
    let reviewer = body.reviewer.trim().to_owned();
    if reviewer.is_empty() || reviewer.chars().count() > MAX_REVIEWER_LEN {
        return Err(ApiError::invalid(
            "reviewer",
            format!("reviewer must be your name, 1 to {MAX_REVIEWER_LEN} characters"),
        )
        .into());
    }

    let context = TenantContext::new(path);
    let mut tx = AuditedTx::begin_unauthenticated(&state, &context, meta).await?;
    tx.set_actor("review_link", claims.link.to_string());
    let link = store::reviews::lock_link(tx.tx(), &claims.nonce_hash())
        .await?
        .filter(|link| link.id == claims.link && link.review_id == claims.review)
        .ok_or_else(link_not_found)?;
    if link.used_at.is_some() {
        return Err(ReviewError::Gone(
            "this review link was already used; each link decides once".to_owned(),
        ));
    }
    if link.expires_at <= Utc::now() {
        return Err(ReviewError::Gone(
            "this review link has expired; ask its creator for a new one".to_owned(),
        ));
    }
    if !link.decisions.contains(&body.decision) || !claims.decisions.contains(&body.decision) {
        return Err(ApiError::Forbidden(format!(
            "this review link allows only {}; `{}` is not one of them",
            link.decisions.join(" or "),
            body.decision
        ))
        .into());
    }
    // NOTE: a link proves possession, not identity, so its creator is caught
    // only when sending their own bearer token or actor id as the name.
    if caller.actor.as_deref() == Some(link.created_by.as_str())
        || reviewer.eq_ignore_ascii_case(&link.created_by)
    {
        return Err(ApiError::Forbidden(
            "the creator of a review link cannot decide through it; a second person must"
                .to_owned(),
        )
        .into());
    }

    let review = lock_visible(&mut tx, link.review_id).await?;
    if review.verdict != link.verdict {
        return Err(ReviewError::Gone(format!(
            "a later scan changed the proposed verdict from `{}` to `{}`, so this link no \
             longer applies; ask for a new one",
            link.verdict, review.verdict
        )));
    }
    if review.status != "pending" {
        return Err(ApiError::Conflict(format!(
            "review {} was already {} by {}",
            review.id,
            review.status,
            review.decided_by.as_deref().unwrap_or("someone")
        ))
        .into());
    }
    if !store::reviews::use_link(tx.tx(), link.id, &reviewer).await? {
        return Err(ReviewError::Gone(
            "this review link was already used; each link decides once".to_owned(),
        ));
    }
    let decision = DecisionBody {
        comment: body.comment,
        verdict: body.verdict,
    };
    let decided_by = format!("review_link:{}", link.id);
    let extra = json!({"link_id": link.id, "requester": link.created_by, "reviewer": reviewer});
    let after = apply_decision(
        &state,
        &mut tx,
        review,
        &body.decision,
        decision,
        decided_by,
        extra,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(after.into()))
}

/// The bearer principal of a request that may also come without one; used
/// to stop a link's creator from deciding through it.
#[derive(Debug)]
pub(crate) struct Caller {
    actor: Option<String>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let actor = Principal::from_request_parts(parts, state)
            .await
            .ok()
            .map(|principal| principal.actor());
        Ok(Caller { actor })
    }
}
