//! Connector supervisor: one per scan of a connector, named `connector:<tenant>:<scan>`.
//!
//! Supervised by its tenant actor. Splits the scan into scopes (one per target path) and
//! starts one crawler per scope. A failed crawler is restarted with jittered exponential
//! backoff until the restart budget is spent. The scope is then recorded as failed with its
//! last error, and the other scopes go on. Reports to the tenant once every scope is settled.

use std::collections::HashMap;
use std::sync::Arc;

use agents::ScanProgress;
use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, SupervisionEvent};
use store::TenantContext;
use tracing::{error, warn};
use uuid::Uuid;

use super::Shared;
use super::crawler::{CrawlerActor, CrawlerArgs, CrawlerMsg, ScopeResult};
use super::tenant::TenantMsg;
use crate::scan::{ScopeOutcome, ScopeStatus};

/// Arguments of a connector actor.
pub(crate) struct ConnectorArgs {
    /// Tenant of the scan.
    pub(crate) ctx: TenantContext,
    /// Scan id.
    pub(crate) scan_id: Uuid,
    /// Scope ids (canonical target paths) in request order.
    pub(crate) scopes: Vec<String>,
    /// Frameworks to evaluate.
    pub(crate) frameworks: Vec<String>,
    /// Walk counters shown by progress displays.
    pub(crate) progress: Arc<ScanProgress>,
    /// Shared configuration and actors.
    pub(crate) shared: Shared,
    /// Tenant actor to report to.
    pub(crate) tenant: ActorRef<TenantMsg>,
}

/// Report a connector sends once all of its scopes are settled.
pub(crate) struct ConnectorReport {
    /// One outcome per scope, in request order.
    pub(crate) scopes: Vec<ScopeOutcome>,
    /// Covered scopes with the finding ids seen in each.
    pub(crate) covered: Vec<(String, Vec<String>)>,
    /// Systems written.
    pub(crate) system_ids: Vec<Uuid>,
}

/// Messages to a connector actor.
pub(crate) enum ConnectorMsg {
    /// A crawler covered its scope.
    ScopeDone(usize, ScopeResult),
    /// A crawler hit an error that no retry can fix.
    ScopeFailed(usize, String),
    /// Starts the next attempt for a scope after its backoff.
    Retry(usize),
}

/// Progress of one scope.
#[derive(Default)]
struct ScopeState {
    attempts: u32,
    last_error: Option<String>,
    outcome: Option<ScopeOutcome>,
    seen: Vec<String>,
}

/// State of a connector actor.
pub(crate) struct ConnectorState {
    args: ConnectorArgs,
    frameworks: Arc<Vec<String>>,
    scopes: Vec<ScopeState>,
    /// Running crawlers by id, with their scope index.
    crawlers: HashMap<ActorId, (usize, ActorRef<CrawlerMsg>)>,
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
        let scopes = args.scopes.iter().map(|_| ScopeState::default()).collect();
        let frameworks = Arc::new(args.frameworks.clone());
        crate::metrics::actor_started("connector");
        Ok(ConnectorState {
            args,
            frameworks,
            scopes,
            crawlers: HashMap::new(),
            system_ids: Vec::new(),
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        for index in 0..state.scopes.len() {
            start_crawler(&myself, state, index).await;
        }
        report_when_settled(&myself, state);
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        _state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        crate::metrics::actor_stopped("connector");
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ConnectorMsg::ScopeDone(index, result) => {
                stop_crawler(state, index);
                record_covered(state, index, result);
            }
            ConnectorMsg::ScopeFailed(index, message) => {
                stop_crawler(state, index);
                record_failed(state, index, message);
            }
            ConnectorMsg::Retry(index) => start_crawler(&myself, state, index).await,
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
                // without covering its scope.
                let reason =
                    reason.unwrap_or_else(|| "crawler stopped before it finished".to_owned());
                Some((cell.get_id(), reason))
            }
            _ => None,
        };
        if let Some((actor_id, message)) = failure {
            if let Some((index, _)) = state.crawlers.remove(&actor_id) {
                retry_or_fail(&myself, state, index, message);
            }
        }
        report_when_settled(&myself, state);
        Ok(())
    }
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
    state.scopes[index].attempts += 1;
    let attempt = state.scopes[index].attempts;
    let args = CrawlerArgs {
        ctx: state.args.ctx.clone(),
        scan_id: state.args.scan_id,
        scope_index: index,
        scope: state.args.scopes[index].clone(),
        frameworks: state.frameworks.clone(),
        progress: state.args.progress.clone(),
        shared: state.args.shared.clone(),
        connector: myself.clone(),
    };
    let name = format!(
        "crawler:{}:{}:{index}:{attempt}",
        state.args.ctx.path().as_str(),
        state.args.scan_id
    );
    match myself.spawn_linked(Some(name), CrawlerActor, args).await {
        Ok((crawler, _)) => {
            state.crawlers.insert(crawler.get_id(), (index, crawler));
        }
        Err(spawn_error) => retry_or_fail(myself, state, index, spawn_error.to_string()),
    }
}

/// Schedules another attempt for a failed scope, or records it as failed once the restart
/// budget is spent.
fn retry_or_fail(
    myself: &ActorRef<ConnectorMsg>,
    state: &mut ConnectorState,
    index: usize,
    message: String,
) {
    let policy = state.args.shared.config.restart;
    let scope = &mut state.scopes[index];
    let scope_id = &state.args.scopes[index];
    scope.last_error = Some(message.clone());
    if scope.attempts < policy.max_attempts {
        let delay = policy.backoff(scope.attempts + 1);
        warn!(
            scope.id = %scope_id,
            attempt = scope.attempts,
            retry_delay_ms = delay.as_millis() as u64,
            error = %message,
            "crawler failed; retrying"
        );
        crate::metrics::crawler_restarted();
        myself.send_after(delay, move || ConnectorMsg::Retry(index));
        return;
    }
    error!(scope.id = %scope_id, attempts = scope.attempts, error = %message, "restart budget spent; scope failed");
    record_failed(state, index, message);
}

/// Records a scope as failed with `message`.
fn record_failed(state: &mut ConnectorState, index: usize, message: String) {
    crate::metrics::scope_settled("failed");
    let scope = &mut state.scopes[index];
    scope.outcome = Some(ScopeOutcome {
        scope: state.args.scopes[index].clone(),
        status: ScopeStatus::Failed,
        attempts: scope.attempts,
        error: Some(message),
        num_findings: 0,
        num_failed_systems: 0,
        issues: Vec::new(),
    });
}

/// Records a covered scope.
fn record_covered(state: &mut ConnectorState, index: usize, result: ScopeResult) {
    crate::metrics::scope_settled("covered");
    let scope = &mut state.scopes[index];
    scope.outcome = Some(ScopeOutcome {
        scope: state.args.scopes[index].clone(),
        status: ScopeStatus::Covered,
        attempts: scope.attempts,
        error: None,
        num_findings: result.num_findings,
        num_failed_systems: result.num_failed_systems,
        issues: result.issues,
    });
    scope.seen = result.seen_external_ids;
    state.system_ids.extend(result.system_ids);
}

/// Reports to the tenant and stops once every scope is covered or failed.
fn report_when_settled(myself: &ActorRef<ConnectorMsg>, state: &mut ConnectorState) {
    if state.scopes.iter().any(|scope| scope.outcome.is_none()) {
        return;
    }
    let mut report = ConnectorReport {
        scopes: Vec::new(),
        covered: Vec::new(),
        system_ids: Vec::new(),
    };
    for (index, scope) in state.scopes.iter_mut().enumerate() {
        let Some(outcome) = scope.outcome.take() else {
            continue;
        };
        if outcome.status == ScopeStatus::Covered {
            report.covered.push((
                state.args.scopes[index].clone(),
                std::mem::take(&mut scope.seen),
            ));
        }
        report.scopes.push(outcome);
    }
    report.system_ids = std::mem::take(&mut state.system_ids);
    let _ = state
        .args
        .tenant
        .cast(TenantMsg::ConnectorFinished(state.args.scan_id, report));
    myself.stop(Some("scopes settled".to_owned()));
}
