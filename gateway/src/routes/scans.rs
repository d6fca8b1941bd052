//! Scans: start (a server folder and stored connectors), list, get with per-scope
//! coverage, cancel.
//!
//! Only folders under the operator's scan root (`secruna serve --scan-root`) can be
//! scanned, so API callers cannot read arbitrary server files. Without a scan root, a scan
//! of a path or of a `git` connector is rejected with 403. Connector scans need no scan
//! root.

pub(crate) mod connectors;
mod views;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use coordinator::{ScanError, ScanRequest};
use store::listing::Cursor;
use store::scans::ScanRow;
use store::{TenantContext, TenantTx};
use uuid::Uuid;

pub(crate) use self::views::{NewScanBody, ScanDetail, ScanQuery, ScanView, ScopeView};
use crate::audited::{AuditedTx, ReadTx};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::pagination::{Page, PageQuery, into_page};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Starts a scan of a server folder, of stored connectors, or of both, and returns at
/// once; GET /api/v1/scans/{id} shows its progress per scope.
#[utoipa::path(post, path = "/api/v1/scans", tag = "scans", request_body = NewScanBody,
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Scan recorded and running", body = ScanDetail),
        (status = 403, description = "Read-only token, or scanning server folders is off", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Path outside the scan root or missing, unknown connector or framework", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn start(
    State(state): State<AppState>,
    mut tx: AuditedTx,
    ApiJson(body): ApiJson<NewScanBody>,
) -> Result<(StatusCode, Json<ScanDetail>), ApiError> {
    if body.path.is_none() && body.connector_ids.is_empty() {
        return Err(ApiError::invalid(
            "path",
            "nothing to scan; set path (a folder under the scan root) or connector_ids",
        ));
    }
    let targets = match &body.path {
        Some(path) => vec![resolve_target(connectors::scan_root(&state)?, path)?],
        None => Vec::new(),
    };
    check_frameworks(&state, &body.frameworks)?;
    let specs = connectors::load_specs(&state, tx.tx(), &body.connector_ids).await?;
    let principal = tx
        .principal()
        .cloned()
        .ok_or_else(|| ApiError::Internal("scan request without a principal".to_owned()))?;

    let request_key = tx
        .meta()
        .request_id
        .clone()
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    let diff = serde_json::json!({
        "path": targets.first(),
        "connector_ids": body.connector_ids,
        "frameworks": body.frameworks,
    });
    tx.record("scan_request", &request_key, "scan.request", diff)
        .await?;
    tx.commit().await?;

    let request = ScanRequest {
        tenant: principal.tenant.path().slug_path(),
        targets,
        connectors: specs,
        frameworks: body.frameworks,
        requested_by: principal.actor(),
        progress: Arc::new(agents::ScanProgress::default()),
    };
    // The handle is dropped: the scan runs on, and its outcome is read from the store.
    let handle = state
        .coordinator()
        .start_scan(request)
        .await
        .map_err(scan_error)?;
    let mut read_tx = state.store().begin(&principal.tenant).await?;
    let detail = load_detail(&mut read_tx, handle.scan_id()).await?;
    read_tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(detail)))
}

fn check_frameworks(state: &AppState, frameworks: &[String]) -> Result<(), ApiError> {
    for (index, slug) in frameworks.iter().enumerate() {
        if state.rule_book().framework(slug).is_none() {
            return Err(ApiError::invalid(
                format!("frameworks[{index}]"),
                format!("unknown framework `{slug}`; GET /api/v1/frameworks lists the slugs"),
            ));
        }
    }
    Ok(())
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
    let not_inside = || {
        ApiError::invalid(
            "path",
            format!(
                "path `{requested}` is not a folder inside the scan root; name a folder under it"
            ),
        )
    };
    coordinator::folder_in_root(root, Path::new(requested)).ok_or_else(not_inside)
}

fn scan_error(error: ScanError) -> ApiError {
    match error {
        ScanError::UnknownFramework { slug, known } => ApiError::invalid(
            "frameworks",
            format!("unknown framework `{slug}`; known frameworks are {known}"),
        ),
        ScanError::NoTargets => ApiError::invalid("path", "nothing to scan; set path"),
        ScanError::InvalidConnector { name, message } => ApiError::invalid(
            "connector_ids",
            format!("connector `{name}` cannot be scanned: {message}"),
        ),
        ScanError::DuplicateConnector { name } => ApiError::invalid(
            "connector_ids",
            format!("two connectors of the scan are named `{name}`; rename one"),
        ),
        ScanError::Store(error) => error.into(),
        ScanError::Aborted(reason) => ApiError::Internal(format!("scan aborted: {reason}")),
        // The API scans one path per request, and connector names are unique in a
        // tenant, so the remaining errors cannot come from a client's request.
        other => ApiError::Internal(other.to_string()),
    }
}

/// Reads a scan and its scope rows.
async fn load_detail(tx: &mut TenantTx, id: Uuid) -> Result<ScanDetail, ApiError> {
    let row = store::scans::get(tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let scopes = store::scans::list_scopes(tx, id).await?;
    Ok(ScanDetail {
        scan: row.into(),
        scopes: scopes.into_iter().map(ScopeView::from).collect(),
    })
}

fn not_found(id: Uuid) -> ApiError {
    ApiError::NotFound {
        entity: "scan",
        id: id.to_string(),
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

/// Returns one scan with its per-scope coverage; while it runs, scopes not yet settled
/// are `pending`.
#[utoipa::path(get, path = "/api/v1/scans/{id}", tag = "scans",
    params(("id" = Uuid, Path, description = "Scan id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The scan", body = ScanDetail),
        (status = 404, description = "No such scan in the tenant", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get(
    mut read: ReadTx,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ScanDetail>, ApiError> {
    Ok(Json(load_detail(&mut read.tx, id).await?))
}

/// Cancels a running scan: its crawls stop, scopes not yet settled become `cancelled`,
/// and the scan closes `cancelled`. A scan left running by a server that exited is
/// closed the same way.
#[utoipa::path(post, path = "/api/v1/scans/{id}/cancel", tag = "scans",
    params(("id" = Uuid, Path, description = "Scan id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Scan cancelled", body = ScanDetail),
        (status = 403, description = "Read-only principal", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such scan in the tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The scan has already finished", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    mut tx: AuditedTx,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ScanDetail>, ApiError> {
    let row = store::scans::get(tx.tx(), id)
        .await?
        .ok_or_else(|| not_found(id))?;
    ensure_running(&row)?;
    if row.source == store::scans::INGEST_SOURCE {
        return Err(ApiError::Conflict(format!(
            "scan `{id}` records an Ingest.StreamFindings stream: it ends when the stream \
             closes, so close the stream instead"
        )));
    }
    let scan_tenant = scan_context(tx.tx(), id).await?;

    let cancelled = state
        .coordinator()
        .cancel_scan(&scan_tenant, id)
        .await
        .map_err(scan_error)?;
    if !cancelled {
        close_orphan(tx.tx(), id).await?;
    }
    let diff = serde_json::json!({"status": {"from": "running", "to": "cancelled"}});
    tx.record("scan", &id.to_string(), "scan.cancel", diff)
        .await?;
    let detail = load_detail(tx.tx(), id).await?;
    tx.commit().await?;
    Ok(Json(detail))
}

fn ensure_running(row: &ScanRow) -> Result<(), ApiError> {
    if row.status == "running" {
        return Ok(());
    }
    Err(ApiError::Conflict(format!(
        "scan `{}` has already finished with status {}; only a running scan can be cancelled",
        row.id, row.status
    )))
}

/// Returns the context of the scan's own tenant, which is a subsidiary when a parent
/// cancels a subsidiary's scan.
async fn scan_context(tx: &mut TenantTx, id: Uuid) -> Result<TenantContext, ApiError> {
    Ok(store::scans::owner(tx, id)
        .await?
        .ok_or_else(|| not_found(id))?)
}

/// Closes a scan that no coordinator of this process runs (its server exited, or it
/// finished meanwhile): a scan still running is closed `cancelled`, one that finished
/// gives 409.
async fn close_orphan(tx: &mut TenantTx, id: Uuid) -> Result<(), ApiError> {
    if store::scans::cancel_orphan(tx, id).await? {
        return Ok(());
    }
    let row = store::scans::get(tx, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    ensure_running(&row)
}
