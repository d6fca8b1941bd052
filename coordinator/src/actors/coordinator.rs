//! Root supervisor. Owns the classifier pool and the writer, and starts one tenant actor per
//! active tenant. A failing tenant actor is dropped from the routing table and logged; other
//! tenants go on. Mailbox: unbounded, but it only carries scan requests.

use std::collections::HashMap;
use std::sync::Arc;

use ractor::factory::{Factory, FactoryArguments, queues, routing};
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use store::TenantPath;
use tracing::{error, info};

use super::Shared;
use super::classifier::{ClassifierWorker, ClassifyMsg, SystemKey};
use super::tenant::{TenantActor, TenantArgs, TenantMsg};
use super::writer::{WriterActor, WriterArgs};
use crate::handle::CoordinatorConfig;
use crate::scan::{ScanError, ScanReplies, ScanRequest};

/// Root actor of the tree.
pub(crate) struct CoordinatorActor;

/// Messages to the root actor.
pub(crate) enum CoordinatorMsg {
    /// Routes a scan to its tenant actor, starting it when needed.
    StartScan(ScanRequest, ScanReplies),
    /// Routes a cancel request to the scan's tenant actor; replies `false` when the tenant
    /// runs no scan here.
    CancelScan(CancelScan),
    /// A tenant actor runs no scan after handling `num_requests` requests.
    TenantIdle {
        /// Tenant path.
        path: String,
        /// Requests the tenant actor has received in its lifetime.
        num_requests: u64,
    },
}

/// Request to cancel one scan.
pub(crate) struct CancelScan {
    /// Tenant path (ltree form) of the scan.
    pub(crate) tenant_path: String,
    /// Scan to cancel.
    pub(crate) scan_id: uuid::Uuid,
    /// Actor to record in a `scan.cancel` audit row; `None` when the caller audits.
    pub(crate) actor: Option<String>,
    /// Receives whether the scan was running and is now closed `cancelled`.
    pub(crate) reply_tx: tokio::sync::oneshot::Sender<bool>,
}

/// A running tenant actor and the number of requests routed to it.
struct TenantEntry {
    tenant: ActorRef<TenantMsg>,
    num_routed: u64,
}

/// Routing table of the root actor.
pub(crate) struct CoordinatorState {
    shared: Shared,
    /// Running tenant actors by tenant path.
    tenants: HashMap<String, TenantEntry>,
}

type ClassifierFactory = Factory<
    SystemKey,
    ClassifyMsg,
    Arc<tokio::sync::OnceCell<Shared>>,
    ClassifierWorker,
    routing::KeyPersistentRouting<SystemKey, ClassifyMsg>,
    queues::DefaultQueue<SystemKey, ClassifyMsg>,
>;

impl Actor for CoordinatorActor {
    type Msg = CoordinatorMsg;
    type State = CoordinatorState;
    type Arguments = CoordinatorConfig;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        config: CoordinatorConfig,
    ) -> Result<Self::State, ActorProcessingErr> {
        let config = Arc::new(config);
        publish_catalogue(&config).await?;
        let instance = super::next_actor_number();
        let writer_args = WriterArgs {
            store: config.store.clone(),
            batch_size: config.writer_batch_size,
            batch_delay: config.writer_batch_delay,
            max_in_flight: config.writer_max_in_flight,
        };
        let (writer, _) = myself
            .spawn_linked(Some(format!("writer:{instance}")), WriterActor, writer_args)
            .await?;

        // Workers need `Shared`, which contains the pool's own ref, so they receive a cell that
        // is filled once the pool exists. Jobs only arrive after that.
        let shared_cell = Arc::new(tokio::sync::OnceCell::new());
        let worker_shared = shared_cell.clone();
        let num_workers = config.num_classifiers.max(1);
        let factory_args = FactoryArguments::builder()
            .worker_builder(Box::new(ractor::factory::worker_builder(
                move |_worker_id| (ClassifierWorker, worker_shared.clone()),
            )))
            .queue(Default::default())
            .router(Default::default())
            .num_initial_workers(num_workers)
            .build();
        let (classifiers, _) = myself
            .spawn_linked(
                Some(format!("classifier-pool:{instance}")),
                ClassifierFactory::default(),
                factory_args,
            )
            .await?;
        let shared = Shared {
            config,
            writer,
            classifiers,
        };
        crate::metrics::actor_started("coordinator");
        let _ = shared_cell.set(shared.clone());
        Ok(CoordinatorState {
            shared,
            tenants: HashMap::new(),
        })
    }

    async fn post_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        info!(
            num_classifiers = state.shared.config.num_classifiers,
            "coordinator started"
        );
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        _state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        crate::metrics::actor_stopped("coordinator");
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            CoordinatorMsg::StartScan(request, replies) => {
                match tenant_for(&myself, state, &request.tenant).await {
                    Ok(entry) => {
                        entry.num_routed += 1;
                        if let Err(error) =
                            entry.tenant.cast(TenantMsg::StartScan(request, replies))
                        {
                            error!(%error, "tenant actor stopped before it took the scan");
                        }
                    }
                    Err(scan_error) => replies.reject(scan_error),
                }
            }
            CoordinatorMsg::CancelScan(cancel) => match state.tenants.get(&cancel.tenant_path) {
                Some(entry) => {
                    if let Err(error) = entry.tenant.cast(TenantMsg::CancelScan(cancel)) {
                        error!(%error, "tenant actor stopped before it took the cancel request");
                    }
                }
                None => {
                    let _ = cancel.reply_tx.send(false);
                }
            },
            CoordinatorMsg::TenantIdle { path, num_requests } => {
                let idle = state
                    .tenants
                    .get(&path)
                    .is_some_and(|entry| entry.num_routed == num_requests);
                if idle && let Some(entry) = state.tenants.remove(&path) {
                    entry.tenant.stop(Some("idle".to_owned()));
                }
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                state
                    .tenants
                    .retain(|_, entry| entry.tenant.get_id() != cell.get_id());
            }
            SupervisionEvent::ActorFailed(cell, failure) => {
                let name = cell.get_name().unwrap_or_default();
                let before = state.tenants.len();
                state
                    .tenants
                    .retain(|_, entry| entry.tenant.get_id() != cell.get_id());
                if state.tenants.len() == before {
                    // The writer or the classifier pool died: scans cannot finish any more.
                    error!(actor.name = %name, error = %failure, "core actor failed; stopping");
                    return Err(format!("{name} failed: {failure}").into());
                }
                error!(actor.name = %name, error = %failure, "tenant actor failed");
            }
            _ => {}
        }
        Ok(())
    }
}

/// Publishes the rule book's frameworks to the catalogue table, which subscriptions
/// reference.
async fn publish_catalogue(config: &CoordinatorConfig) -> Result<(), ActorProcessingErr> {
    let rule_book = &config.rule_book;
    let rows: Vec<store::FrameworkRow> = rule_book
        .frameworks()
        .map(|framework| store::FrameworkRow {
            slug: framework.slug.clone(),
            title: framework.title.clone(),
            version: framework.version.clone(),
            description: framework.description.clone(),
        })
        .collect();
    config.store.upsert_frameworks(&rows).await?;
    Ok(())
}

/// Returns the running tenant actor for `slug_path`, starting it if needed.
async fn tenant_for<'a>(
    myself: &ActorRef<CoordinatorMsg>,
    state: &'a mut CoordinatorState,
    slug_path: &str,
) -> Result<&'a mut TenantEntry, ScanError> {
    let path = TenantPath::from_slug_path(slug_path).map_err(|error| ScanError::InvalidTenant {
        tenant: slug_path.to_owned(),
        reason: error.to_string(),
    })?;
    let key = path.as_str().to_owned();
    if state.tenants.contains_key(&key) {
        return Ok(state.tenants.get_mut(&key).expect("checked above"));
    }
    let args = TenantArgs {
        slug_path: slug_path.to_owned(),
        path: path.clone(),
        shared: state.shared.clone(),
        coordinator: myself.clone(),
    };
    let name = format!("tenant:{}:{}", path.as_str(), super::next_actor_number());
    let (tenant, _) = myself
        .spawn_linked(Some(name), TenantActor, args)
        .await
        .map_err(|error| ScanError::Aborted(format!("tenant actor failed to start: {error}")))?;
    Ok(state.tenants.entry(key).or_insert(TenantEntry {
        tenant,
        num_routed: 0,
    }))
}
