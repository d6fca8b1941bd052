//! Actor tree that runs scans: tenants, connectors, crawlers, classifier pool and writer.
//!
//! ```text
//! Coordinator (root supervisor)      actors/coordinator.rs
//! ├── ClassifierPool (factory)       actors/classifier.rs, keyed by system
//! ├── Writer                         actors/writer.rs, batched idempotent upserts
//! └── Tenant(<path>)                 actors/tenant.rs, stopped when idle
//!     └── Connector(<scan>)          actors/connector.rs, restarts crawlers
//!         └── Crawler(<scope>)       actors/crawler.rs, one per scanned root
//! ```
//!
//! [`Coordinator::spawn`] starts the tree and returns a handle; [`Coordinator::scan`] runs one
//! scan to completion. `docs/actors.md` records the guarantees of the tree.

mod actors;
pub mod classify;
mod crawl;
mod handle;
pub mod metrics;
mod scan;

pub use crawl::{CodeCrawler, CrawlError, CrawlReport, ScopeCrawler};
pub use handle::{
    ClassifyFn, Coordinator, CoordinatorConfig, DEFAULT_NUM_CLASSIFIERS, DEFAULT_WRITER_BATCH_SIZE,
    RestartPolicy,
};
pub use scan::{
    ScanError, ScanHandle, ScanOutcome, ScanRequest, ScanStatus, ScopeOutcome, ScopeStatus,
};
