//! Writer: the single path from scan results to Postgres.
//!
//! Supervised by the coordinator, which stops the tree if it dies (no scan could finish
//! without it). Systems arrive from classifier workers that wait for the reply, so the
//! number of writes in flight never exceeds the pool size, and one system is never in two
//! writes at once (the pool routes a system's jobs to one worker). Pending systems are
//! committed in batches, one transaction per tenant. Up to [`WriterArgs::max_in_flight`]
//! transactions run at once. While that many run, the writer takes no new message, so the
//! workers wait. When a batch fails, each system is retried in its own transaction, so one
//! bad row cannot take the others down with it. Closing a scan first waits for every
//! transaction in flight. Every upsert is idempotent on `(tenant, source, external_id)`
//! and writes nothing when the values are unchanged. Webhook events (`system.discovered`,
//! `system.risk_changed`, `verdict.changed`, `review.requested`, `scan.completed`,
//! `scan.failed`) are written to the outbox in the same transactions, so they commit
//! exactly when the change does.

mod finish;

use std::collections::BTreeMap;
use std::time::Duration;

use proto::Finding;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use rule_book::Verdict;
use serde_json::json;
use store::{Store, TenantContext, TenantTx};
use tokio::task::JoinSet;
use tracing::{debug, warn};
use uuid::Uuid;

use crate::RestartPolicy;
use crate::classify::Classification;
use crate::scan::ScanStatus;

/// Writer configuration.
pub(crate) struct WriterArgs {
    /// Application login.
    pub(crate) store: Store,
    /// Maximum systems per transaction.
    pub(crate) batch_size: usize,
    /// Wait before a partial batch is committed.
    pub(crate) batch_delay: Duration,
    /// Maximum transactions committing at once; at least 1.
    pub(crate) max_in_flight: usize,
}

/// One classified system with its findings and verdicts.
pub(crate) struct SystemWrite {
    /// Tenant of the system.
    pub(crate) ctx: TenantContext,
    /// Scan that produced it.
    pub(crate) scan_id: Uuid,
    /// Source of the system: the scope's provider family.
    pub(crate) source: String,
    /// Scope id.
    pub(crate) scope: String,
    /// Classification result.
    pub(crate) classification: Classification,
    /// Findings under the system's root.
    pub(crate) findings: Vec<Finding>,
    /// Verdicts of the subscribed frameworks.
    pub(crate) verdicts: Vec<Verdict>,
}

/// A crawled scope with the external ids its crawl saw.
pub(crate) struct CoveredScope {
    /// Source of its findings: the scope's provider family.
    pub(crate) source: String,
    /// Scope id.
    pub(crate) scope: String,
    /// External ids of every finding the crawl produced.
    pub(crate) seen: Vec<String>,
}

/// Closing writes of a scan.
pub(crate) struct FinishScan {
    /// Tenant of the scan.
    pub(crate) ctx: TenantContext,
    /// Scan id.
    pub(crate) scan_id: Uuid,
    /// Covered and partial scopes; findings of these scopes that were not seen are
    /// resolved. Failed, skipped and cancelled scopes are left out, so nothing is resolved
    /// on the strength of a crawl that did not run or did not finish.
    pub(crate) covered: Vec<CoveredScope>,
    /// Final coverage row of every scope.
    pub(crate) scopes: Vec<store::scans::ScopeRecord>,
    /// Final status.
    pub(crate) status: ScanStatus,
    /// Summary stored on the scan row and in the audit trail.
    pub(crate) summary: serde_json::Value,
    /// Scopes not covered and why, when the scan is not complete.
    pub(crate) error: Option<String>,
    /// Actor to record a `scan.cancel` audit row for; `None` when the requester audits.
    pub(crate) cancelled_by: Option<String>,
}

/// Messages to the writer.
pub(crate) enum WriterMsg {
    /// Queues a system for the next batch; replies once it is committed.
    WriteSystem(Box<SystemWrite>, RpcReplyPort<Result<Uuid, String>>),
    /// Commits the pending batch.
    Flush,
    /// Commits pending systems, resolves vanished findings and closes the scan row.
    FinishScan(Box<FinishScan>, RpcReplyPort<Result<(), String>>),
    /// Stores coverage rows of a running scan; failures are logged, since the rows are
    /// written again when the scan closes.
    RecordScopes {
        /// Tenant of the scan.
        ctx: TenantContext,
        /// Scan id.
        scan_id: Uuid,
        /// Rows to insert or replace.
        records: Vec<store::scans::ScopeRecord>,
    },
}

type PendingWrite = (Box<SystemWrite>, RpcReplyPort<Result<Uuid, String>>);

/// Pending batch of the writer.
pub(crate) struct WriterState {
    args: WriterArgs,
    /// Systems waiting for the next commit, each with the port its worker waits on.
    pending: Vec<PendingWrite>,
    /// Whether a `Flush` is already scheduled.
    flush_scheduled: bool,
    /// Batches being committed.
    in_flight: JoinSet<()>,
}

/// The writer actor.
pub(crate) struct WriterActor;

impl Actor for WriterActor {
    type Msg = WriterMsg;
    type State = WriterState;
    type Arguments = WriterArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: WriterArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        crate::metrics::actor_started("writer");
        Ok(WriterState {
            args,
            pending: Vec::new(),
            flush_scheduled: false,
            in_flight: JoinSet::new(),
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // Let started commits finish and reply to their workers instead of aborting them.
        drain(state).await;
        crate::metrics::actor_stopped("writer");
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            WriterMsg::WriteSystem(write, reply) => {
                state.pending.push((write, reply));
                crate::metrics::writer_pending(state.pending.len());
                if state.pending.len() >= state.args.batch_size {
                    flush(state).await;
                } else if !state.flush_scheduled {
                    state.flush_scheduled = true;
                    myself.send_after(state.args.batch_delay, || WriterMsg::Flush);
                }
            }
            WriterMsg::Flush => {
                state.flush_scheduled = false;
                flush(state).await;
            }
            WriterMsg::FinishScan(finish, reply) => {
                flush(state).await;
                drain(state).await;
                let result = finish::finish_scan(&state.args.store, *finish).await;
                let _ = reply.send(result.map_err(|error| error.to_string()));
            }
            WriterMsg::RecordScopes {
                ctx,
                scan_id,
                records,
            } => finish::record_scopes(&state.args.store, &ctx, scan_id, &records).await,
        }
        Ok(())
    }
}

/// Starts committing every pending system, one transaction per tenant. Waits first while
/// [`WriterArgs::max_in_flight`] transactions are running.
async fn flush(state: &mut WriterState) {
    let mut by_tenant: BTreeMap<String, Vec<PendingWrite>> = BTreeMap::new();
    for pending in state.pending.drain(..) {
        let path = pending.0.ctx.path().as_str().to_owned();
        by_tenant.entry(path).or_default().push(pending);
    }
    crate::metrics::writer_pending(0);
    for (tenant_path, batch) in by_tenant {
        while let Some(joined) = state.in_flight.try_join_next() {
            log_join_error(joined);
        }
        while state.in_flight.len() >= state.args.max_in_flight.max(1) {
            if let Some(joined) = state.in_flight.join_next().await {
                log_join_error(joined);
            }
        }
        state
            .in_flight
            .spawn(commit_batch(state.args.store.clone(), tenant_path, batch));
    }
}

/// Waits for every batch being committed.
async fn drain(state: &mut WriterState) {
    while let Some(joined) = state.in_flight.join_next().await {
        log_join_error(joined);
    }
}

/// Logs a commit task that panicked; its workers see their reply port dropped.
fn log_join_error(joined: Result<(), tokio::task::JoinError>) {
    if let Err(error) = joined {
        warn!(%error, "a writer commit task ended abnormally");
    }
}

/// Commits one tenant's batch and replies to each system's worker.
async fn commit_batch(store: Store, tenant_path: String, batch: Vec<PendingWrite>) {
    let started = std::time::Instant::now();
    let num_systems = batch.len();
    debug!(tenant.path = %tenant_path, batch.size = num_systems, "writer committing batch");
    let writes: Vec<&SystemWrite> = batch.iter().map(|(write, _)| write.as_ref()).collect();
    // A failed batch, such as one that deadlocked with a batch sharing its findings, is
    // written again with one transaction per system. Each of those upserts its findings in
    // one statement in key order, so two of them queue on shared findings instead of
    // deadlocking.
    match write_systems(&store, &writes).await {
        Ok(ids) => {
            crate::metrics::writer_batch(num_systems, started.elapsed());
            for ((_, reply), id) in batch.into_iter().zip(ids) {
                let _ = reply.send(Ok(id));
            }
        }
        Err(error) => {
            warn!(tenant.path = %tenant_path, %error, "batch failed; writing systems one by one");
            for (write, reply) in batch {
                let result = write_with_retries(&store, &[write.as_ref()]).await;
                let _ = reply.send(result.map(|ids| ids[0]).map_err(|error| error.to_string()));
            }
        }
    }
}

/// Runs [`write_systems`] again, up to [`CONFLICT_RETRY`] attempts in all, while Postgres
/// ends it for a conflict with another transaction, such as a batch that locked the same
/// findings first.
async fn write_with_retries(
    store: &Store,
    writes: &[&SystemWrite],
) -> Result<Vec<Uuid>, store::Error> {
    let mut attempt = 1;
    loop {
        match write_systems(store, writes).await {
            Err(error)
                if error.is_transaction_conflict() && attempt < CONFLICT_RETRY.max_attempts =>
            {
                let delay = CONFLICT_RETRY.backoff(attempt + 1);
                debug!(%error, attempt, retry.delay_ms = delay.as_millis() as u64, "writer transaction conflicted; retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Attempts and waits of a writer transaction that conflicts with another: 8 attempts,
/// 50 ms doubled per attempt up to 1 s, with the jitter of [`RestartPolicy::backoff`] so
/// that transactions that deadlocked together do not start again together.
const CONFLICT_RETRY: RestartPolicy = RestartPolicy {
    max_attempts: 8,
    initial_backoff: Duration::from_millis(50),
    max_backoff: Duration::from_secs(1),
};

/// Writes systems of one tenant in one transaction and returns their ids in order.
async fn write_systems(store: &Store, writes: &[&SystemWrite]) -> Result<Vec<Uuid>, store::Error> {
    let mut tx = store.begin(&writes[0].ctx).await?;
    let mut ids = Vec::with_capacity(writes.len());
    for write in writes {
        ids.push(write_system(&mut tx, write).await?);
    }
    tx.commit().await?;
    Ok(ids)
}

/// Upserts one system, its findings and its evaluations.
async fn write_system(tx: &mut TenantTx, write: &SystemWrite) -> Result<Uuid, store::Error> {
    let classification = &write.classification;
    let system = store::systems::SystemUpsert {
        source: write.source.clone(),
        external_id: storable(&system_external_id(&write.scope, &classification.root)),
        name: storable(&classification.name),
        root: storable(&classification.root),
        kinds: classification.kinds.clone(),
        risk_class: classification.risk_class.as_str().to_owned(),
        annex_iii_area: classification.annex_iii_area.clone(),
        gpai: classification.gpai,
        reasons: storable_json(json!(classification.reasons)),
        confidence: classification.confidence,
        facts: storable_json(serde_json::to_value(&classification.facts).unwrap_or_default()),
        scan_id: write.scan_id,
    };
    let previous_risk_class =
        store::systems::risk_class_by_key(tx, &write.source, &system.external_id).await?;
    let system_id = store::systems::upsert(tx, &system).await?.id;
    raise_system_event(tx, system_id, &system, previous_risk_class.as_deref()).await?;

    let findings: Vec<store::findings::FindingUpsert> = write
        .findings
        .iter()
        .map(|finding| finding_row(system_id, write.scan_id, finding))
        .collect();
    store::findings::upsert_batch(tx, &findings).await?;

    let evaluations: Vec<store::evaluations::EvaluationUpsert> = write
        .verdicts
        .iter()
        .map(|verdict| store::evaluations::EvaluationUpsert {
            system_id,
            framework: verdict.framework.clone(),
            rule_id: verdict.rule_id.clone(),
            status: verdict.status.clone(),
            reasons: storable_json(json!(verdict.reasons)),
            evidence_required: json!(verdict.evidence_required),
            scan_id: write.scan_id,
        })
        .collect();
    let num_changed = store::evaluations::upsert_batch(tx, &evaluations).await?;
    let reviews: Vec<store::reviews::ReviewRequest> = write
        .verdicts
        .iter()
        .filter(|verdict| verdict.needs_review)
        .map(|verdict| store::reviews::ReviewRequest {
            framework: verdict.framework.clone(),
            rule_id: verdict.rule_id.clone(),
            verdict: verdict.status.clone(),
        })
        .collect();
    store::reviews::request_batch(tx, system_id, &reviews, "system:coordinator").await?;
    if num_changed > 0 {
        raise_verdict_events(
            tx,
            system_id,
            previous_risk_class.is_some(),
            &write.verdicts,
        )
        .await?;
    }
    Ok(system_id)
}

/// Raises `system.discovered` for a new system and `system.risk_changed` when its risk
/// class moved, in the transaction that stores the system.
async fn raise_system_event(
    tx: &mut TenantTx,
    system_id: Uuid,
    system: &store::systems::SystemUpsert,
    previous_risk_class: Option<&str>,
) -> Result<(), store::Error> {
    let (event_type, data) = match previous_risk_class {
        None => (
            "system.discovered",
            json!({
                "system_id": system_id,
                "name": system.name,
                "root": system.root,
                "risk_class": system.risk_class,
                "annex_iii_area": system.annex_iii_area,
            }),
        ),
        Some(previous) if previous != system.risk_class => (
            "system.risk_changed",
            json!({
                "system_id": system_id,
                "name": system.name,
                "from": previous,
                "to": system.risk_class,
            }),
        ),
        Some(_) => return Ok(()),
    };
    store::webhooks::raise(tx, event_type, &data).await
}

/// Raises `verdict.changed` when an existing system's verdicts changed, and
/// `review.requested` when changed verdicts wait for a human decision.
async fn raise_verdict_events(
    tx: &mut TenantTx,
    system_id: Uuid,
    system_existed: bool,
    verdicts: &[Verdict],
) -> Result<(), store::Error> {
    if system_existed {
        let statuses: serde_json::Map<String, serde_json::Value> = verdicts
            .iter()
            .map(|verdict| (verdict.rule_id.clone(), json!(verdict.status)))
            .collect();
        let data = json!({ "system_id": system_id, "verdicts": statuses });
        store::webhooks::raise(tx, "verdict.changed", &data).await?;
    }
    let for_review: Vec<&str> = verdicts
        .iter()
        .filter(|verdict| verdict.needs_review)
        .map(|verdict| verdict.rule_id.as_str())
        .collect();
    if !for_review.is_empty() {
        let data = json!({ "system_id": system_id, "rules": for_review });
        store::webhooks::raise(tx, "review.requested", &data).await?;
    }
    Ok(())
}

/// Maps a domain finding to its row, with every text made storable.
fn finding_row(
    system_id: Uuid,
    scan_id: Uuid,
    finding: &Finding,
) -> store::findings::FindingUpsert {
    let attributes: serde_json::Map<String, serde_json::Value> = finding
        .attributes
        .iter()
        .map(|(key, value)| (storable(key), serde_json::Value::String(storable(value))))
        .collect();
    store::findings::FindingUpsert {
        system_id,
        source: storable(&finding.source),
        scope: storable(&finding.scope),
        external_id: storable(&finding.external_id),
        kind: finding.kind.as_str().to_owned(),
        subject: storable(&finding.subject),
        path: storable(&finding.path),
        line: finding
            .line
            .map(|line| i32::try_from(line).unwrap_or(i32::MAX)),
        confidence: finding.confidence,
        project_root: storable(&finding.project_root),
        attributes: serde_json::Value::Object(attributes),
        evidence: finding.evidence.as_deref().map(storable),
        scan_id,
    }
}

/// Replaces NUL characters, which Postgres rejects in `text` and `jsonb`, with U+FFFD.
/// Scanned files may contain them anywhere, and one of them must not fail a whole system.
fn storable(text: &str) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{fffd}")
    } else {
        text.to_owned()
    }
}

/// Applies [`storable`] to every string inside a JSON value.
fn storable_json(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::String(text) => serde_json::Value::String(storable(&text)),
        serde_json::Value::Array(items) => items.into_iter().map(storable_json).collect(),
        serde_json::Value::Object(fields) => fields
            .into_iter()
            .map(|(key, value)| (storable(&key), storable_json(value)))
            .collect(),
        other => other,
    }
}

/// Returns the upsert key of a code system: its scope and root.
pub(crate) fn system_external_id(scope: &str, root: &str) -> String {
    format!("{scope}#{root}")
}
