//! Crawler: one per scope and attempt, named
//! `crawler:<tenant>:<connector>:<scan>:<scope index>:<attempt>`.
//!
//! Supervised by its connector, which restarts it on failure and kills it on cancel. It
//! runs the source's crawl of its scope as a task (the code source moves its walk to a
//! blocking thread), groups the findings by project root, sends one job per root to the
//! classifier pool and waits until each system is written, then reports to the connector.
//! A transient crawl error or a panic fails the actor, and the connector decides whether to
//! retry; a permanent error fails the scope at once. Classifier errors are per system: they
//! become issues of the scope, not failures. Mailbox: one `Run` message.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use agents::{CrawlReport, FindingSink, Scope, Source};
use futures::future::join_all;
use proto::Finding;
use ractor::factory::{FactoryMessage, Job};
use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use store::TenantContext;
use tracing::info;
use uuid::Uuid;

use super::Shared;
use super::classifier::{ClassifyJob, ClassifyMsg, SystemKey};
use super::connector::ConnectorMsg;

/// Arguments of a crawler.
pub(crate) struct CrawlerArgs {
    /// Tenant of the scan.
    pub(crate) ctx: TenantContext,
    /// Scan id.
    pub(crate) scan_id: Uuid,
    /// Index of the scope in the connector's list.
    pub(crate) scope_index: usize,
    /// The scope to crawl.
    pub(crate) scope: Scope,
    /// Name of the connector, for logs.
    pub(crate) connector_name: String,
    /// The source that crawls the scope.
    pub(crate) source: Arc<dyn Source>,
    /// Frameworks to evaluate.
    pub(crate) frameworks: Arc<Vec<String>>,
    /// Shared configuration and actors.
    pub(crate) shared: Shared,
    /// Connector to report to.
    pub(crate) connector: ActorRef<ConnectorMsg>,
}

/// Result of a crawled scope.
pub(crate) struct ScopeResult {
    /// The source's report: items read, gaps, incomplete listings, skip reason.
    pub(crate) report: CrawlReport,
    /// External ids of every finding seen, for resolving the ones that vanished.
    pub(crate) seen_external_ids: Vec<String>,
    /// Systems written.
    pub(crate) system_ids: Vec<Uuid>,
    /// Findings produced.
    pub(crate) num_findings: u64,
    /// Systems that could not be classified or stored.
    pub(crate) num_failed_systems: u64,
    /// Classifier and writer errors, one per failed system.
    pub(crate) issues: Vec<String>,
}

/// Messages to a crawler.
pub(crate) enum CrawlerMsg {
    /// Crawls the scope; sent by the crawler to itself once it has started.
    Run,
}

/// The crawler actor.
pub(crate) struct CrawlerActor;

impl Actor for CrawlerActor {
    type Msg = CrawlerMsg;
    type State = CrawlerArgs;
    type Arguments = CrawlerArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: CrawlerArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        myself.cast(CrawlerMsg::Run)?;
        crate::metrics::actor_started("crawler");
        Ok(args)
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        _state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        crate::metrics::actor_stopped("crawler");
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            CrawlerMsg::Run => match crawl_scope(state).await? {
                Ok(result) => state
                    .connector
                    .cast(ConnectorMsg::ScopeDone(state.scope_index, Box::new(result)))?,
                Err(message) => state
                    .connector
                    .cast(ConnectorMsg::ScopeFailed(state.scope_index, message))?,
            },
        }
        Ok(())
    }
}

/// Crawls, classifies and writes one scope. The inner `Err` is a permanent crawl error,
/// which fails the scope without a retry; the outer one fails this attempt.
async fn crawl_scope(
    args: &CrawlerArgs,
) -> Result<Result<ScopeResult, String>, ActorProcessingErr> {
    let (report, findings) = match run_crawl(args).await? {
        Ok(crawled) => crawled,
        Err(message) => return Ok(Err(message)),
    };
    let num_findings = findings.len() as u64;
    crate::metrics::findings_produced(num_findings);
    let seen_external_ids: Vec<String> = findings
        .iter()
        .map(|finding| finding.external_id.clone())
        .collect();
    info!(
        tenant.path = %args.ctx.path().as_str(),
        connector.name = %args.connector_name,
        scope.id = %args.scope.id,
        num_items = report.num_items,
        num_findings,
        "scope crawled"
    );

    let calls = group_by_root(findings)
        .into_iter()
        .map(|(root, findings)| classify_root(args, root, findings));
    let mut result = ScopeResult {
        report,
        seen_external_ids,
        system_ids: Vec::new(),
        num_findings,
        num_failed_systems: 0,
        issues: Vec::new(),
    };
    for outcome in join_all(calls).await {
        match outcome {
            Ok(system_id) => result.system_ids.push(system_id),
            Err(issue) => {
                result.num_failed_systems += 1;
                result.issues.push(issue);
            }
        }
    }
    Ok(Ok(result))
}

type Crawled = (CrawlReport, Vec<Finding>);

/// Aborts a task when dropped, so killing the crawler also stops its crawl.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs the source's crawl as a task and collects its findings. A permanent crawl error
/// comes back as the inner `Err`; anything else that went wrong fails the attempt.
async fn run_crawl(args: &CrawlerArgs) -> Result<Result<Crawled, String>, ActorProcessingErr> {
    let collected = Arc::new(Mutex::new(Vec::new()));
    let sink_findings = collected.clone();
    let sink: FindingSink = Arc::new(move |finding: Finding| {
        sink_findings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(finding);
    });
    let source = args.source.clone();
    let scope = args.scope.clone();
    let mut task = AbortOnDrop(tokio::spawn(
        async move { source.crawl(&scope, sink).await },
    ));
    let joined = (&mut task.0).await;
    let scope_id = &args.scope.id;
    match joined {
        Ok(Ok(report)) => {
            let findings = std::mem::take(
                &mut *collected
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            );
            Ok(Ok((report, findings)))
        }
        Ok(Err(error)) if error.permanent => {
            Ok(Err(format!("crawl of `{scope_id}` failed: {error}")))
        }
        Ok(Err(error)) => Err(format!("crawl of `{scope_id}` failed: {error}").into()),
        Err(join_error) if join_error.is_panic() => {
            let message = super::panic_message(join_error.into_panic().as_ref());
            Err(format!("crawl of `{scope_id}` panicked: {message}").into())
        }
        Err(join_error) => Err(format!("crawl of `{scope_id}` was cancelled: {join_error}").into()),
    }
}

/// Groups findings by project root, dropping repeated external ids.
fn group_by_root(findings: Vec<Finding>) -> BTreeMap<String, Vec<Finding>> {
    let mut seen = HashSet::new();
    let mut groups: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    for finding in findings {
        if seen.insert(finding.external_id.clone()) {
            groups
                .entry(finding.project_root.clone())
                .or_default()
                .push(finding);
        }
    }
    groups
}

/// Sends one root to the classifier pool and waits until its system is written.
async fn classify_root(
    args: &CrawlerArgs,
    root: String,
    findings: Vec<Finding>,
) -> Result<Uuid, String> {
    let scope_id = &args.scope.id;
    let system_root = if root == "." {
        scope_id.clone()
    } else {
        format!("{scope_id}/{root}")
    };
    let key = SystemKey {
        tenant_path: args.ctx.path().as_str().to_owned(),
        scope: scope_id.clone(),
        root: system_root.clone(),
    };
    let job = ClassifyJob {
        ctx: args.ctx.clone(),
        scan_id: args.scan_id,
        source: args.scope.provider.clone(),
        scope: scope_id.clone(),
        root: system_root.clone(),
        findings,
        to_store: None,
        frameworks: args.frameworks.clone(),
    };
    let called = args
        .shared
        .classifiers
        .call(
            |reply| {
                FactoryMessage::Dispatch(Job::new(key, ClassifyMsg::Classify(Box::new(job), reply)))
            },
            None,
        )
        .await;
    match called {
        Ok(CallResult::Success(result)) => result,
        Ok(CallResult::Timeout) => Err(format!("classifying `{system_root}` timed out")),
        Ok(CallResult::SenderError) => Err(format!("classifier dropped system `{system_root}`")),
        Err(error) => Err(format!("classifier pool unavailable: {error}")),
    }
}
