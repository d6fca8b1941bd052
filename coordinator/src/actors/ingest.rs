//! Ingest: findings streamed in over gRPC by partners and remote agents join the same
//! classifier pool and writer as the findings of a crawl.
//!
//! This module is not an actor. The caller (one gRPC stream) awaits [`ingest`] for each
//! batch, so a stream has at most one batch in the pool at a time. The pool's
//! key-persistent routing orders the jobs of one system. Findings are grouped into systems
//! by `(source, scope, project root)`, the way a crawl groups them. Because a batch may
//! carry only part of a system, each group is merged with the system's stored open
//! findings before it is classified, so the classification covers the system's earlier
//! findings too. The stored findings of all the batch's systems are read in one statement,
//! and only the batch's own findings are written back. The writer upserts on
//! `(tenant, source, external_id)` and skips unchanged rows, so a replayed batch writes
//! nothing. A batch holds a lock on each of its systems from that read until the systems
//! are written, so streams that send findings of one system take turns, and each
//! classification covers the findings the other stream stored.
//!
//! NOTE: the locks live in one server process. Two servers that ingest findings of one
//! system at the same time may each classify it without the other's newest findings,
//! until its next batch.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use proto::{Finding, FindingKind};
use ractor::factory::{FactoryMessage, Job};
use ractor::rpc::CallResult;
use ractor::{ActorCell, ActorRef};
use store::{Store, TenantContext};
use uuid::Uuid;

use super::classifier::{ClassifyJob, ClassifyMsg, SystemKey};
use super::coordinator::CoordinatorMsg;
use super::writer::system_external_id;
use crate::scan::ScanError;

/// Name prefix of the classifier pool among the root actor's children.
const CLASSIFIER_POOL_PREFIX: &str = "classifier-pool:";

/// Result of one ingested finding: the id of the system it was stored under, or why its
/// system could not be classified or stored.
pub type IngestResult = Result<Uuid, String>;

/// One system of a batch: its grouping key, its root and external id as a crawl would
/// store them, and the positions of its findings.
struct Group {
    source: String,
    scope: String,
    root: String,
    external_id: String,
    indices: Vec<usize>,
}

/// Classifies and stores `findings` for `ctx` under `scan_id`, and returns one result per
/// finding, in input order. Returns once every system of the batch is committed or has
/// failed. Fails as a whole only when the pool is gone or the stored state cannot be read.
pub(crate) async fn ingest(
    root: &ActorRef<CoordinatorMsg>,
    locks: &SystemLocks,
    store: &Store,
    ctx: &TenantContext,
    scan_id: Uuid,
    findings: Vec<Finding>,
) -> Result<Vec<IngestResult>, ScanError> {
    let pool = classifier_pool(root)?;
    let groups = group(&findings);
    let lock_keys = groups
        .iter()
        .map(|group| {
            format!(
                "{}\n{}\n{}",
                ctx.path().as_str(),
                group.source,
                group.external_id
            )
        })
        .collect();
    let _system_guards = locks.lock_all(lock_keys).await;
    let (frameworks, mut stored) = read_stored(store, ctx, &groups)
        .await
        .map_err(|error| ScanError::Aborted(format!("reading stored findings failed: {error}")))?;
    let frameworks = Arc::new(frameworks);

    let mut calls = Vec::with_capacity(groups.len());
    for (index, group) in groups.iter().enumerate() {
        let new_findings: Vec<Finding> = group
            .indices
            .iter()
            .map(|&position| findings[position].clone())
            .collect();
        let merged = merge(stored.remove(&index).unwrap_or_default(), &new_findings);
        let job = ClassifyJob {
            ctx: ctx.clone(),
            scan_id,
            source: group.source.clone(),
            scope: group.scope.clone(),
            root: group.root.clone(),
            findings: merged,
            to_store: Some(new_findings),
            frameworks: frameworks.clone(),
        };
        calls.push(classify(&pool, job));
    }
    let outcomes = futures::future::join_all(calls).await;

    let mut results: Vec<IngestResult> = vec![Err(String::new()); findings.len()];
    for (group, outcome) in groups.iter().zip(outcomes) {
        for &position in &group.indices {
            results[position] = outcome.clone();
        }
    }
    Ok(results)
}

/// Locks of the systems that ingest batches are reading and writing, by tenant, source and
/// system external id.
#[derive(Default)]
pub(crate) struct SystemLocks {
    locks: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl SystemLocks {
    /// Takes the lock of every key in sorted order, so that no two batches can wait for
    /// each other in a cycle.
    async fn lock_all(&self, mut keys: Vec<String>) -> Vec<tokio::sync::OwnedMutexGuard<()>> {
        keys.sort_unstable();
        keys.dedup();
        let mut guards = Vec::with_capacity(keys.len());
        for key in keys {
            guards.push(self.entry(key).lock_owned().await);
        }
        guards
    }

    /// Returns the lock of `key`, and drops the locks that no batch holds or waits for.
    fn entry(&self, key: String) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        locks.entry(key).or_default().clone()
    }
}

/// Finds the classifier pool among the root's children. The root starts the pool in
/// `pre_start` and stops itself when the pool dies, so the lookup fails only once the tree
/// is stopping.
fn classifier_pool(
    root: &ActorRef<CoordinatorMsg>,
) -> Result<ActorRef<FactoryMessage<SystemKey, ClassifyMsg>>, ScanError> {
    let cell: ActorCell = root
        .get_children()
        .into_iter()
        .find(|child| {
            child
                .get_name()
                .is_some_and(|name| name.starts_with(CLASSIFIER_POOL_PREFIX))
        })
        .ok_or_else(|| ScanError::Aborted("the classifier pool is not running".to_owned()))?;
    Ok(cell.into())
}

/// Groups findings by `(source, scope, project root)`, in order of first appearance.
fn group(findings: &[Finding]) -> Vec<Group> {
    let mut positions: HashMap<(&str, &str, &str), usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for (index, finding) in findings.iter().enumerate() {
        let key = (
            finding.source.as_str(),
            finding.scope.as_str(),
            finding.project_root.as_str(),
        );
        let position = *positions.entry(key).or_insert_with(|| {
            let root = system_root(&finding.scope, &finding.project_root);
            groups.push(Group {
                source: finding.source.clone(),
                scope: finding.scope.clone(),
                external_id: system_external_id(&finding.scope, &root),
                root,
                indices: Vec::new(),
            });
            groups.len() - 1
        });
        groups[position].indices.push(index);
    }
    groups
}

/// Returns the system root the crawlers use: the scope itself for `.`, otherwise
/// `scope/root`.
fn system_root(scope: &str, project_root: &str) -> String {
    if project_root == "." {
        scope.to_owned()
    } else {
        format!("{scope}/{project_root}")
    }
}

/// Reads the tenant's subscribed frameworks and the stored open findings of every group
/// whose system exists, keyed by group position.
async fn read_stored(
    store: &Store,
    ctx: &TenantContext,
    groups: &[Group],
) -> Result<(Vec<String>, HashMap<usize, Vec<Finding>>), store::Error> {
    let mut position_by_key: HashMap<(&str, &str), usize> = HashMap::new();
    for (index, group) in groups.iter().enumerate() {
        position_by_key.insert((group.source.as_str(), group.external_id.as_str()), index);
    }
    let keys: Vec<(&str, &str)> = position_by_key.keys().copied().collect();

    let mut tx = store.begin_read_only(ctx).await?;
    let frameworks = store::subscriptions::list(&mut tx).await?;
    let rows = store::findings::list_open_for_system_keys(&mut tx, &keys).await?;
    tx.commit().await?;

    let mut stored: HashMap<usize, Vec<Finding>> = HashMap::new();
    for row in rows {
        let key = (row.system_source.as_str(), row.system_external_id.as_str());
        let Some(&index) = position_by_key.get(&key) else {
            continue;
        };
        if let Some(finding) = domain_finding(row.finding) {
            stored.entry(index).or_default().push(finding);
        }
    }
    Ok((frameworks, stored))
}

/// Rebuilds a domain finding from its row; `None` for a kind this build does not know.
fn domain_finding(row: store::findings::FindingRow) -> Option<Finding> {
    let kind: FindingKind = row.kind.parse().ok()?;
    let attributes: BTreeMap<String, String> = row
        .attributes
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .map(|(key, value)| {
                    let text = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned);
                    (key.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Finding {
        source: row.source,
        scope: row.scope,
        external_id: row.external_id,
        kind,
        subject: row.subject,
        path: row.path,
        line: row.line.and_then(|line| u32::try_from(line).ok()),
        confidence: row.confidence,
        project_root: row.project_root,
        attributes,
        evidence: row.evidence,
    })
}

/// Merges stored findings with new ones; a new finding replaces the stored one with the
/// same external id.
fn merge(stored: Vec<Finding>, new_findings: &[Finding]) -> Vec<Finding> {
    let mut by_id: BTreeMap<String, Finding> = stored
        .into_iter()
        .map(|finding| (finding.external_id.clone(), finding))
        .collect();
    for finding in new_findings {
        by_id.insert(finding.external_id.clone(), finding.clone());
    }
    by_id.into_values().collect()
}

/// Sends one system to the classifier pool and waits until it is written.
async fn classify(
    pool: &ActorRef<FactoryMessage<SystemKey, ClassifyMsg>>,
    job: ClassifyJob,
) -> IngestResult {
    let root = job.root.clone();
    let key = SystemKey {
        tenant_path: job.ctx.path().as_str().to_owned(),
        scope: job.scope.clone(),
        root: root.clone(),
    };
    let called = pool
        .call(
            |reply| {
                FactoryMessage::Dispatch(Job::new(key, ClassifyMsg::Classify(Box::new(job), reply)))
            },
            None,
        )
        .await;
    match called {
        Ok(CallResult::Success(result)) => result,
        Ok(CallResult::Timeout) => Err(format!("classifying system `{root}` timed out")),
        Ok(CallResult::SenderError) => Err(format!("classifier dropped system `{root}`")),
        Err(error) => Err(format!("classifier pool unavailable: {error}")),
    }
}
