//! Tenant supervisor: one per active tenant, named `tenant:<path>`.
//!
//! Supervised by the coordinator. Records each scan request (scan row plus audit row in
//! one transaction), starts one connector actor per scan, closes the scan when the
//! connector reports or fails, and stops itself once no scan is running. A connector
//! failure fails that scan only.

use std::collections::HashMap;
use std::path::Path;

use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, SupervisionEvent};
use serde_json::json;
use store::{TenantContext, TenantPath};
use tokio::sync::oneshot;
use tracing::{error, info};
use uuid::Uuid;

use super::Shared;
use super::connector::{ConnectorActor, ConnectorArgs, ConnectorReport};
use super::coordinator::CoordinatorMsg;
use super::writer::{FinishScan, WriterMsg};
use crate::scan::{
    ScanError, ScanOutcome, ScanReplies, ScanRequest, ScanStatus, ScopeOutcome, ScopeStatus,
};

/// Framework a tenant is subscribed to when it has no subscription yet.
const DEFAULT_FRAMEWORK: &str = "eu-ai-act";

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
    /// A connector covered or gave up on all of its scopes.
    ConnectorFinished(Uuid, ConnectorReport),
}

/// A scan in progress.
struct ActiveScan {
    /// Port of the caller waiting for the outcome.
    finished_tx: oneshot::Sender<Result<ScanOutcome, ScanError>>,
    /// Frameworks evaluated.
    frameworks: Vec<String>,
    /// Scope ids in request order, to report a failed connector.
    scopes: Vec<String>,
}

/// State of a tenant actor.
pub(crate) struct TenantState {
    args: TenantArgs,
    ctx: TenantContext,
    /// Scans in progress by id.
    scans: HashMap<Uuid, ActiveScan>,
    /// Connector actor id to the scan it runs.
    connectors: HashMap<ActorId, Uuid>,
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
                state.connectors.retain(|_, scan| *scan != scan_id);
                finish_scan(state, scan_id, report).await;
            }
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
        if let SupervisionEvent::ActorFailed(cell, failure) = event {
            if let Some(scan_id) = state.connectors.remove(&cell.get_id()) {
                error!(scan.id = %scan_id, error = %failure, "connector failed; failing its scan");
                let report = failed_report(state, scan_id, &failure.to_string());
                finish_scan(state, scan_id, report).await;
            }
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

/// Validates and records a scan, then starts its connector. On error it sends the error to
/// the caller and also returns it for logging.
async fn start_scan(
    myself: &ActorRef<TenantMsg>,
    state: &mut TenantState,
    request: ScanRequest,
    replies: ScanReplies,
) -> Result<(), String> {
    let recorded = record_scan(state, &request).await;
    let (scan_id, frameworks, scopes) = match recorded {
        Ok(recorded) => recorded,
        Err(scan_error) => {
            let message = scan_error.to_string();
            replies.reject(scan_error);
            return Err(message);
        }
    };
    let _ = replies.started_tx.send(Ok(scan_id));
    let finished_tx = replies.finished_tx;
    let args = ConnectorArgs {
        ctx: state.ctx.clone(),
        scan_id,
        scopes: scopes.clone(),
        frameworks: frameworks.clone(),
        progress: request.progress.clone(),
        shared: state.args.shared.clone(),
        tenant: myself.clone(),
    };
    let name = format!("connector:{}:{scan_id}", state.ctx.path().as_str());
    info!(tenant.path = %state.ctx.path().as_str(), scan.id = %scan_id, num_scopes = scopes.len(), "scan started");
    match myself.spawn_linked(Some(name), ConnectorActor, args).await {
        Ok((connector, _)) => {
            state.connectors.insert(connector.get_id(), scan_id);
            state.scans.insert(
                scan_id,
                ActiveScan {
                    finished_tx,
                    frameworks,
                    scopes,
                },
            );
            Ok(())
        }
        Err(spawn_error) => {
            let message = format!("connector failed to start: {spawn_error}");
            state.scans.insert(
                scan_id,
                ActiveScan {
                    finished_tx,
                    frameworks,
                    scopes,
                },
            );
            let report = failed_report(state, scan_id, &message);
            finish_scan(state, scan_id, report).await;
            Err(message)
        }
    }
}

/// Returns the scope id of a target: its canonical path when it exists, else as given.
pub(crate) fn scope_id(target: &Path) -> String {
    std::fs::canonicalize(target)
        .unwrap_or_else(|_| target.to_path_buf())
        .display()
        .to_string()
}

/// Returns the scope ids of the targets, rejecting a target that repeats or lies inside
/// another, since its files would be scanned twice and its systems stored twice.
fn distinct_scopes(request: &ScanRequest) -> Result<Vec<String>, ScanError> {
    if request.targets.is_empty() {
        return Err(ScanError::NoTargets);
    }
    let scopes: Vec<String> = request
        .targets
        .iter()
        .map(|target| scope_id(target))
        .collect();
    for (index, outer) in scopes.iter().enumerate() {
        for inner in scopes.iter().skip(index + 1) {
            let (outer_path, inner_path) = (Path::new(outer), Path::new(inner));
            if inner_path.starts_with(outer_path) {
                return Err(ScanError::OverlappingTargets {
                    outer: outer.clone(),
                    inner: inner.clone(),
                });
            }
            if outer_path.starts_with(inner_path) {
                return Err(ScanError::OverlappingTargets {
                    outer: inner.clone(),
                    inner: outer.clone(),
                });
            }
        }
    }
    Ok(scopes)
}

/// Ensures the tenant and its subscription, and inserts the scan row with its audit row.
/// Returns the scan id, the frameworks to evaluate and the scope ids.
async fn record_scan(
    state: &TenantState,
    request: &ScanRequest,
) -> Result<(Uuid, Vec<String>, Vec<String>), ScanError> {
    let scopes = distinct_scopes(request)?;
    let rule_book = &state.args.shared.config.rule_book;
    for slug in &request.frameworks {
        if rule_book.framework(slug).is_none() {
            let known: Vec<&str> = rule_book
                .frameworks()
                .map(|framework| framework.slug.as_str())
                .collect();
            return Err(ScanError::UnknownFramework {
                slug: slug.clone(),
                known: known.join(", "),
            });
        }
    }

    let mut tx = state.args.shared.config.store.begin(&state.ctx).await?;
    let tenant = store::tenants::ensure(&mut tx, &state.args.slug_path).await?;
    let frameworks = subscribe(&mut tx, &request.frameworks, &request.requested_by).await?;
    let new_scan = store::scans::NewScan {
        source: "code".to_owned(),
        target: scopes.join("\n"),
        requested_by: request.requested_by.clone(),
    };
    let scan = store::scans::create(&mut tx, new_scan).await?;
    let entry = super::audit_entry(
        &request.requested_by,
        "scan",
        &scan.id.to_string(),
        "scan.requested",
        json!({ "tenant": tenant.slug, "targets": scopes, "frameworks": frameworks }),
    );
    store::audit::append(&mut tx, entry).await?;
    tx.commit().await?;
    Ok((scan.id, frameworks, scopes))
}

/// Adds `requested` to the tenant's subscription (or subscribes it to the default framework
/// when it has none) and returns the frameworks to evaluate, auditing any change.
async fn subscribe(
    tx: &mut store::TenantTx,
    requested: &[String],
    actor: &str,
) -> Result<Vec<String>, ScanError> {
    let current = store::subscriptions::list(tx).await?;
    let mut subscribed = current.clone();
    if requested.is_empty() && subscribed.is_empty() {
        subscribed.push(DEFAULT_FRAMEWORK.to_owned());
    }
    for slug in requested {
        if !subscribed.contains(slug) {
            subscribed.push(slug.clone());
        }
    }
    subscribed.sort();
    if subscribed != current {
        let slugs: Vec<&str> = subscribed.iter().map(String::as_str).collect();
        store::subscriptions::set(tx, &slugs).await?;
        let diff = json!({ "before": current, "after": subscribed });
        store::audit::append(
            tx,
            super::audit_entry(
                actor,
                "subscription",
                "frameworks",
                "subscription.updated",
                diff,
            ),
        )
        .await?;
    }
    if requested.is_empty() {
        Ok(subscribed)
    } else {
        Ok(requested.to_vec())
    }
}

/// Builds the report of a connector that died: every scope failed with `message`.
fn failed_report(state: &TenantState, scan_id: Uuid, message: &str) -> ConnectorReport {
    let scopes = state
        .scans
        .get(&scan_id)
        .map(|scan| scan.scopes.clone())
        .unwrap_or_default();
    ConnectorReport {
        scopes: scopes
            .into_iter()
            .map(|scope| ScopeOutcome {
                scope,
                status: ScopeStatus::Failed,
                attempts: 0,
                error: Some(message.to_owned()),
                num_findings: 0,
                num_failed_systems: 0,
                issues: Vec::new(),
            })
            .collect(),
        covered: Vec::new(),
        system_ids: Vec::new(),
    }
}

/// Closes the scan row through the writer and sends the outcome to the caller.
async fn finish_scan(state: &mut TenantState, scan_id: Uuid, report: ConnectorReport) {
    let Some(scan) = state.scans.remove(&scan_id) else {
        return;
    };
    let status = scan_status(&report.scopes);
    crate::metrics::scan_finished(status.as_str());
    let summary = json!({
        "scopes": report.scopes,
        "num_systems": report.system_ids.len(),
        "frameworks": scan.frameworks,
    });
    let error = (status == ScanStatus::Failed).then(|| {
        report
            .scopes
            .iter()
            .filter_map(|scope| scope.error.clone())
            .collect::<Vec<_>>()
            .join("; ")
    });
    let finish = FinishScan {
        ctx: state.ctx.clone(),
        scan_id,
        covered: report.covered,
        status,
        summary,
        error,
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
            scopes: report.scopes,
            system_ids: report.system_ids,
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
    let _ = scan.finished_tx.send(outcome);
}

/// Derives the scan status from its scopes: never `completed` with a scope or a system
/// missing.
pub(crate) fn scan_status(scopes: &[ScopeOutcome]) -> ScanStatus {
    let num_covered = scopes
        .iter()
        .filter(|scope| scope.status == ScopeStatus::Covered)
        .count();
    let num_failed_systems: u64 = scopes.iter().map(|scope| scope.num_failed_systems).sum();
    if num_covered == scopes.len() && !scopes.is_empty() && num_failed_systems == 0 {
        ScanStatus::Completed
    } else if num_covered == 0 {
        ScanStatus::Failed
    } else {
        ScanStatus::Partial
    }
}
