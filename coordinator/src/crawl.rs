//! Crawl of one scope: the code connector, or a replacement in tests.

use std::path::Path;

use agents::{Catalogue, CodeScanOptions, ScanProgress};
use proto::Finding;

/// Summary a crawl returns besides the findings it sent.
#[derive(Debug, Clone, Default)]
pub struct CrawlReport {
    /// Files the crawl read.
    pub num_files_scanned: u64,
    /// Non-fatal problems worth showing to the user, such as unreadable files.
    pub issues: Vec<String>,
}

/// Error of one crawl attempt.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct CrawlError {
    /// Description of the failure, naming the scope and the fix.
    pub message: String,
    /// Whether another attempt would fail the same way (a missing folder, say), so the
    /// scope fails at once instead of spending its restart budget.
    pub permanent: bool,
}

impl CrawlError {
    /// Creates an error worth retrying.
    pub fn transient(message: impl Into<String>) -> Self {
        CrawlError {
            message: message.into(),
            permanent: false,
        }
    }

    /// Creates an error that no retry can fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        CrawlError {
            message: message.into(),
            permanent: true,
        }
    }
}

/// Walks one scope and sends every finding to `sink`.
///
/// Runs on a blocking thread. A transient `Err` or a panic fails this attempt, and the
/// connector retries it within its restart budget. A permanent `Err` fails the scope at once.
pub trait ScopeCrawler: Send + Sync + 'static {
    /// Crawls `scope`, calling `sink` once per finding, from any thread.
    fn crawl(
        &self,
        scope: &Path,
        progress: &ScanProgress,
        sink: &(dyn Fn(Finding) + Sync),
    ) -> Result<CrawlReport, CrawlError>;
}

/// The code connector: walks a folder or local git repository with the detector catalogue.
#[derive(Debug, Clone)]
pub struct CodeCrawler {
    catalogue: &'static Catalogue,
    options: CodeScanOptions,
}

impl CodeCrawler {
    /// Creates a crawler over the embedded catalogue with the given walk options.
    pub fn new(options: CodeScanOptions) -> Self {
        CodeCrawler {
            catalogue: Catalogue::embedded(),
            options,
        }
    }
}

impl ScopeCrawler for CodeCrawler {
    fn crawl(
        &self,
        scope: &Path,
        progress: &ScanProgress,
        sink: &(dyn Fn(Finding) + Sync),
    ) -> Result<CrawlReport, CrawlError> {
        let report = agents::scan_tree(scope, self.catalogue, &self.options, progress, sink)
            .map_err(|error| match error {
                agents::ScanError::Root { .. } | agents::ScanError::NotADirectory(_) => {
                    CrawlError::permanent(error.to_string())
                }
            })?;
        let issues = report
            .errors
            .iter()
            .map(|issue| format!("{}: {}", issue.path, issue.message))
            .collect();
        Ok(CrawlReport {
            num_files_scanned: report.files_scanned,
            issues,
        })
    }
}
