//! Crawler: one per scope and attempt, named `crawler:<tenant>:<scan>:<scope>:<attempt>`.
//!
//! Supervised by its connector, which restarts it on failure. It runs the scope's crawl on
//! a blocking thread, groups the findings by project root, sends one job per root to the
//! classifier pool and waits until each system is written, then reports to the connector.
//! A crawl error or panic fails the actor, and the connector decides whether to retry.
//! Classifier errors are per system: they become issues of the scope, not failures.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use agents::ScanProgress;
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
    /// Scope id: the canonical root path.
    pub(crate) scope: String,
    /// Frameworks to evaluate.
    pub(crate) frameworks: Arc<Vec<String>>,
    /// Walk counters shown by progress displays.
    pub(crate) progress: Arc<ScanProgress>,
    /// Shared configuration and actors.
    pub(crate) shared: Shared,
    /// Connector to report to.
    pub(crate) connector: ActorRef<ConnectorMsg>,
}

/// Result of a covered scope.
pub(crate) struct ScopeResult {
    /// External ids of every finding seen, for resolving the ones that vanished.
    pub(crate) seen_external_ids: Vec<String>,
    /// Systems written.
    pub(crate) system_ids: Vec<Uuid>,
    /// Findings produced.
    pub(crate) num_findings: u64,
    /// Systems that could not be classified or stored.
    pub(crate) num_failed_systems: u64,
    /// Non-fatal problems.
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
                    .cast(ConnectorMsg::ScopeDone(state.scope_index, result))?,
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
        scope.id = %args.scope,
        num_files = report.num_files_scanned,
        num_findings,
        "scope crawled"
    );

    let calls = group_by_root(findings)
        .into_iter()
        .map(|(root, findings)| classify_root(args, root, findings));
    let mut result = ScopeResult {
        seen_external_ids,
        system_ids: Vec::new(),
        num_findings,
        num_failed_systems: 0,
        issues: report.issues,
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

type Crawled = (crate::CrawlReport, Vec<Finding>);

/// Runs the configured crawler on a blocking thread and collects its findings. A permanent
/// crawl error comes back as the inner `Err`; anything else that went wrong fails the attempt.
async fn run_crawl(args: &CrawlerArgs) -> Result<Result<Crawled, String>, ActorProcessingErr> {
    let crawler = args.shared.config.crawler.clone();
    let scope = PathBuf::from(&args.scope);
    let progress = args.progress.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let collected = Mutex::new(Vec::new());
        let sink = |finding: Finding| {
            collected
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(finding);
        };
        let report = crawler.crawl(&scope, &progress, &sink)?;
        let findings = collected
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok::<_, crate::CrawlError>((report, findings))
    })
    .await;
    match joined {
        Ok(Ok(crawled)) => Ok(Ok(crawled)),
        Ok(Err(error)) if error.permanent => {
            Ok(Err(format!("crawl of `{}` failed: {error}", args.scope)))
        }
        Ok(Err(error)) => Err(format!("crawl of `{}` failed: {error}", args.scope).into()),
        Err(join_error) if join_error.is_panic() => {
            let message = super::panic_message(join_error.into_panic().as_ref());
            Err(format!("crawl of `{}` panicked: {message}", args.scope).into())
        }
        Err(join_error) => {
            Err(format!("crawl of `{}` was cancelled: {join_error}", args.scope).into())
        }
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
    let system_root = if root == "." {
        args.scope.clone()
    } else {
        format!("{}/{root}", args.scope)
    };
    let key = SystemKey {
        tenant_path: args.ctx.path().as_str().to_owned(),
        scope: args.scope.clone(),
        root: system_root.clone(),
    };
    let job = ClassifyJob {
        ctx: args.ctx.clone(),
        scan_id: args.scan_id,
        scope: args.scope.clone(),
        root: system_root.clone(),
        findings,
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
