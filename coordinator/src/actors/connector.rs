//! Connector supervisor: one per connector of a scan, named
//! `connector:<tenant>:<connector name>:<scan>`.
//!
//! Supervised by its tenant actor. Lists the source's scopes in a task (a failure there
//! fails this connector's scopes with the error, not the scan) and starts one crawler per
//! scope, at most `max_crawlers_per_connector` at once; the other scopes wait in a queue.
//! A failed crawler is restarted with jittered exponential backoff until the restart budget
//! is spent, keeping its slot meanwhile. The scope is then recorded as failed with its last
//! error, and the other scopes go on. Each settled scope is written to `scan_scopes` through
//! the writer. A cancel request settles every open scope as cancelled and kills the
//! crawlers. Reports to the tenant once every scope is settled. Mailbox: unbounded; it
//! carries one message per crawler attempt and retry.

mod outcome;

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use agents::{CrawlError, Scope, Source};
use futures::FutureExt;
use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, SupervisionEvent};
use store::TenantContext;
use tokio::task::JoinHandle;
use tracing::{error, info, warn};
use uuid::Uuid;

use super::Shared;
use super::crawler::{CrawlerActor, CrawlerArgs, CrawlerMsg, ScopeResult};
use super::tenant::TenantMsg;
use super::writer::{CoveredScope, WriterMsg};
use crate::scan::ScopeOutcome;

/// Arguments of a connector actor.
pub(crate) struct ConnectorArgs {
    /// Tenant of the scan.
    pub(crate) ctx: TenantContext,
    /// Scan id.
    pub(crate) scan_id: Uuid,
    /// Position of the connector in the scan, echoed in its report.
    pub(crate) index: usize,
    /// Connector name.
    pub(crate) name: String,
    /// The source that lists and crawls the scopes.
    pub(crate) source: Arc<dyn Source>,
    /// Frameworks to evaluate.
    pub(crate) frameworks: Arc<Vec<String>>,
    /// Shared configuration and actors.
    pub(crate) shared: Shared,
    /// Tenant actor to report to.
    pub(crate) tenant: ActorRef<TenantMsg>,
}

/// Report a connector sends once all of its scopes are settled.
pub(crate) struct ConnectorReport {
    /// Position of the connector in the scan.
    pub(crate) index: usize,
    /// One outcome per scope, in listing order.
    pub(crate) scopes: Vec<ScopeOutcome>,
    /// Crawled scopes with the finding ids seen in each.
    pub(crate) covered: Vec<CoveredScope>,
    /// Systems written.
    pub(crate) system_ids: Vec<Uuid>,
}

/// Messages to a connector actor.
pub(crate) enum ConnectorMsg {
    /// The scope listing finished.
    ScopesListed(Result<Vec<Scope>, CrawlError>),
    /// A crawler finished its scope.
    ScopeDone(usize, Box<ScopeResult>),
    /// A crawler hit an error that no retry can fix.
    ScopeFailed(usize, String),
    /// Starts the next attempt for a scope after its backoff.
    Retry(usize),
    /// Settles every open scope as cancelled and stops.
    Cancel,
}

/// Progress of one scope.
pub(crate) struct ScopeState {
    /// The scope.
    pub(crate) scope: Scope,
    /// Crawler attempts started.
    pub(crate) attempts: u32,
    /// Final outcome, once settled.
    pub(crate) outcome: Option<ScopeOutcome>,
    /// External ids seen by the successful crawl.
    pub(crate) seen: Vec<String>,
}

/// State of a connector actor.
pub(crate) struct ConnectorState {
    args: ConnectorArgs,
    /// Scopes in listing order; empty until listed.
    scopes: Vec<ScopeState>,
    /// Whether the scope listing has finished.
    listed: bool,
    /// Scopes waiting for a crawler slot.
    queue: VecDeque<usize>,
    /// Scopes holding a slot: crawling or waiting for a retry.
    num_active: usize,
    /// Running crawlers by id, with their scope index.
    crawlers: HashMap<ActorId, (usize, ActorRef<CrawlerMsg>)>,
    /// Task listing the scopes, aborted on cancel.
    lister: Option<JoinHandle<()>>,
    /// Whether a cancel request arrived.
    cancelled: bool,
    /// Whether the report went to the tenant; later messages are ignored.
    reported: bool,
    system_ids: Vec<Uuid>,
}

/// The connector actor.
pub(crate) struct ConnectorActor;

impl Actor for ConnectorActor {
    type Msg = ConnectorMsg;
    type State = ConnectorState;
    type Arguments = ConnectorArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: ConnectorArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        crate::metrics::actor_started("connector");
        Ok(ConnectorState {
            args,
            scopes: Vec::new(),
            listed: false,
            queue: VecDeque::new(),
            num_active: 0,
            crawlers: HashMap::new(),
            lister: None,
            cancelled: false,
            reported: false,
            system_ids: Vec::new(),
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let source = state.args.source.clone();
        let lister = tokio::spawn(async move {
            let listed = AssertUnwindSafe(source.scopes()).catch_unwind().await;
            let result = listed.unwrap_or_else(|payload| {
                let message = super::panic_message(payload.as_ref());
                Err(CrawlError::transient(format!(
                    "listing scopes panicked: {message}"
                )))
            });
            let _ = myself.cast(ConnectorMsg::ScopesListed(result));
        });
        state.lister = Some(lister);
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(lister) = state.lister.take() {
            lister.abort();
        }
        crate::metrics::actor_stopped("connector");
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if state.reported {
            return Ok(());
        }
        match message {
            ConnectorMsg::ScopesListed(result) if !state.cancelled => {
                state.lister = None;
                scopes_listed(state, result);
                fill_slots(&myself, state).await;
            }
            ConnectorMsg::ScopeDone(index, result) => {
                stop_crawler(state, index);
                if outcome::record_crawled(state, index, *result) {
                    release_slot(&myself, state, index).await;
                }
            }
            ConnectorMsg::ScopeFailed(index, message) => {
                stop_crawler(state, index);
                if outcome::record_failed(state, index, message) {
                    release_slot(&myself, state, index).await;
                }
            }
            ConnectorMsg::Retry(index) if !state.cancelled => {
                start_crawler(&myself, state, index).await;
            }
            ConnectorMsg::Cancel => cancel(state),
            ConnectorMsg::ScopesListed(_) | ConnectorMsg::Retry(_) => {}
        }
        report_when_settled(&myself, state);
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let failure = match event {
            SupervisionEvent::ActorFailed(cell, failure) => {
                Some((cell.get_id(), failure.to_string()))
            }
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                // A crawler that reported has already left the map; one still in it stopped
                // without settling its scope.
                let reason =
                    reason.unwrap_or_else(|| "crawler stopped before it finished".to_owned());
                Some((cell.get_id(), reason))
            }
            _ => None,
        };
        if let Some((actor_id, message)) = failure
            && !state.reported
            && let Some((index, _)) = state.crawlers.remove(&actor_id)
        {
            retry_or_fail(&myself, state, index, message).await;
        }
        report_when_settled(&myself, state);
        Ok(())
    }
}

/// Records the listed scopes (or the listing error) and queues every scope.
fn scopes_listed(state: &mut ConnectorState, result: Result<Vec<Scope>, CrawlError>) {
    state.listed = true;
    let scopes = match result {
        Ok(scopes) => scopes,
        Err(error) => {
            outcome::record_listing_failed(state, error);
            return;
        }
    };
    let mut seen_ids = std::collections::HashSet::new();
    for scope in scopes {
        if seen_ids.insert(scope.id.clone()) {
            state.scopes.push(ScopeState {
                scope,
                attempts: 0,
                outcome: None,
                seen: Vec::new(),
            });
        }
    }
    info!(
        tenant.path = %state.args.ctx.path().as_str(),
        scan.id = %state.args.scan_id,
        connector.name = %state.args.name,
        num_scopes = state.scopes.len(),
        "scopes listed"
    );
    let pending = state
        .scopes
        .iter()
        .map(|scope| {
            store::scans::ScopeRecord::pending(
                &state.args.name,
                &scope.scope.id,
                &scope.scope.provider,
            )
        })
        .collect();
    record_scopes(state, pending);
    state.queue = (0..state.scopes.len()).collect();
}

/// Sends scope rows to the writer, which stores them in the background.
pub(crate) fn record_scopes(state: &ConnectorState, records: Vec<store::scans::ScopeRecord>) {
    let message = WriterMsg::RecordScopes {
        ctx: state.args.ctx.clone(),
        scan_id: state.args.scan_id,
        records,
    };
    if let Err(error) = state.args.shared.writer.cast(message) {
        warn!(scan.id = %state.args.scan_id, %error, "writer unavailable; scope progress not stored");
    }
}

/// Starts crawlers for queued scopes while slots are free.
async fn fill_slots(myself: &ActorRef<ConnectorMsg>, state: &mut ConnectorState) {
    let max_active = state.args.shared.config.max_crawlers_per_connector.max(1);
    while state.num_active < max_active && !state.cancelled {
        let Some(index) = state.queue.pop_front() else {
            break;
        };
        state.num_active += 1;
        start_crawler(myself, state, index).await;
    }
}

/// Frees the slot of a settled scope and fills it from the queue.
async fn release_slot(myself: &ActorRef<ConnectorMsg>, state: &mut ConnectorState, index: usize) {
    debug_assert!(state.scopes[index].outcome.is_some());
    state.num_active = state.num_active.saturating_sub(1);
    fill_slots(myself, state).await;
}

/// Stops the crawler of scope `index` after its report. The connector does this itself:
/// supervision events overtake ordinary messages, so a crawler stopping on its own could be
/// seen as dead before its report arrived.
fn stop_crawler(state: &mut ConnectorState, index: usize) {
    state.crawlers.retain(|_, (scope_index, crawler)| {
        let done = *scope_index == index;
        if done {
            crawler.stop(Some("scope settled".to_owned()));
        }
        !done
    });
}

/// Starts the next crawler attempt for scope `index`.
async fn start_crawler(myself: &ActorRef<ConnectorMsg>, state: &mut ConnectorState, index: usize) {
    if state.scopes[index].outcome.is_some() {
        return;
    }
    state.scopes[index].attempts += 1;
    let attempt = state.scopes[index].attempts;
    let args = CrawlerArgs {
        ctx: state.args.ctx.clone(),
        scan_id: state.args.scan_id,
        scope_index: index,
        scope: state.scopes[index].scope.clone(),
        connector_name: state.args.name.clone(),
        source: state.args.source.clone(),
        frameworks: state.args.frameworks.clone(),
        shared: state.args.shared.clone(),
        connector: myself.clone(),
    };
    let name = format!(
        "crawler:{}:{}:{}:{index}:{attempt}",
        state.args.ctx.path().as_str(),
        state.args.name,
        state.args.scan_id
    );
    match myself.spawn_linked(Some(name), CrawlerActor, args).await {
        Ok((crawler, _)) => {
            state.crawlers.insert(crawler.get_id(), (index, crawler));
        }
        Err(spawn_error) => {
            Box::pin(retry_or_fail(myself, state, index, spawn_error.to_string())).await;
        }
    }
}

/// Schedules another attempt for a failed scope, or records it as failed once the restart
/// budget is spent.
async fn retry_or_fail(
    myself: &ActorRef<ConnectorMsg>,
    state: &mut ConnectorState,
    index: usize,
    message: String,
) {
    if state.cancelled || state.scopes[index].outcome.is_some() {
        return;
    }
    let policy = state.args.shared.config.restart;
    let scope = &state.scopes[index];
    if scope.attempts < policy.max_attempts {
        let delay = policy.backoff(scope.attempts + 1);
        warn!(
            connector.name = %state.args.name,
            scope.id = %scope.scope.id,
            attempt = scope.attempts,
            retry_delay_ms = delay.as_millis() as u64,
            error = %message,
            "crawler failed; retrying"
        );
        crate::metrics::crawler_restarted();
        myself.send_after(delay, move || ConnectorMsg::Retry(index));
        return;
    }
    error!(connector.name = %state.args.name, scope.id = %scope.scope.id, attempts = scope.attempts, error = %message, "restart budget spent; scope failed");
    if outcome::record_failed(state, index, message) {
        release_slot(myself, state, index).await;
    }
}

/// Settles every open scope as cancelled, stops the listing and kills the crawlers.
fn cancel(state: &mut ConnectorState) {
    state.cancelled = true;
    state.listed = true;
    if let Some(lister) = state.lister.take() {
        lister.abort();
    }
    for (_, (_, crawler)) in state.crawlers.drain() {
        crawler.kill();
    }
    state.queue.clear();
    outcome::record_cancelled(state);
}

/// Reports to the tenant and stops once the scopes are listed and every one is settled.
fn report_when_settled(myself: &ActorRef<ConnectorMsg>, state: &mut ConnectorState) {
    if state.reported || !state.listed || state.scopes.iter().any(|scope| scope.outcome.is_none()) {
        return;
    }
    state.reported = true;
    let mut report = ConnectorReport {
        index: state.args.index,
        scopes: Vec::new(),
        covered: Vec::new(),
        system_ids: std::mem::take(&mut state.system_ids),
    };
    for scope in &mut state.scopes {
        let Some(outcome) = scope.outcome.take() else {
            continue;
        };
        if outcome.status.resolves_vanished() {
            report.covered.push(CoveredScope {
                source: scope.scope.provider.clone(),
                scope: scope.scope.id.clone(),
                seen: std::mem::take(&mut scope.seen),
            });
        }
        report.scopes.push(outcome);
    }
    let _ = state
        .args
        .tenant
        .cast(TenantMsg::ConnectorFinished(state.args.scan_id, report));
    myself.stop(Some("scopes settled".to_owned()));
}
