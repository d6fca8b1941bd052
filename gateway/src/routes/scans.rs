//! Scans of server-side folders: start, list, get.
//!
//! Only folders under the operator's scan root (`secruna serve --scan-root`)
//! can be scanned, so API callers cannot read arbitrary server files. Without
//! a scan root, starting a scan is rejected with 403.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use coordinator::{ScanError, ScanRequest};
use serde::{Deserialize, Serialize};
use store::listing::Cursor;
use store::scans::ScanRow;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audited::{AuditedTx, ReadTx};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::pagination::{Page, PageQuery, into_page};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// A scan to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewScanBody {
    /// Folder or git repository on the server, absolute or relative to the scan root.
    pub(crate) path: String,
    /// Frameworks to evaluate, added to the subscription; omit to use the subscription.
    #[serde(default)]
    pub(crate) frameworks: Vec<String>,
}

/// A scan.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScanView {
    /// Scan id.
    pub(crate) id: Uuid,
    /// Finding source (`code`).
    pub(crate) source: String,
    /// Scanned folder, account or organisation.
    pub(crate) target: String,
    /// Requester (`user:<id>`, `token:<id>`).
    pub(crate) requested_by: String,
    /// running, completed, partial or failed.
    pub(crate) status: String,
    /// Counters reported at the end.
    #[schema(value_type = Object)]
    pub(crate) summary: serde_json::Value,
    /// Cause of a failed or partial scan.
    pub(crate) error: Option<String>,
    /// Start time.
    pub(crate) started_at: DateTime<Utc>,
    /// End time, `null` while running.
    pub(crate) finished_at: Option<DateTime<Utc>>,
}

impl From<ScanRow> for ScanView {
    fn from(row: ScanRow) -> Self {
        ScanView {
            id: row.id,
            source: row.source,
            target: row.target,
            requested_by: row.requested_by,
            status: row.status,
            summary: row.summary,
            error: row.error,
            started_at: row.started_at,
            finished_at: row.finished_at,
        }
    }
}

/// Coverage of one scope of a finished scan.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScopeView {
    /// Canonical path of the scanned root.
    pub(crate) scope: String,
    /// covered or failed.
    pub(crate) status: String,
    /// Crawler attempts.
    pub(crate) attempts: u32,
    /// Last error of a failed scope.
    pub(crate) error: Option<String>,
    /// Findings produced.
    pub(crate) num_findings: u64,
    /// Non-fatal problems met on the way.
    pub(crate) issues: Vec<String>,
}

/// A finished scan with its per-scope coverage.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScanResult {
    /// The stored scan.
    pub(crate) scan: ScanView,
    /// One entry per scanned root.
    pub(crate) scopes: Vec<ScopeView>,
    /// AI systems the scan wrote.
    pub(crate) system_ids: Vec<Uuid>,
}

/// Filters of GET /api/v1/scans.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScanQuery {
    /// Only scans with this status (running, completed, partial, failed).
    pub(crate) status: Option<String>,
    /// `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub(crate) limit: Option<i64>,
}

/// Scans a folder on the server and returns once the scan has finished.
///
/// NOTE: the response waits for the whole scan, because the coordinator
/// assigns the scan id when it starts the scan and returns it only with the
/// outcome. A large tree can outlast a client's timeout; the scan then still
/// finishes and shows up in GET /api/v1/scans.
#[utoipa::path(post, path = "/api/v1/scans", tag = "scans", request_body = NewScanBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Scan finished (completed, partial or failed)", body = ScanResult),
        (status = 403, description = "Read-only token, or scanning through the API is off", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Path outside the scan root, missing, or unknown framework", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn start(
    State(state): State<AppState>,
    mut tx: AuditedTx,
    ApiJson(body): ApiJson<NewScanBody>,
) -> Result<(StatusCode, Json<ScanResult>), ApiError> {
    let root = state.config().scan_root.clone().ok_or_else(|| {
        ApiError::Forbidden(
            "scanning server folders through the API is off; the operator turns it on with \
             `secruna serve --scan-root DIR`"
                .to_owned(),
        )
    })?;
    let target = resolve_target(&root, &body.path)?;
    for (index, slug) in body.frameworks.iter().enumerate() {
        if state.rule_book().framework(slug).is_none() {
            return Err(ApiError::invalid(
                format!("frameworks[{index}]"),
                format!("unknown framework `{slug}`; GET /api/v1/frameworks lists the slugs"),
            ));
        }
    }
    let principal = tx
        .principal()
        .cloned()
        .ok_or_else(|| ApiError::Internal("scan request without a principal".to_owned()))?;

    let request_key = tx
        .meta()
        .request_id
        .clone()
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    let diff = serde_json::json!({"path": target, "frameworks": body.frameworks});
    tx.record("scan_request", &request_key, "scan.request", diff)
        .await?;
    tx.commit().await?;

    let request = ScanRequest {
        tenant: principal.tenant.path().slug_path(),
        targets: vec![target],
        frameworks: body.frameworks,
        requested_by: principal.actor(),
        progress: Arc::new(agents::ScanProgress::default()),
    };
    let outcome = state
        .coordinator()
        .scan(request)
        .await
        .map_err(scan_error)?;

    // The writer raised scan.completed or scan.failed when it closed the scan.
    let mut read_tx = state.store().begin(&principal.tenant).await?;
    let row = store::scans::get(&mut read_tx, outcome.scan_id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("scan {} vanished", outcome.scan_id)))?;
    read_tx.commit().await?;
    let result = ScanResult {
        scan: row.into(),
        scopes: outcome.scopes.into_iter().map(scope_view).collect(),
        system_ids: outcome.system_ids,
    };
    Ok((StatusCode::CREATED, Json(result)))
}

/// Resolves `requested` against the scan root and checks that the real path,
/// symbolic links followed, stays inside it.
pub(crate) fn resolve_target(root: &Path, requested: &str) -> Result<PathBuf, ApiError> {
    if requested.trim().is_empty() {
        return Err(ApiError::invalid(
            "path",
            "path is empty; name a folder under the scan root",
        ));
    }
    let joined = root.join(requested);
    let canonical = std::fs::canonicalize(&joined).map_err(|_| {
        ApiError::invalid(
            "path",
            format!("path `{requested}` does not exist on the server or cannot be read"),
        )
    })?;
    if !canonical.starts_with(root) {
        return Err(ApiError::invalid(
            "path",
            format!(
                "path `{requested}` is outside the folder the operator allows scanning; name a \
                 folder under the scan root"
            ),
        ));
    }
    if !canonical.is_dir() {
        return Err(ApiError::invalid(
            "path",
            format!("path `{requested}` is not a folder"),
        ));
    }
    Ok(canonical)
}

fn scan_error(error: ScanError) -> ApiError {
    match error {
        ScanError::UnknownFramework { slug, known } => ApiError::invalid(
            "frameworks",
            format!("unknown framework `{slug}`; known frameworks are {known}"),
        ),
        ScanError::InvalidTenant { reason, .. } => ApiError::Internal(reason),
        ScanError::NoTargets => ApiError::invalid("path", "no folder to scan; set path"),
        ScanError::Store(error) => error.into(),
        ScanError::Aborted(reason) => ApiError::Internal(format!("scan aborted: {reason}")),
        // The API scans one target per request, so errors about how targets
        // relate to each other cannot come from a client's request.
        #[allow(unreachable_patterns)]
        other => ApiError::Internal(other.to_string()),
    }
}

fn scope_view(scope: coordinator::ScopeOutcome) -> ScopeView {
    let status = match scope.status {
        coordinator::ScopeStatus::Covered => "covered",
        coordinator::ScopeStatus::Failed => "failed",
    };
    ScopeView {
        scope: scope.scope,
        status: status.to_owned(),
        attempts: scope.attempts,
        error: scope.error,
        num_findings: scope.num_findings,
        issues: scope.issues,
    }
}

/// Lists the scans of the tenant and its subsidiaries, oldest first.
#[utoipa::path(get, path = "/api/v1/scans", tag = "scans", params(ScanQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of scans", body = Page<ScanView>),
        (status = 422, description = "Invalid filter or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list(
    mut read: ReadTx,
    ApiQuery(query): ApiQuery<ScanQuery>,
) -> Result<Json<Page<ScanView>>, ApiError> {
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    }
    .to_request()?;
    let rows = store::listing::scans(&mut read.tx, query.status.as_deref(), page).await?;
    let key = |row: &ScanRow| Cursor {
        at: row.started_at,
        id: row.id,
    };
    Ok(Json(into_page(rows, page, key, ScanView::from)))
}

/// Returns one scan.
#[utoipa::path(get, path = "/api/v1/scans/{id}", tag = "scans",
    params(("id" = Uuid, Path, description = "Scan id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The scan", body = ScanView),
        (status = 404, description = "No such scan in the tenant", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get(
    mut read: ReadTx,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ScanView>, ApiError> {
    let row = store::scans::get(&mut read.tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            entity: "scan",
            id: id.to_string(),
        })?;
    Ok(Json(row.into()))
}
