//! `Scans`: start, read, cancel and follow the scans of the caller's tenant.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents::ScanProgress;
use proto::v1::scans_server::Scans;
use proto::v1::{
    CancelScanRequest, GetScanRequest, Scan, ScanEvent, ScopeCoverage, StartScanRequest,
    StartScanResponse, WatchScanRequest,
};
use serde_json::json;
use store::TenantContext;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use tracing::warn;
use uuid::Uuid;

use super::GrpcState;
use super::auth::{Access, Principal};
use super::convert::{self, store_status};
use crate::ScanRequest;

/// Time between two progress events of `WatchScan`.
const WATCH_INTERVAL: Duration = Duration::from_millis(500);

/// Progress counters of the scans started through this server and still running. A scan
/// started elsewhere is watched through its row alone, without file counters.
#[derive(Default)]
pub(crate) struct Watches {
    running: Mutex<HashMap<Uuid, Arc<ScanProgress>>>,
}

impl Watches {
    fn insert(&self, scan_id: Uuid, progress: Arc<ScanProgress>) {
        self.lock().insert(scan_id, progress);
    }

    fn remove(&self, scan_id: Uuid) {
        self.lock().remove(&scan_id);
    }

    fn get(&self, scan_id: Uuid) -> Option<Arc<ScanProgress>> {
        self.lock().get(&scan_id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<ScanProgress>>> {
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The `Scans` service.
pub(crate) struct ScansService {
    state: GrpcState,
}

impl ScansService {
    /// Creates the service.
    pub(crate) fn new(state: GrpcState) -> Self {
        ScansService { state }
    }

    /// Reads one scan row of the tenant; `NOT_FOUND` when the tenant has no such scan.
    async fn scan_row(
        &self,
        tenant: &TenantContext,
        scan_id: Uuid,
    ) -> Result<store::scans::ScanRow, Status> {
        read_scan(&self.state.store, tenant, scan_id)
            .await?
            .ok_or_else(|| Status::not_found(format!("scan {scan_id} not found")))
    }
}

#[tonic::async_trait]
impl Scans for ScansService {
    type WatchScanStream = ReceiverStream<Result<ScanEvent, Status>>;

    #[tracing::instrument(skip_all, name = "grpc.scans.start_scan")]
    async fn start_scan(
        &self,
        request: Request<StartScanRequest>,
    ) -> Result<Response<StartScanResponse>, Status> {
        let principal = Principal::of(&request)?;
        principal.require(Access::Write)?;
        let request = request.into_inner();
        let scan_root = self.state.config.scan_root.as_deref().ok_or_else(|| {
            Status::failed_precondition(
                "scanning through the API is off: start the server with --scan-root",
            )
        })?;
        let targets = resolve_targets(scan_root, &request.targets)?;

        let progress = Arc::new(ScanProgress::default());
        let scan_request = ScanRequest {
            tenant: principal.tenant.path().slug_path(),
            targets,
            connectors: Vec::new(),
            frameworks: request.frameworks,
            requested_by: principal.actor(),
            progress: progress.clone(),
        };
        let handle = self
            .state
            .coordinator
            .start_scan(scan_request)
            .await
            .map_err(|error| Status::invalid_argument(error.to_string()))?;
        let scan_id = handle.scan_id();
        self.state.watches.insert(scan_id, progress);
        let watches = self.state.watches.clone();
        tokio::spawn(async move {
            if let Err(error) = handle.outcome().await {
                warn!(scan.id = %scan_id, %error, "scan started over gRPC did not finish");
            }
            watches.remove(scan_id);
        });
        Ok(Response::new(StartScanResponse {
            scan_id: scan_id.to_string(),
        }))
    }

    #[tracing::instrument(skip_all, name = "grpc.scans.get_scan")]
    async fn get_scan(&self, request: Request<GetScanRequest>) -> Result<Response<Scan>, Status> {
        let principal = Principal::of(&request)?;
        let scan_id = convert::parse_id("scan_id", &request.get_ref().scan_id)?;
        let row = self.scan_row(&principal.tenant, scan_id).await?;
        Ok(Response::new(convert::scan(row)))
    }

    #[tracing::instrument(skip_all, name = "grpc.scans.cancel_scan")]
    async fn cancel_scan(
        &self,
        request: Request<CancelScanRequest>,
    ) -> Result<Response<Scan>, Status> {
        let principal = Principal::of(&request)?;
        principal.require(Access::Write)?;
        let scan_id = convert::parse_id("scan_id", &request.get_ref().scan_id)?;
        let row = self.scan_row(&principal.tenant, scan_id).await?;
        if row.status != "running" {
            return Err(Status::failed_precondition(format!(
                "scan {scan_id} is already {}; only a running scan can be cancelled",
                row.status
            )));
        }
        if row.source == store::scans::INGEST_SOURCE {
            return Err(Status::failed_precondition(format!(
                "scan {scan_id} records an Ingest.StreamFindings stream: it ends when the \
                 stream closes, so close the stream instead"
            )));
        }
        // A parent tenant may cancel a subsidiary's scan, which the subsidiary's tenant
        // actor runs.
        let scan_tenant = owning_tenant(&self.state.store, &principal.tenant, scan_id).await?;
        let cancelled = self
            .state
            .coordinator
            .cancel_scan_audited(&scan_tenant, scan_id, &principal.actor())
            .await
            .map_err(|error| Status::unavailable(error.to_string()))?;
        if !cancelled {
            close_orphan(&self.state.store, &principal, scan_id).await?;
        }
        let row = self.scan_row(&principal.tenant, scan_id).await?;
        Ok(Response::new(convert::scan(row)))
    }

    #[tracing::instrument(skip_all, name = "grpc.scans.watch_scan")]
    async fn watch_scan(
        &self,
        request: Request<WatchScanRequest>,
    ) -> Result<Response<Self::WatchScanStream>, Status> {
        let principal = Principal::of(&request)?;
        let scan_id = convert::parse_id("scan_id", &request.get_ref().scan_id)?;
        self.scan_row(&principal.tenant, scan_id).await?;
        let (event_tx, event_rx) = mpsc::channel(4);
        tokio::spawn(watch(
            self.state.clone(),
            principal.tenant,
            scan_id,
            event_tx,
        ));
        Ok(Response::new(ReceiverStream::new(event_rx)))
    }
}

/// Sends a progress event every [`WATCH_INTERVAL`] until the scan's row is closed, then
/// the final event with the coverage of every scope.
async fn watch(
    state: GrpcState,
    tenant: TenantContext,
    scan_id: Uuid,
    event_tx: mpsc::Sender<Result<ScanEvent, Status>>,
) {
    loop {
        let event = match progress_event(&state, &tenant, scan_id).await {
            Ok(event) => event,
            Err(status) => {
                let _ = event_tx.send(Err(status)).await;
                return;
            }
        };
        let finished = event.finished;
        if event_tx.send(Ok(event)).await.is_err() || finished {
            return;
        }
        tokio::time::sleep(WATCH_INTERVAL).await;
    }
}

/// Builds the current event of a scan from its row and, while it runs here, its counters.
async fn progress_event(
    state: &GrpcState,
    tenant: &TenantContext,
    scan_id: Uuid,
) -> Result<ScanEvent, Status> {
    let row = read_scan(&state.store, tenant, scan_id)
        .await?
        .ok_or_else(|| Status::not_found(format!("scan {scan_id} not found")))?;
    let finished = row.status != "running";
    let mut event = ScanEvent {
        scan_id: scan_id.to_string(),
        status: row.status,
        finished,
        ..ScanEvent::default()
    };
    if let Some(progress) = state.watches.get(scan_id) {
        event.files_seen = progress.files_seen.load(Ordering::Relaxed);
        event.files_scanned = progress.files_scanned.load(Ordering::Relaxed);
        event.num_findings = progress.findings.load(Ordering::Relaxed);
    }
    if finished {
        event.scopes = scope_coverage(state, tenant, scan_id).await?;
        event.num_findings = event.scopes.iter().map(|scope| scope.num_findings).sum();
        event.files_seen = summary_count(&row.summary, "files_seen");
        event.files_scanned = summary_count(&row.summary, "files_scanned");
    }
    Ok(event)
}

/// Returns a count stored in a finished scan's summary; 0 when absent, as for scans with
/// no code targets.
fn summary_count(summary: &serde_json::Value, field: &str) -> u64 {
    summary
        .get(field)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}

/// Reads the coverage of every scope of a finished scan.
async fn scope_coverage(
    state: &GrpcState,
    tenant: &TenantContext,
    scan_id: Uuid,
) -> Result<Vec<ScopeCoverage>, Status> {
    let mut tx = state
        .store
        .begin_read_only(tenant)
        .await
        .map_err(store_status)?;
    let rows = store::scans::list_scopes(&mut tx, scan_id)
        .await
        .map_err(store_status)?;
    tx.commit().await.map_err(store_status)?;
    Ok(rows
        .into_iter()
        .map(|row| ScopeCoverage {
            scope: row.scope,
            status: row.status,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            num_findings: u64::try_from(row.num_findings).unwrap_or(0),
            error: row.error.unwrap_or_default(),
        })
        .collect())
}

/// Reads one scan row of the tenant.
async fn read_scan(
    store: &store::Store,
    tenant: &TenantContext,
    scan_id: Uuid,
) -> Result<Option<store::scans::ScanRow>, Status> {
    let mut tx = store.begin_read_only(tenant).await.map_err(store_status)?;
    let row = store::scans::get(&mut tx, scan_id)
        .await
        .map_err(store_status)?;
    tx.commit().await.map_err(store_status)?;
    Ok(row)
}

/// Returns the context of the tenant that owns a scan visible to `tenant`: the tenant
/// itself or one of its subsidiaries.
async fn owning_tenant(
    store: &store::Store,
    tenant: &TenantContext,
    scan_id: Uuid,
) -> Result<TenantContext, Status> {
    let mut tx = store.begin_read_only(tenant).await.map_err(store_status)?;
    let owner = store::scans::owner(&mut tx, scan_id)
        .await
        .map_err(store_status)?
        .ok_or_else(|| Status::not_found(format!("scan {scan_id} not found")))?;
    tx.commit().await.map_err(store_status)?;
    Ok(owner)
}

/// Closes a scan that no coordinator of this process runs, because the server that ran it
/// exited, and audits the cancel. A scan that finished meanwhile gives
/// `FAILED_PRECONDITION`.
async fn close_orphan(
    store: &store::Store,
    principal: &Principal,
    scan_id: Uuid,
) -> Result<(), Status> {
    let mut tx = store.begin(&principal.tenant).await.map_err(store_status)?;
    if !store::scans::cancel_orphan(&mut tx, scan_id)
        .await
        .map_err(store_status)?
    {
        let status = store::scans::get(&mut tx, scan_id)
            .await
            .map_err(store_status)?
            .map_or_else(|| "gone".to_owned(), |row| row.status);
        return Err(Status::failed_precondition(format!(
            "scan {scan_id} is already {status}; only a running scan can be cancelled"
        )));
    }
    let entry = crate::actors::audit_entry(
        &principal.actor(),
        "scan",
        &scan_id.to_string(),
        "scan.cancel",
        json!({ "status": { "from": "running", "to": "cancelled" } }),
    );
    store::audit::append(&mut tx, entry)
        .await
        .map_err(store_status)?;
    tx.commit().await.map_err(store_status)
}

/// Resolves the request's targets under the scan root, rejecting any that leaves it.
fn resolve_targets(scan_root: &Path, targets: &[String]) -> Result<Vec<PathBuf>, Status> {
    if targets.is_empty() {
        return Err(Status::invalid_argument(
            "field `targets` is empty: name at least one folder under the scan root",
        ));
    }
    let root = std::fs::canonicalize(scan_root).map_err(|error| {
        Status::failed_precondition(format!(
            "the scan root `{}` cannot be resolved: {error}",
            scan_root.display()
        ))
    })?;
    let mut resolved = Vec::with_capacity(targets.len());
    for (index, target) in targets.iter().enumerate() {
        if target.trim().is_empty() {
            return Err(Status::invalid_argument(format!(
                "field `targets[{index}]` is empty: name a folder under the scan root"
            )));
        }
        let relative = Path::new(target);
        if relative.is_absolute() {
            return Err(Status::invalid_argument(format!(
                "field `targets[{index}]` is the absolute path `{target}`: give a path \
                 relative to the scan root"
            )));
        }
        // `..` gets the message of every other miss (see `folder_in_root`), before the
        // file system is read at all.
        let not_inside = || {
            Status::invalid_argument(format!(
                "field `targets[{index}]` (`{target}`) is not a folder inside the scan root: \
                 give the path of a folder under it"
            ))
        };
        if relative
            .components()
            .any(|component| component == std::path::Component::ParentDir)
        {
            return Err(not_inside());
        }
        resolved.push(crate::folder_in_root(&root, relative).ok_or_else(not_inside)?);
    }
    Ok(resolved)
}
