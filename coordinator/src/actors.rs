//! The actors of the scan tree; `crate` documents how they fit together.

pub(crate) mod classifier;
pub(crate) mod connector;
pub(crate) mod coordinator;
pub(crate) mod crawler;
pub(crate) mod ingest;
pub(crate) mod tenant;
pub(crate) mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ractor::ActorRef;
use ractor::factory::FactoryMessage;

use crate::handle::CoordinatorConfig;

/// Configuration and the long-lived actors every tenant, connector and crawler shares.
#[derive(Clone)]
pub(crate) struct Shared {
    /// Configuration given to [`crate::Coordinator::spawn`].
    pub(crate) config: Arc<CoordinatorConfig>,
    /// The writer; every database write of scan results goes through it.
    pub(crate) writer: ActorRef<writer::WriterMsg>,
    /// The classifier pool, keyed by system.
    pub(crate) classifiers:
        ActorRef<FactoryMessage<classifier::SystemKey, classifier::ClassifyMsg>>,
}

/// Counter behind [`next_actor_number`].
static NEXT_ACTOR_NUMBER: AtomicU64 = AtomicU64::new(1);

/// Returns a process-wide unique number for actor names. Ractor's name registry is global
/// to the process, and several trees may run in one process (tests do), or an actor of the
/// same tenant may still be stopping when its successor starts.
pub(crate) fn next_actor_number() -> u64 {
    NEXT_ACTOR_NUMBER.fetch_add(1, Ordering::Relaxed)
}

/// Formats a panic payload caught by `catch_unwind` or a join error.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        return (*text).to_owned();
    }
    if let Some(text) = payload.downcast_ref::<String>() {
        return text.clone();
    }
    "panic with a non-string payload".to_owned()
}

/// Builds an audit entry for an action taken from the command line or the coordinator.
pub(crate) fn audit_entry(
    actor: &str,
    entity_type: &str,
    entity_id: &str,
    action: &str,
    diff: serde_json::Value,
) -> store::audit::AuditEntry {
    let (actor_type, actor_id) = actor.split_once(':').unwrap_or(("system", actor));
    store::audit::AuditEntry {
        actor_type: actor_type.to_owned(),
        actor_id: actor_id.to_owned(),
        entity_type: entity_type.to_owned(),
        entity_id: entity_id.to_owned(),
        action: action.to_owned(),
        diff,
        ip: None,
        user_agent: None,
        request_id: None,
    }
}
