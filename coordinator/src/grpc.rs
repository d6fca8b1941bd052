//! gRPC API, package `secruna.v1`: `Ingest`, `Scans`, `Inventory` and `Compliance`, with
//! the standard health and reflection services.
//!
//! Every call of the four services passes [`auth::AuthLayer`] first: it resolves the
//! `authorization: Bearer <token>` metadata to a tenant through [`Store::authenticate`]
//! (the tokens of the REST API) and takes a permit from the tenant's rate limiter. Handlers
//! then read and write only through `store.begin(&tenant)`, so row-level security scopes
//! every query to that tenant, and an id of another tenant is `NOT_FOUND`.
//!
//! Deadlines: [`GrpcConfig::request_timeout`] (and a shorter `grpc-timeout` sent by the
//! client) bounds the time until a call's response starts. A unary call is done by then; a
//! streaming call (`StreamFindings`, `WatchScan`, `ExportEvidencePack`) has started, so the
//! deadline does not end a long-lived stream.

mod auth;
mod compliance;
mod convert;
mod ingest;
mod inventory;
mod scans;

use std::future::Future;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rule_book::RuleBook;
use store::Store;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;
use tracing::info;

use crate::Coordinator;
use proto::v1::compliance_server::ComplianceServer;
use proto::v1::ingest_server::IngestServer;
use proto::v1::inventory_server::InventoryServer;
use proto::v1::scans_server::ScansServer;

pub use auth::{Access, Principal};

/// Default listen address of the gRPC server.
pub const DEFAULT_GRPC_ADDR: &str = "127.0.0.1:50051";

/// Default per-call deadline until a response starts.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Default interval at which an open ingest stream checks its bearer token again, so a
/// token revoked or expired during a long stream stops writing.
pub const DEFAULT_TOKEN_RECHECK: Duration = Duration::from_secs(10);

/// Default sustained calls per second allowed per tenant.
pub const DEFAULT_RATE_PER_SECOND: u32 = 50;

/// Default calls a tenant may make in a burst above the sustained rate.
pub const DEFAULT_RATE_BURST: u32 = 100;

/// HTTP/2 flow-control window of one stream, in bytes. With it, a client that sends faster
/// than its batches are written can have at most this much unread data in flight on a
/// stream before HTTP/2 stops it.
pub const STREAM_WINDOW_BYTES: u32 = 1024 * 1024;

/// HTTP/2 flow-control window of one connection, in bytes.
pub const CONNECTION_WINDOW_BYTES: u32 = 4 * 1024 * 1024;

/// Settings of the gRPC server.
#[derive(Debug, Clone)]
pub struct GrpcConfig {
    /// Deadline until a call's response starts; see the module documentation.
    pub request_timeout: Duration,
    /// Sustained calls per second allowed per tenant.
    pub rate_per_second: NonZeroU32,
    /// Calls a tenant may make in a burst above the sustained rate.
    pub rate_burst: NonZeroU32,
    /// Folder under which `StartScan` may scan; `StartScan` is off without it.
    pub scan_root: Option<PathBuf>,
    /// Interval at which an open ingest stream checks its bearer token again.
    pub token_recheck: Duration,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            rate_per_second: NonZeroU32::new(DEFAULT_RATE_PER_SECOND).expect("non-zero"),
            rate_burst: NonZeroU32::new(DEFAULT_RATE_BURST).expect("non-zero"),
            scan_root: None,
            token_recheck: DEFAULT_TOKEN_RECHECK,
        }
    }
}

/// Everything the services share.
#[derive(Clone)]
pub struct GrpcState {
    /// Application login to Postgres.
    pub store: Store,
    /// The actor tree that runs scans and ingests findings.
    pub coordinator: Arc<Coordinator>,
    /// Loaded rule book, for the evidence pack's version hash.
    pub rule_book: Arc<RuleBook>,
    /// Server settings.
    pub config: GrpcConfig,
    /// Scans started through this server, for `WatchScan` progress.
    watches: Arc<scans::Watches>,
    /// Permits of the evidence packs being built, see [`compliance::MAX_PACK_BUILDS`].
    pack_builds: Arc<tokio::sync::Semaphore>,
    /// Tenants with an evidence pack being built; one at a time per tenant.
    pack_tenants: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl GrpcState {
    /// Bundles the shared parts of the services.
    pub fn new(
        store: Store,
        coordinator: Arc<Coordinator>,
        rule_book: Arc<RuleBook>,
        config: GrpcConfig,
    ) -> Self {
        GrpcState {
            store,
            coordinator,
            rule_book,
            config,
            watches: Arc::new(scans::Watches::default()),
            pack_builds: Arc::new(tokio::sync::Semaphore::new(compliance::MAX_PACK_BUILDS)),
            pack_tenants: Arc::default(),
        }
    }
}

/// Error that stops the gRPC server.
#[derive(Debug, thiserror::Error)]
pub enum GrpcError {
    /// The reflection service could not read the embedded descriptor set.
    #[error("building the reflection service failed: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// Serving failed.
    #[error("serving gRPC failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Reading the listener's address failed.
    #[error("reading the gRPC listen address failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves the gRPC API on `listener` until `shutdown` completes, then waits for running
/// calls to finish.
pub async fn serve(
    listener: TcpListener,
    state: GrpcState,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), GrpcError> {
    let address: SocketAddr = listener.local_addr()?;
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    for service in [
        "secruna.v1.Ingest",
        "secruna.v1.Scans",
        "secruna.v1.Inventory",
        "secruna.v1.Compliance",
    ] {
        health_reporter
            .set_service_status(service, tonic_health::ServingStatus::Serving)
            .await;
    }
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    auth::describe_metrics();
    let auth_layer = auth::AuthLayer::new(&state);

    info!(grpc.address = %address, "gRPC server listening on {address}");
    Server::builder()
        .timeout(state.config.request_timeout)
        .initial_stream_window_size(STREAM_WINDOW_BYTES)
        .initial_connection_window_size(CONNECTION_WINDOW_BYTES)
        .layer(auth_layer)
        .add_service(health_service)
        .add_service(reflection)
        .add_service(limit_ingest(IngestServer::new(ingest::IngestService::new(
            state.clone(),
        ))))
        .add_service(limit_scans(ScansServer::new(scans::ScansService::new(
            state.clone(),
        ))))
        .add_service(limit_inventory(InventoryServer::new(
            inventory::InventoryService::new(state.clone()),
        )))
        .add_service(limit_compliance(ComplianceServer::new(
            compliance::ComplianceService::new(state),
        )))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await?;
    info!(grpc.address = %address, "gRPC server stopped");
    Ok(())
}

/// Applies [`proto::MAX_MESSAGE_BYTES`] to both directions of a generated server.
macro_rules! message_limits {
    ($name:ident, $server:ty) => {
        fn $name(server: $server) -> $server {
            server
                .max_decoding_message_size(proto::MAX_MESSAGE_BYTES)
                .max_encoding_message_size(proto::MAX_MESSAGE_BYTES)
        }
    };
}

message_limits!(limit_ingest, IngestServer<ingest::IngestService>);
message_limits!(limit_scans, ScansServer<scans::ScansService>);
message_limits!(
    limit_inventory,
    InventoryServer<inventory::InventoryService>
);
message_limits!(
    limit_compliance,
    ComplianceServer<compliance::ComplianceService>
);
