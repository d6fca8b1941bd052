//! The code connector: walks a folder or local git repository and reports AI usage.
//!
//! [`scan_tree`] walks in parallel with the `ignore` crate. Each file is routed by its name
//! to the detectors that apply. Text files first go through one Aho-Corasick prefilter of
//! catalogue keywords, and regular expressions run only where a keyword hit. Model artefacts
//! are checked by magic bytes and hashed by streaming.

mod artefact;
mod context;
mod dispatch;
mod imports;
mod manifests;
mod roots;
mod route;
mod secrets;
mod structured;
mod text;
mod walk;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use proto::Finding;

use crate::catalogue::Catalogue;

pub(crate) use route::{DetectorInput, detector_input, is_root_marker};

/// Default bound on the size of a text file that is read, in bytes (8 MiB).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 8 * 1024 * 1024;

/// Folder names skipped by default because they hold vendored or generated third-party files.
///
/// `third_party` is not in the list: teams often keep their own patched copies there, and
/// those are part of what they ship.
pub const DEFAULT_SKIP_DIRS: [&str; 17] = [
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "bower_components",
    "jspm_packages",
    "vendor",
    ".venv",
    "venv",
    "site-packages",
    "dist-packages",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ipynb_checkpoints",
    ".terraform",
];

/// Options of one code scan.
#[derive(Debug, Clone)]
pub struct CodeScanOptions {
    /// Maximum size of a text file that is read, in bytes. A larger one is skipped and
    /// reported as a [`ScanIssue`]. Model artefacts are hashed whatever their size.
    pub max_file_size: u64,
    /// Folder names skipped wherever they occur (exact, case-sensitive).
    pub skip_dirs: Vec<String>,
    /// Worker threads; 0 means the available parallelism.
    pub threads: usize,
    /// Whether model artefacts are hashed with SHA-256 (reading them in full).
    pub hash_artefacts: bool,
}

impl Default for CodeScanOptions {
    fn default() -> Self {
        CodeScanOptions {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            skip_dirs: DEFAULT_SKIP_DIRS
                .iter()
                .map(|name| (*name).to_owned())
                .collect(),
            threads: 0,
            hash_artefacts: true,
        }
    }
}

/// Live counters of a running scan, updated by the workers and read by a progress display.
#[derive(Debug, Default)]
pub struct ScanProgress {
    /// Files the walk has visited.
    pub files_seen: AtomicU64,
    /// Files read by at least one detector.
    pub files_scanned: AtomicU64,
    /// Bytes read from files, artefact hashing included.
    pub bytes_read: AtomicU64,
    /// Findings passed to the sink.
    pub findings: AtomicU64,
}

/// Summary of a finished scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeScanReport {
    /// Files the walk visited.
    pub files_seen: u64,
    /// Files read by at least one detector.
    pub files_scanned: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Text files skipped because they exceed [`CodeScanOptions::max_file_size`]. Each one
    /// is also listed in `errors` with its size.
    pub skipped_too_large: u64,
    /// Non-fatal problems, such as unreadable files or an invalid declaration.
    pub errors: Vec<ScanIssue>,
}

/// A non-fatal problem with one file or folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanIssue {
    /// Path relative to the scan root, `/`-separated.
    pub path: String,
    /// Description of the problem and of the fix.
    pub message: String,
}

/// Error that stops a scan before it starts.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The root cannot be read.
    #[error("cannot scan `{path}`: {source}; pass an existing, readable folder")]
    Root {
        /// Root as given.
        path: PathBuf,
        /// Underlying IO error.
        source: std::io::Error,
    },
    /// The root is not a folder.
    #[error("cannot scan `{0}`: not a folder; pass the folder or repository to scan")]
    NotADirectory(PathBuf),
}

/// Scans a folder or local git repository and passes every finding to `sink`.
///
/// Blocks until the walk ends. `sink` is called from the worker threads, so it must be cheap
/// or hand the finding over to a channel. Only a missing or unreadable root is an error;
/// everything else goes to [`CodeScanReport::errors`].
pub fn scan_tree(
    root: &Path,
    catalogue: &Catalogue,
    options: &CodeScanOptions,
    progress: &ScanProgress,
    sink: &(dyn Fn(Finding) + Sync),
) -> Result<CodeScanReport, ScanError> {
    let metadata = std::fs::metadata(root).map_err(|source| ScanError::Root {
        path: root.to_owned(),
        source,
    })?;
    if !metadata.is_dir() {
        return Err(ScanError::NotADirectory(root.to_owned()));
    }
    let canonical_root = std::fs::canonicalize(root).map_err(|source| ScanError::Root {
        path: root.to_owned(),
        source,
    })?;
    Ok(walk::run(
        &canonical_root,
        catalogue,
        options,
        progress,
        sink,
    ))
}
