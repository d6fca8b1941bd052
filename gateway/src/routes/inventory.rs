//! AI systems, findings and verdicts, filtered and paginated.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::listing::{
    Cursor, EvaluationFilter, EvaluationItem, FindingFilter, FindingItem, PageRequest,
    SystemFilter, SystemItem, VerdictFilter,
};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::reviews::{ReviewError, check_framework_filter};
use crate::audited::ReadTx;
use crate::extract::{ApiPath, ApiQuery};
use crate::pagination::{Page, PageQuery, into_page};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// An AI system.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SystemView {
    /// System id.
    pub(crate) id: Uuid,
    /// Owning tenant path.
    pub(crate) tenant_path: String,
    /// Finding source (`code`).
    pub(crate) source: String,
    /// Display name.
    pub(crate) name: String,
    /// Project root or anchoring resource.
    pub(crate) root: String,
    /// Kinds of AI use (`calls_hosted_model_api`, ...).
    pub(crate) kinds: Vec<String>,
    /// EU AI Act risk class.
    pub(crate) risk_class: String,
    /// Annex III area slug.
    pub(crate) annex_iii_area: Option<String>,
    /// Whether the system builds on a general-purpose AI model.
    pub(crate) gpai: bool,
    /// Reasons for the risk class.
    #[schema(value_type = Vec<String>)]
    pub(crate) reasons: serde_json::Value,
    /// Classifier confidence from 0 to 1.
    pub(crate) confidence: f32,
    /// Facts the rule book evaluates.
    #[schema(value_type = Object)]
    pub(crate) facts: serde_json::Value,
    /// First time stored.
    pub(crate) created_at: DateTime<Utc>,
    /// Last change.
    pub(crate) updated_at: DateTime<Utc>,
}

impl From<SystemItem> for SystemView {
    fn from(item: SystemItem) -> Self {
        SystemView {
            id: item.id,
            tenant_path: item.tenant_path,
            source: item.source,
            name: item.name,
            root: item.root,
            kinds: item.kinds,
            risk_class: item.risk_class,
            annex_iii_area: item.annex_iii_area,
            gpai: item.gpai,
            reasons: item.reasons,
            confidence: item.confidence,
            facts: item.facts,
            created_at: item.created_at,
            updated_at: item.updated_at,
        }
    }
}

/// A finding.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FindingView {
    /// Finding id.
    pub(crate) id: Uuid,
    /// AI system it belongs to.
    pub(crate) system_id: Uuid,
    /// Finding source.
    pub(crate) source: String,
    /// Crawl scope.
    pub(crate) scope: String,
    /// Finding kind.
    pub(crate) kind: String,
    /// Canonical name of the match (`openai`, `transformers`).
    pub(crate) subject: String,
    /// Location inside the scope.
    pub(crate) path: String,
    /// First line, 1-based.
    pub(crate) line: Option<i32>,
    /// Detector confidence.
    pub(crate) confidence: f32,
    /// Detector attributes.
    #[schema(value_type = Object)]
    pub(crate) attributes: serde_json::Value,
    /// Redacted evidence snippet.
    pub(crate) evidence: Option<String>,
    /// `open` or `resolved`.
    pub(crate) status: String,
    /// First time stored.
    pub(crate) created_at: DateTime<Utc>,
}

impl From<FindingItem> for FindingView {
    fn from(item: FindingItem) -> Self {
        FindingView {
            id: item.id,
            system_id: item.system_id,
            source: item.source,
            scope: item.scope,
            kind: item.kind,
            subject: item.subject,
            path: item.path,
            line: item.line,
            confidence: item.confidence,
            attributes: item.attributes,
            evidence: item.evidence,
            status: item.status,
            created_at: item.created_at,
        }
    }
}

/// A verdict of one rule for one system.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EvaluationView {
    /// Evaluation id.
    pub(crate) id: Uuid,
    /// Evaluated system.
    pub(crate) system_id: Uuid,
    /// Framework slug.
    pub(crate) framework: String,
    /// Rule id.
    pub(crate) rule_id: String,
    /// Verdict from the framework's vocabulary, as shown: a rejecting
    /// reviewer's replacement when there is one, otherwise the evaluator's.
    pub(crate) status: String,
    /// Status of the rule's human review (`pending`, `approved`,
    /// `rejected`); `null` when the verdict needs no review.
    pub(crate) review_status: Option<String>,
    /// Reasons for the verdict.
    #[schema(value_type = Vec<String>)]
    pub(crate) reasons: serde_json::Value,
    /// Evidence ids the rule requires.
    #[schema(value_type = Vec<String>)]
    pub(crate) evidence_required: serde_json::Value,
    /// Last change.
    pub(crate) updated_at: DateTime<Utc>,
}

impl From<EvaluationItem> for EvaluationView {
    fn from(item: EvaluationItem) -> Self {
        EvaluationView {
            id: item.id,
            system_id: item.system_id,
            framework: item.framework,
            rule_id: item.rule_id,
            status: item.status,
            review_status: item.review_status,
            reasons: item.reasons,
            evidence_required: item.evidence_required,
            updated_at: item.updated_at,
        }
    }
}

/// An AI system with its open findings and its verdicts.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SystemDetail {
    /// The system.
    #[serde(flatten)]
    pub(crate) system: SystemView,
    /// Open findings, oldest first; at most 1000, the rest through
    /// GET /api/v1/findings?system_id=...
    pub(crate) findings: Vec<FindingView>,
    /// Verdicts of the subscribed frameworks, by framework and rule.
    pub(crate) evaluations: Vec<EvaluationView>,
}

/// Filters of GET /api/v1/systems.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SystemQuery {
    /// Only systems of this risk class (prohibited, high, limited, minimal, unknown).
    pub(crate) risk_class: Option<String>,
    /// Only systems with this kind of AI use (`trains_models`).
    pub(crate) kind: Option<String>,
    /// Only systems from this source (`code`).
    pub(crate) source: Option<String>,
    /// With `verdict`: only systems with at least one rule of this
    /// subscribed framework whose verdict is `verdict`.
    pub(crate) framework: Option<String>,
    /// With `framework`: a verdict word of that framework (`fail`).
    pub(crate) verdict: Option<String>,
    /// `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub(crate) limit: Option<i64>,
}

/// Filters of GET /api/v1/findings.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct FindingQuery {
    /// Only findings of this system.
    pub(crate) system_id: Option<Uuid>,
    /// Only findings with this status (open, resolved).
    pub(crate) status: Option<String>,
    /// Only findings of this kind.
    pub(crate) kind: Option<String>,
    /// `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub(crate) limit: Option<i64>,
}

/// Filters of GET /api/v1/evaluations.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvaluationQuery {
    /// Only verdicts of this system.
    pub(crate) system_id: Option<Uuid>,
    /// Only verdicts of this framework (must be subscribed).
    pub(crate) framework: Option<String>,
    /// Only this verdict word.
    pub(crate) status: Option<String>,
    /// `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub(crate) limit: Option<i64>,
}

/// Open findings embedded in a system's detail.
const MAX_DETAIL_FINDINGS: i64 = 1000;

/// Verdicts embedded in a system's detail; far above the rules of every
/// framework in the rule book together.
const MAX_DETAIL_VERDICTS: i64 = 10_000;

const RISK_CLASSES: [&str; 5] = ["prohibited", "high", "limited", "minimal", "unknown"];

/// Lists the AI systems of the tenant and its subsidiaries.
#[utoipa::path(get, path = "/api/v1/systems", tag = "inventory", params(SystemQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of systems, oldest first", body = Page<SystemView>),
        (status = 400, description = "Framework not in the rule book", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter, unsubscribed framework or bad cursor", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_systems(
    State(state): State<AppState>,
    mut read: ReadTx,
    ApiQuery(query): ApiQuery<SystemQuery>,
) -> Result<Json<Page<SystemView>>, ReviewError> {
    if let Some(risk_class) = query
        .risk_class
        .as_deref()
        .filter(|value| !RISK_CLASSES.contains(value))
    {
        return Err(ApiError::invalid(
            "risk_class",
            format!(
                "risk_class `{risk_class}` is unknown; use one of {}",
                RISK_CLASSES.join(", ")
            ),
        )
        .into());
    }
    check_verdict_filter(&state, &mut read, &query).await?;
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    }
    .to_request()?;
    let filter = SystemFilter {
        risk_class: query.risk_class,
        kind: query.kind,
        source: query.source,
    };
    let verdict = query
        .framework
        .zip(query.verdict)
        .map(|(framework, verdict)| VerdictFilter { framework, verdict });
    let rows =
        store::listing::systems_with_verdict(&mut read.tx, &filter, verdict.as_ref(), page).await?;
    let key = |row: &SystemItem| Cursor {
        at: row.created_at,
        id: row.id,
    };
    Ok(Json(into_page(rows, page, key, SystemView::from)))
}

/// Checks the `framework` and `verdict` filters of the system list: both or
/// neither, a framework of the rule book the tenant subscribes to, and a
/// word of its vocabulary.
async fn check_verdict_filter(
    state: &AppState,
    read: &mut ReadTx,
    query: &SystemQuery,
) -> Result<(), ReviewError> {
    let (framework, verdict) = match (&query.framework, &query.verdict) {
        (None, None) => return Ok(()),
        (Some(framework), Some(verdict)) => (framework, verdict),
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "verdict",
                "framework filters by verdict, so pass verdict too (framework=eu-ai-act&verdict=fail)",
            )
            .into());
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "framework",
                "verdict needs the framework whose vocabulary it is from \
                 (framework=eu-ai-act&verdict=fail)",
            )
            .into());
        }
    };
    let subscribed = store::subscriptions::list(&mut read.tx).await?;
    check_framework_filter(state, framework, &subscribed)?;
    let vocabulary = state
        .rule_book()
        .framework(framework)
        .map(|framework| framework.verdicts.clone())
        .unwrap_or_default();
    if !vocabulary.contains(verdict) {
        return Err(ApiError::invalid(
            "verdict",
            format!(
                "verdict `{verdict}` is not in the vocabulary of {framework}; use one of {}",
                vocabulary.join(", ")
            ),
        )
        .into());
    }
    Ok(())
}

/// Returns one AI system with its open findings and the verdicts of the
/// subscribed frameworks.
#[utoipa::path(get, path = "/api/v1/systems/{id}", tag = "inventory",
    params(("id" = Uuid, Path, description = "System id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The system", body = SystemDetail),
        (status = 404, description = "No such system in the tenant", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get_system(
    mut read: ReadTx,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<SystemDetail>, ApiError> {
    let system = store::listing::system(&mut read.tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            entity: "system",
            id: id.to_string(),
        })?;
    let open_findings = FindingFilter {
        system_id: Some(id),
        status: Some("open".to_owned()),
        kind: None,
    };
    let first_findings = PageRequest {
        after: None,
        limit: MAX_DETAIL_FINDINGS,
    };
    let findings = store::listing::findings(&mut read.tx, &open_findings, first_findings).await?;
    let subscribed = store::subscriptions::list(&mut read.tx).await?;
    let system_verdicts = EvaluationFilter {
        frameworks: subscribed,
        system_id: Some(id),
        status: None,
    };
    let all_verdicts = PageRequest {
        after: None,
        limit: MAX_DETAIL_VERDICTS,
    };
    let mut evaluations =
        store::listing::evaluations(&mut read.tx, &system_verdicts, all_verdicts).await?;
    evaluations.sort_by(|a, b| (&a.framework, &a.rule_id).cmp(&(&b.framework, &b.rule_id)));
    let detail = SystemDetail {
        system: system.into(),
        findings: findings.into_iter().map(FindingView::from).collect(),
        evaluations: evaluations.into_iter().map(EvaluationView::from).collect(),
    };
    Ok(Json(detail))
}

/// Lists findings of the tenant and its subsidiaries.
#[utoipa::path(get, path = "/api/v1/findings", tag = "inventory", params(FindingQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of findings, oldest first", body = Page<FindingView>),
        (status = 422, description = "Invalid filter or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_findings(
    mut read: ReadTx,
    ApiQuery(query): ApiQuery<FindingQuery>,
) -> Result<Json<Page<FindingView>>, ApiError> {
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    }
    .to_request()?;
    let filter = FindingFilter {
        system_id: query.system_id,
        status: query.status,
        kind: query.kind,
    };
    let rows = store::listing::findings(&mut read.tx, &filter, page).await?;
    let key = |row: &FindingItem| Cursor {
        at: row.created_at,
        id: row.id,
    };
    Ok(Json(into_page(rows, page, key, FindingView::from)))
}

/// Lists verdicts of the subscribed frameworks.
#[utoipa::path(get, path = "/api/v1/evaluations", tag = "inventory", params(EvaluationQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of verdicts, oldest first", body = Page<EvaluationView>),
        (status = 422, description = "Invalid filter, unsubscribed framework or bad cursor", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_evaluations(
    mut read: ReadTx,
    ApiQuery(query): ApiQuery<EvaluationQuery>,
) -> Result<Json<Page<EvaluationView>>, ApiError> {
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    }
    .to_request()?;
    let subscribed = store::subscriptions::list(&mut read.tx).await?;
    let frameworks = match query.framework {
        Some(framework) if subscribed.contains(&framework) => vec![framework],
        Some(framework) => {
            return Err(ApiError::invalid(
                "framework",
                format!(
                    "the tenant does not subscribe to `{framework}`; subscribe with PUT \
                     /api/v1/subscriptions first"
                ),
            ));
        }
        None => subscribed,
    };
    let filter = EvaluationFilter {
        frameworks,
        system_id: query.system_id,
        status: query.status,
    };
    let rows = store::listing::evaluations(&mut read.tx, &filter, page).await?;
    let key = |row: &EvaluationItem| Cursor {
        at: row.created_at,
        id: row.id,
    };
    Ok(Json(into_page(rows, page, key, EvaluationView::from)))
}
