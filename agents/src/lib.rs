//! Connectors that discover AI usage; this crate contains the code connector and its detector
//! catalogue.
//!
//! [`code::scan_tree`] walks a folder or local git repository and reports each sign of AI
//! usage as a [`proto::Finding`]. What counts as a sign is data: the [`Catalogue`] compiled
//! from `catalogue/detectors.yaml`.

pub mod azure;
pub mod catalogue;
pub mod cloud;
pub mod code;
pub mod gcp;
pub mod github;
pub mod inventory;
pub mod net;
pub mod remote;
pub mod source;

pub use catalogue::{Catalogue, CatalogueError};
pub use code::{CodeScanOptions, CodeScanReport, ScanError, ScanIssue, ScanProgress, scan_tree};
pub use source::{
    BoxFuture, ConnectorSpec, CoverageGap, CrawlError, CrawlReport, FindingSink, Scope, Source,
    SourceFactory, SourceRegistry,
};
