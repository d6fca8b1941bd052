//! Classifier pool: a ractor factory whose workers group a root's findings into one AI
//! system, classify it, evaluate the tenant's frameworks and hand the result to the writer.
//!
//! Routing is key-persistent on [`SystemKey`], so jobs for one system are handled in order by
//! one worker. A classifier panic is caught around the pure classification call and returned
//! as an error for that system only; the worker keeps serving. Should a worker die anyway,
//! the factory replaces it and keeps its queue. Each job waits for the writer, which bounds
//! the work in flight to the number of workers.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use proto::{Declaration, Finding, FindingKind};
use ractor::factory::{FactoryMessage, Job, Worker, WorkerId};
use ractor::{ActorProcessingErr, ActorRef, RpcReplyPort};
use rule_book::Verdict;
use store::TenantContext;
use tokio::sync::OnceCell;
use tracing::warn;
use uuid::Uuid;

use super::Shared;
use super::writer::{SystemWrite, WriterMsg, system_external_id};
use crate::classify::Classification;

/// Identity of one AI system inside a scan: the pool routes on it.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub(crate) struct SystemKey {
    /// Tenant path.
    pub(crate) tenant_path: String,
    /// Scope the system was found in.
    pub(crate) scope: String,
    /// Project root relative to the scope.
    pub(crate) root: String,
}

/// Everything needed to classify and store one system.
pub(crate) struct ClassifyJob {
    /// Tenant the system belongs to.
    pub(crate) ctx: TenantContext,
    /// Scan that found it.
    pub(crate) scan_id: Uuid,
    /// Source of the system and its findings: the scope's provider family.
    pub(crate) source: String,
    /// Scope id.
    pub(crate) scope: String,
    /// Project root relative to the scope.
    pub(crate) root: String,
    /// Every finding under that root, the input of the classification.
    pub(crate) findings: Vec<Finding>,
    /// Findings to write; `None` writes all of `findings`. Ingest sets it to the findings
    /// of the batch, because the rest of `findings` was read back from the store.
    pub(crate) to_store: Option<Vec<Finding>>,
    /// Frameworks the tenant subscribes to.
    pub(crate) frameworks: Arc<Vec<String>>,
}

/// Messages of the classifier pool.
pub(crate) enum ClassifyMsg {
    /// Classifies, evaluates and writes one system; replies with its id.
    Classify(Box<ClassifyJob>, RpcReplyPort<Result<Uuid, String>>),
}

/// Worker of the classifier pool.
pub(crate) struct ClassifierWorker;

impl Worker for ClassifierWorker {
    type Key = SystemKey;
    type Message = ClassifyMsg;
    type Arguments = Arc<OnceCell<Shared>>;
    type State = Arc<OnceCell<Shared>>;

    async fn pre_start(
        &self,
        _worker_id: WorkerId,
        _factory: &ActorRef<FactoryMessage<SystemKey, ClassifyMsg>>,
        shared: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(shared)
    }

    async fn handle(
        &self,
        _worker_id: WorkerId,
        _factory: &ActorRef<FactoryMessage<SystemKey, ClassifyMsg>>,
        Job { key, msg, .. }: Job<SystemKey, ClassifyMsg>,
        state: &mut Self::State,
    ) -> Result<SystemKey, ActorProcessingErr> {
        let Some(shared) = state.get() else {
            return Err("classifier worker received a job before the pool was ready".into());
        };
        match msg {
            ClassifyMsg::Classify(job, reply) => {
                let result = classify_and_write(shared, *job).await;
                if result.is_err() {
                    crate::metrics::classifier_failed();
                }
                let _ = reply.send(result);
            }
        }
        Ok(key)
    }
}

/// Classifies one system, evaluates it and waits until the writer has stored it.
async fn classify_and_write(shared: &Shared, job: ClassifyJob) -> Result<Uuid, String> {
    let overrides = declared_overrides(shared, &job).await?;
    let classification = run_classifier(shared, &job, &overrides)?;
    let verdicts = evaluate(shared, &job.frameworks, &classification)?;
    let write = SystemWrite {
        ctx: job.ctx,
        scan_id: job.scan_id,
        source: job.source,
        scope: job.scope,
        classification,
        findings: job.to_store.unwrap_or(job.findings),
        verdicts,
    };
    ractor::call!(shared.writer, WriterMsg::WriteSystem, Box::new(write))
        .map_err(|error| format!("writer unavailable: {error}"))?
}

/// Reads the facts declared for this system through the API, so that a rescan keeps
/// them; `Null` when the system is new or has none.
async fn declared_overrides(
    shared: &Shared,
    job: &ClassifyJob,
) -> Result<serde_json::Value, String> {
    let external_id = system_external_id(&job.scope, &job.root);
    let read = async {
        let mut tx = shared.config.store.begin(&job.ctx).await?;
        let declared = store::declared::get_by_key(&mut tx, &job.source, &external_id).await?;
        tx.commit().await?;
        Ok::<_, store::Error>(declared)
    };
    let declared = read
        .await
        .map_err(|error| format!("reading declared facts of `{}` failed: {error}", job.root))?;
    Ok(declared.unwrap_or(serde_json::Value::Null))
}

/// Runs the configured classifier, turning a panic into an error for this system alone.
/// Facts declared through the API (`overrides`) win over the project's `secruna.yaml`.
fn run_classifier(
    shared: &Shared,
    job: &ClassifyJob,
    overrides: &serde_json::Value,
) -> Result<Classification, String> {
    let file_declaration = declaration_of(&job.findings)?;
    let declaration = if overrides
        .as_object()
        .is_some_and(|fields| !fields.is_empty())
    {
        let base = file_declaration.unwrap_or_default();
        let merged = base
            .overlaid(overrides)
            .map_err(|error| format!("system `{}`: {error}", job.root))?;
        Some(merged)
    } else {
        file_declaration
    };
    let classify = &shared.config.classify;
    catch_unwind(AssertUnwindSafe(|| {
        classify(&job.root, &job.findings, declaration.as_ref())
    }))
    .map_err(|payload| {
        let message = super::panic_message(payload.as_ref());
        warn!(
            tenant.path = %job.ctx.path().as_str(),
            scope.id = %job.scope,
            system.root = %job.root,
            error = %message,
            "classifier panicked; system skipped"
        );
        format!("classifier failed on system `{}`: {message}", job.root)
    })
}

/// Reads the root's `secruna.yaml` declaration back from its finding, if there is one.
fn declaration_of(findings: &[Finding]) -> Result<Option<Declaration>, String> {
    let Some(finding) = findings
        .iter()
        .find(|finding| finding.kind == FindingKind::Declaration)
    else {
        return Ok(None);
    };
    Declaration::from_attributes(&finding.attributes)
        .map(Some)
        .map_err(|error| format!("{}: {error}", finding.path))
}

/// Evaluates every subscribed framework against the system's facts.
fn evaluate(
    shared: &Shared,
    frameworks: &[String],
    classification: &Classification,
) -> Result<Vec<Verdict>, String> {
    let today = chrono::Utc::now().date_naive();
    let mut verdicts = Vec::new();
    for framework in frameworks {
        let mut framework_verdicts = shared
            .config
            .rule_book
            .evaluate(framework, &classification.facts, today)
            .map_err(|error| format!("evaluating `{framework}` failed: {error}"))?;
        verdicts.append(&mut framework_verdicts);
    }
    Ok(verdicts)
}
