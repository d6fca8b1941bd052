//! Tenant supervisor: one per active tenant, named `tenant:<path>:<n>`.
//!
//! Supervised by the coordinator. Records each scan request (scan row plus audit row in
//! one transaction), starts one connector actor per connector of the scan (the request's
//! code targets form the built-in `code` connector), closes the scan once every connector
//! has reported or failed, and stops itself once no scan is running. A connector failure
//! fails that connector's scopes only. A cancel request is forwarded to the scan's
//! connectors, which settle their open scopes as cancelled. Mailbox: unbounded; it carries
//! scan requests, cancel requests and one report per connector.

mod record;

use std::collections::HashMap;

use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, SupervisionEvent};
use serde_json::json;
use store::{TenantContext, TenantPath};
use tokio::sync::oneshot;
use tracing::{error, info};
use uuid::Uuid;

use super::Shared;
use super::connector::{ConnectorActor, ConnectorArgs, ConnectorMsg, ConnectorReport};
use super::coordinator::{CancelScan, CoordinatorMsg};
use super::writer::{CoveredScope, FinishScan, WriterMsg};
use crate::scan::{
    ALL_SCOPES, ScanError, ScanOutcome, ScanReplies, ScanRequest, ScanStatus, ScopeOutcome,
    ScopeStatus,
};

/// Maximum scopes named in the error text of a scan that is not complete; the summary
/// lists them all.
const MAX_SCOPES_IN_ERROR: usize = 20;

/// Arguments of a tenant actor.
pub(crate) struct TenantArgs {
    /// Slug path as the user gave it, e.g. `acme/emea`.
    pub(crate) slug_path: String,
    /// Tenant path derived from it.
    pub(crate) path: TenantPath,
    /// Shared configuration and actors.
    pub(crate) shared: Shared,
    /// Root actor, notified when this tenant runs no scan.
    pub(crate) coordinator: ActorRef<CoordinatorMsg>,
}

/// Messages to a tenant actor.
pub(crate) enum TenantMsg {
    /// Records and starts a scan, replying once it is recorded and once it has finished.
    StartScan(ScanRequest, ScanReplies),
    /// A connector settled all of its scopes.
    ConnectorFinished(Uuid, ConnectorReport),
    /// Cancels a running scan; replies once it is closed.
    CancelScan(CancelScan),
}

/// A connector actor of a running scan.
struct RunningConnector {
    /// Scan it crawls for.
    scan_id: Uuid,
    /// Position in the scan's connector list.
    index: usize,
    /// Connector name.
    name: String,
    /// Provider family.
    provider: String,
    /// The actor, to forward cancel requests to.
    actor: ActorRef<ConnectorMsg>,
}

/// A scan in progress.
struct ActiveScan {
    /// Port of the caller waiting for the outcome.
    finished_tx: oneshot::Sender<Result<ScanOutcome, ScanError>>,
    /// Frameworks evaluated.
    frameworks: Vec<String>,
    /// One report slot per connector, filled as they report.
    reports: Vec<Option<ConnectorReport>>,
    /// Set once a cancel request arrived.
    cancel: Option<Cancellation>,
    /// Counters of the code walk, when the scan has code targets; their final values go
    /// into the summary.
    code_progress: Option<std::sync::Arc<agents::ScanProgress>>,
}

/// Cancel requests of one scan.
#[derive(Default)]
struct Cancellation {
    /// Actor to audit the cancel for, when the requester has no transaction of its own.
    actor: Option<String>,
    /// Ports of the requesters, told whether the scan closed `cancelled`.
    reply_txs: Vec<oneshot::Sender<bool>>,
}

/// State of a tenant actor.
pub(crate) struct TenantState {
    args: TenantArgs,
    ctx: TenantContext,
    /// Scans in progress by id.
    scans: HashMap<Uuid, ActiveScan>,
    /// Connector actors by actor id.
    connectors: HashMap<ActorId, RunningConnector>,
    /// Scan requests received so far; the coordinator compares it with the number it routed.
    num_requests: u64,
}

/// The tenant actor.
pub(crate) struct TenantActor;

impl Actor for TenantActor {
    type Msg = TenantMsg;
    type State = TenantState;
    type Arguments = TenantArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: TenantArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        let ctx = TenantContext::new(args.path.clone());
        crate::metrics::actor_started("tenant");
        Ok(TenantState {
            args,
            ctx,
            scans: HashMap::new(),
            connectors: HashMap::new(),
            num_requests: 0,
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        _state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        crate::metrics::actor_stopped("tenant");
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            TenantMsg::StartScan(request, replies) => {
                state.num_requests += 1;
                // The caller receives the error and reports it; it is logged here at info only.
                if let Err(scan_error) = start_scan(&myself, state, request, replies).await {
                    info!(tenant.path = %state.ctx.path().as_str(), error = %scan_error, "scan did not start");
                }
            }
            TenantMsg::ConnectorFinished(scan_id, report) => {
                let index = report.index;
                state
                    .connectors
                    .retain(|_, running| !(running.scan_id == scan_id && running.index == index));
                store_report(state, scan_id, report).await;
            }
            TenantMsg::CancelScan(cancel) => request_cancel(state, cancel),
        }
        report_when_idle(state);
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let SupervisionEvent::ActorFailed(cell, failure) = event
            && let Some(running) = state.connectors.remove(&cell.get_id())
        {
            error!(scan.id = %running.scan_id, connector.name = %running.name, error = %failure, "connector failed; failing its scopes");
            let message = format!("connector `{}` failed: {failure}", running.name);
            let report = failed_report(&running.name, &running.provider, running.index, message);
            store_report(state, running.scan_id, report).await;
        }
        report_when_idle(state);
        Ok(())
    }
}

/// Tells the coordinator that this tenant runs no scan. The coordinator stops the actor
/// only if it has routed no request since, so a request in flight is never dropped.
fn report_when_idle(state: &TenantState) {
    if state.scans.is_empty() {
        let idle = CoordinatorMsg::TenantIdle {
            path: state.ctx.path().as_str().to_owned(),
            num_requests: state.num_requests,
        };
        let _ = state.args.coordinator.cast(idle);
    }
}

/// Validates and records a scan, then starts its connectors. On error it sends the error
/// to the caller and also returns it for logging.
async fn start_scan(
    myself: &ActorRef<TenantMsg>,
    state: &mut TenantState,
    request: ScanRequest,
    replies: ScanReplies,
) -> Result<(), String> {
    let recorded = match record::record_scan(state, &request).await {
        Ok(recorded) => recorded,
        Err(scan_error) => {
            let message = scan_error.to_string();
            replies.reject(scan_error);
            return Err(message);
        }
    };
    let scan_id = recorded.scan_id;
    let _ = replies.started_tx.send(Ok(scan_id));
    let frameworks = std::sync::Arc::new(recorded.frameworks.clone());
    state.scans.insert(
        scan_id,
        ActiveScan {
            finished_tx: replies.finished_tx,
            frameworks: recorded.frameworks,
            reports: recorded.connectors.iter().map(|_| None).collect(),
            cancel: None,
            code_progress: (!request.targets.is_empty()).then(|| request.progress.clone()),
        },
    );
    info!(tenant.path = %state.ctx.path().as_str(), scan.id = %scan_id, num_connectors = recorded.connectors.len(), "scan started");

    for (index, planned) in recorded.connectors.into_iter().enumerate() {
        let args = ConnectorArgs {
            ctx: state.ctx.clone(),
            scan_id,
            index,
            name: planned.name.clone(),
            source: planned.source,
            frameworks: frameworks.clone(),
            shared: state.args.shared.clone(),
            tenant: myself.clone(),
        };
        let actor_name = format!(
            "connector:{}:{}:{scan_id}",
            state.ctx.path().as_str(),
            planned.name
        );
        match myself
            .spawn_linked(Some(actor_name), ConnectorActor, args)
            .await
        {
            Ok((actor, _)) => {
                let running = RunningConnector {
                    scan_id,
                    index,
                    name: planned.name,
                    provider: planned.provider,
                    actor: actor.clone(),
                };
                state.connectors.insert(actor.get_id(), running);
            }
            Err(spawn_error) => {
                let message = format!(
                    "connector `{}` failed to start: {spawn_error}",
                    planned.name
                );
                let report = failed_report(&planned.name, &planned.provider, index, message);
                store_report(state, scan_id, report).await;
            }
        }
    }
    Ok(())
}

/// Forwards a cancel request to the scan's connectors, or replies `false` when the scan
/// does not run here.
fn request_cancel(state: &mut TenantState, cancel: CancelScan) {
    let Some(scan) = state.scans.get_mut(&cancel.scan_id) else {
        let _ = cancel.reply_tx.send(false);
        return;
    };
    let cancellation = scan.cancel.get_or_insert_with(Cancellation::default);
    if cancellation.actor.is_none() {
        cancellation.actor = cancel.actor;
    }
    cancellation.reply_txs.push(cancel.reply_tx);
    info!(tenant.path = %state.ctx.path().as_str(), scan.id = %cancel.scan_id, "scan cancel requested");
    for running in state.connectors.values() {
        if running.scan_id == cancel.scan_id {
            let _ = running.actor.cast(ConnectorMsg::Cancel);
        }
    }
}

/// Builds the report of a connector that died or never started: one failed entry for all
/// of its scopes.
fn failed_report(name: &str, provider: &str, index: usize, message: String) -> ConnectorReport {
    ConnectorReport {
        index,
        scopes: vec![ScopeOutcome::unsettled(
            name,
            provider,
            ALL_SCOPES,
            ScopeStatus::Failed,
            0,
            message,
        )],
        covered: Vec::new(),
        system_ids: Vec::new(),
    }
}

/// Stores a connector's report and closes the scan once every connector has reported.
async fn store_report(state: &mut TenantState, scan_id: Uuid, report: ConnectorReport) {
    let Some(scan) = state.scans.get_mut(&scan_id) else {
        return;
    };
    let index = report.index;
    if let Some(slot) = scan.reports.get_mut(index) {
        *slot = Some(report);
    }
    if scan.reports.iter().all(Option::is_some) {
        finish_scan(state, scan_id).await;
    }
}

/// Closes the scan row through the writer and sends the outcome to the caller.
async fn finish_scan(state: &mut TenantState, scan_id: Uuid) {
    let Some(scan) = state.scans.remove(&scan_id) else {
        return;
    };
    let mut scopes = Vec::new();
    let mut covered: Vec<CoveredScope> = Vec::new();
    let mut system_ids = Vec::new();
    for report in scan.reports.into_iter().flatten() {
        scopes.extend(report.scopes);
        covered.extend(report.covered);
        system_ids.extend(report.system_ids);
    }
    let status = scan_status(&scopes);
    crate::metrics::scan_finished(status.as_str());
    let not_covered: Vec<serde_json::Value> = scopes
        .iter()
        .filter_map(|scope| {
            let reason = scope.shortfall()?;
            Some(json!({
                "connector": scope.connector,
                "scope": scope.scope,
                "status": scope.status,
                "reason": reason,
            }))
        })
        .collect();
    let mut summary = json!({
        "scopes": scopes,
        "not_covered": not_covered,
        "num_systems": system_ids.len(),
        "system_ids": system_ids,
        "frameworks": scan.frameworks,
    });
    if let Some(progress) = &scan.code_progress {
        let relaxed = std::sync::atomic::Ordering::Relaxed;
        summary["files_seen"] = json!(progress.files_seen.load(relaxed));
        summary["files_scanned"] = json!(progress.files_scanned.load(relaxed));
    }
    let (cancelled_by, reply_txs) = match scan.cancel {
        Some(cancellation) => (cancellation.actor, cancellation.reply_txs),
        None => (None, Vec::new()),
    };
    let finish = FinishScan {
        ctx: state.ctx.clone(),
        scan_id,
        covered,
        scopes: scopes.iter().map(ScopeOutcome::to_record).collect(),
        status,
        summary,
        error: scan_error_text(status, &scopes),
        cancelled_by,
    };
    let written = ractor::call!(
        state.args.shared.writer,
        WriterMsg::FinishScan,
        Box::new(finish)
    );
    let outcome = match written {
        Ok(Ok(())) => Ok(ScanOutcome {
            scan_id,
            tenant_path: state.ctx.path().as_str().to_owned(),
            status,
            scopes,
            system_ids,
            frameworks: scan.frameworks,
        }),
        Ok(Err(message)) => Err(ScanError::Aborted(format!(
            "closing scan {scan_id} failed: {message}"
        ))),
        Err(messaging) => Err(ScanError::Aborted(format!(
            "writer unavailable: {messaging}"
        ))),
    };
    info!(tenant.path = %state.ctx.path().as_str(), scan.id = %scan_id, scan.status = status.as_str(), "scan finished");
    let was_cancelled = outcome.is_ok() && status == ScanStatus::Cancelled;
    for reply_tx in reply_txs {
        let _ = reply_tx.send(was_cancelled);
    }
    let _ = scan.finished_tx.send(outcome);
}

/// Returns the error text of a scan that is not complete: each scope not covered, and why.
fn scan_error_text(status: ScanStatus, scopes: &[ScopeOutcome]) -> Option<String> {
    if status == ScanStatus::Completed {
        return None;
    }
    let shortfalls: Vec<String> = scopes
        .iter()
        .filter_map(|scope| {
            let reason = scope.shortfall()?;
            Some(format!(
                "{} `{}` {}: {reason}",
                scope.connector,
                scope.scope,
                scope.status.as_str()
            ))
        })
        .collect();
    let mut text = shortfalls
        .iter()
        .take(MAX_SCOPES_IN_ERROR)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if shortfalls.len() > MAX_SCOPES_IN_ERROR {
        text.push_str(&format!(
            "; and {} more scopes, listed in the summary",
            shortfalls.len() - MAX_SCOPES_IN_ERROR
        ));
    }
    if text.is_empty() {
        text = "no scope to crawl".to_owned();
    }
    Some(text)
}

/// Derives the scan status from its scopes: `cancelled` when a scope was cancelled,
/// `failed` when no scope was crawled, `completed` only when every scope is covered or
/// skipped with nothing missing, `partial` otherwise. Never `completed` with a scope or a
/// system missing.
pub(crate) fn scan_status(scopes: &[ScopeOutcome]) -> ScanStatus {
    if scopes
        .iter()
        .any(|scope| scope.status == ScopeStatus::Cancelled)
    {
        return ScanStatus::Cancelled;
    }
    // A skipped scope (a region that is not enabled) was settled without a crawl: a scan
    // whose every scope was skipped had nothing to miss.
    let num_settled = scopes
        .iter()
        .filter(|scope| scope.status.was_crawled() || scope.status == ScopeStatus::Skipped)
        .count();
    if num_settled == 0 {
        ScanStatus::Failed
    } else if scopes.iter().all(ScopeOutcome::is_complete) {
        ScanStatus::Completed
    } else {
        ScanStatus::Partial
    }
}
