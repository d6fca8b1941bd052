//! The actors of the scan tree; `crate` documents how they fit together.

pub(crate) mod classifier;
pub(crate) mod connector;
pub(crate) mod coordinator;
pub(crate) mod crawler;
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
