//! The framework catalogue and the tenant's subscription.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audited::{AuditedTx, ReadTx};
use crate::auth::Principal;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// A framework of the rule book.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FrameworkView {
    /// Slug used in subscriptions and verdicts (`eu-ai-act`).
    pub(crate) slug: String,
    /// Display title.
    pub(crate) title: String,
    /// Version of the text the rules follow.
    pub(crate) version: String,
    /// Scope of the framework.
    pub(crate) description: String,
    /// Jurisdiction of a law (`eu`); `null` for a standard.
    pub(crate) jurisdiction: Option<String>,
    /// Verdict words the framework uses.
    pub(crate) verdicts: Vec<String>,
    /// Number of rules.
    pub(crate) num_rules: usize,
}

/// The frameworks a tenant subscribes to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Subscription {
    /// Framework slugs, from GET /api/v1/frameworks.
    pub(crate) frameworks: Vec<String>,
}

/// Lists the frameworks of the rule book, the choices at onboarding.
#[utoipa::path(get, path = "/api/v1/frameworks", tag = "onboarding", security(("bearer" = [])),
    responses(
        (status = 200, description = "Frameworks by slug", body = Vec<FrameworkView>),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn frameworks(
    State(state): State<AppState>,
    _principal: Principal,
) -> Json<Vec<FrameworkView>> {
    let views = state
        .rule_book()
        .frameworks()
        .map(|framework| FrameworkView {
            slug: framework.slug.clone(),
            title: framework.title.clone(),
            version: framework.version.clone(),
            description: framework.description.clone(),
            jurisdiction: framework.jurisdiction.clone(),
            verdicts: framework.verdicts.clone(),
            num_rules: framework.rules.len(),
        })
        .collect();
    Json(views)
}

/// Returns the frameworks the caller's tenant subscribes to.
#[utoipa::path(get, path = "/api/v1/subscriptions", tag = "onboarding", security(("bearer" = [])),
    responses(
        (status = 200, description = "Subscribed slugs, sorted", body = Subscription),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get_subscription(mut read: ReadTx) -> Result<Json<Subscription>, ApiError> {
    let frameworks = store::subscriptions::list(&mut read.tx).await?;
    Ok(Json(Subscription { frameworks }))
}

/// Replaces the caller's tenant's subscription.
#[utoipa::path(put, path = "/api/v1/subscriptions", tag = "onboarding", request_body = Subscription,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new subscription", body = Subscription),
        (status = 403, description = "Read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown framework", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn put_subscription(
    State(state): State<AppState>,
    mut tx: AuditedTx,
    ApiJson(body): ApiJson<Subscription>,
) -> Result<Json<Subscription>, ApiError> {
    let requested: BTreeSet<&str> = body.frameworks.iter().map(String::as_str).collect();
    if let Some((index, slug)) = body
        .frameworks
        .iter()
        .enumerate()
        .find(|(_, slug)| state.rule_book().framework(slug).is_none())
    {
        return Err(ApiError::invalid(
            format!("frameworks[{index}]"),
            format!("unknown framework `{slug}`; GET /api/v1/frameworks lists the slugs"),
        ));
    }
    let requested: Vec<&str> = requested.into_iter().collect();

    let before = store::subscriptions::list(tx.tx()).await?;
    store::subscriptions::set(tx.tx(), &requested).await?;
    let after = store::subscriptions::list(tx.tx()).await?;
    let tenant = tx.tx().context().path().to_string();
    let diff = serde_json::json!({"before": before, "after": after});
    tx.record("subscription", &tenant, "subscription.update", diff)
        .await?;
    tx.commit().await?;
    Ok(Json(Subscription { frameworks: after }))
}
