//! Actor tree that runs scans: tenants, connectors, crawlers, classifier pool and writer.
//!
//! ```text
//! Coordinator (root supervisor)      actors/coordinator.rs
//! ├── ClassifierPool (factory)       actors/classifier.rs, keyed by system
//! ├── Writer                         actors/writer.rs, batched idempotent upserts
//! └── Tenant(<path>)                 actors/tenant.rs, stopped when idle
//!     └── Connector(<name>)          actors/connector.rs, one per connector of a scan
//!         └── Crawler(<scope>)       actors/crawler.rs, one per scope, bounded per connector
//! ```
//!
//! [`Coordinator::spawn`] starts the tree and returns a handle; [`Coordinator::start_scan`]
//! starts a scan of code targets and [`agents::Source`] connectors, [`Coordinator::scan`]
//! runs one to completion and [`Coordinator::cancel_scan`] stops one. `docs/actors.md`
//! records the guarantees of the tree.

mod actors;
pub mod classify;
mod crawl;
pub mod evidence;
pub mod grpc;
mod handle;
pub mod metrics;
mod scan;

pub use actors::ingest::IngestResult;
pub use crawl::{CODE_KIND, CodeSource, CodeSourceFactory};
pub use handle::{
    ClassifyFn, Coordinator, CoordinatorConfig, DEFAULT_MAX_CRAWLERS_PER_CONNECTOR,
    DEFAULT_NUM_CLASSIFIERS, DEFAULT_WRITER_BATCH_SIZE, DEFAULT_WRITER_MAX_IN_FLIGHT,
    RestartPolicy,
};
pub use scan::{
    ALL_SCOPES, ScanError, ScanHandle, ScanOutcome, ScanRequest, ScanStatus, ScopeOutcome,
    ScopeStatus, folder_in_root,
};
