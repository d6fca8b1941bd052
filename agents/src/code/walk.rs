//! The parallel walk: one [`Worker`] per thread, each with its own read buffer.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use ignore::{DirEntry, WalkBuilder, WalkState};
use proto::Finding;

use super::context::{Draft, deduplicate};
use super::roots::ProjectRoots;
use super::route::{self, Route};
use super::secrets::redact;
use super::{CodeScanOptions, CodeScanReport, ScanIssue, ScanProgress, artefact, dispatch};
use crate::catalogue::Catalogue;

/// State shared by all workers of one scan.
pub(crate) struct Shared<'a> {
    root: &'a Path,
    scope: String,
    pub(crate) catalogue: &'a Catalogue,
    options: &'a CodeScanOptions,
    progress: &'a ScanProgress,
    sink: &'a (dyn Fn(Finding) + Sync),
    roots: ProjectRoots,
    /// This scan's own counts; `progress` may be shared with other scans or start above zero.
    counters: ScanProgress,
    skipped_too_large: AtomicU64,
    /// Non-fatal problems, sorted by path when the walk ends.
    issues: Mutex<Vec<ScanIssue>>,
}

pub(super) fn run(
    root: &Path,
    catalogue: &Catalogue,
    options: &CodeScanOptions,
    progress: &ScanProgress,
    sink: &(dyn Fn(Finding) + Sync),
) -> CodeScanReport {
    let shared = Shared {
        root,
        scope: root.to_string_lossy().into_owned(),
        catalogue,
        options,
        progress,
        sink,
        roots: ProjectRoots::new(root.to_owned()),
        counters: ScanProgress::default(),
        skipped_too_large: AtomicU64::new(0),
        issues: Mutex::new(Vec::new()),
    };
    tracing::debug!(scan.root = %shared.scope, "code scan started");

    walk_builder(root, options).build_parallel().run(|| {
        let mut worker = Worker {
            shared: &shared,
            buffer: Vec::new(),
        };
        Box::new(move |entry| {
            worker.visit(entry);
            WalkState::Continue
        })
    });

    let mut errors = shared
        .issues
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    errors.sort_by(|left, right| (&left.path, &left.message).cmp(&(&right.path, &right.message)));
    let report = CodeScanReport {
        files_seen: shared.counters.files_seen.load(Ordering::Relaxed),
        files_scanned: shared.counters.files_scanned.load(Ordering::Relaxed),
        bytes_read: shared.counters.bytes_read.load(Ordering::Relaxed),
        skipped_too_large: shared.skipped_too_large.into_inner(),
        errors,
    };
    tracing::debug!(
        scan.root = %root.display(),
        scan.files_seen = report.files_seen,
        scan.files_scanned = report.files_scanned,
        scan.skipped_too_large = report.skipped_too_large,
        scan.issues = report.errors.len(),
        scan.findings = shared.counters.findings.load(Ordering::Relaxed),
        "code scan finished"
    );
    report
}

impl Shared<'_> {
    /// Adds to one counter of this scan and the same counter of the caller's progress.
    fn add(&self, counter: impl Fn(&ScanProgress) -> &AtomicU64, amount: u64) {
        counter(&self.counters).fetch_add(amount, Ordering::Relaxed);
        counter(self.progress).fetch_add(amount, Ordering::Relaxed);
    }
}

/// Configures the walk: `.gitignore` applies inside and outside git repositories, hidden files
/// are searched (`.github`, `.vscode`, `.env`), symbolic links are not followed, so a link loop
/// cannot trap the walk, and the skipped folder names are pruned.
fn walk_builder(root: &Path, options: &CodeScanOptions) -> WalkBuilder {
    let mut builder = WalkBuilder::new(root);
    builder
        .hidden(false)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .threads(options.threads);
    let skip_dirs: HashSet<String> = options.skip_dirs.iter().cloned().collect();
    builder.filter_entry(move |entry| {
        let is_dir = entry
            .file_type()
            .is_some_and(|file_type| file_type.is_dir());
        let skipped = entry
            .file_name()
            .to_str()
            .is_some_and(|name| skip_dirs.contains(name));
        entry.depth() == 0 || !(is_dir && skipped)
    });
    builder
}

/// One walker thread.
struct Worker<'s> {
    shared: &'s Shared<'s>,
    /// Read buffer reused for every file this thread reads.
    buffer: Vec<u8>,
}

impl Worker<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => return self.walk_error(&error),
        };
        if !entry
            .file_type()
            .is_some_and(|file_type| file_type.is_file())
        {
            return;
        }
        self.shared.add(|counters| &counters.files_seen, 1);

        let relative = self.relative(entry.path());
        let name = entry.file_name().to_string_lossy();
        let Some(route) = route::route(&relative, &name, self.shared.catalogue) else {
            return;
        };
        let drafts = match route {
            Route::Artefact(format) => self.artefact(entry.path(), &relative, format),
            _ => self.text_file(entry.path(), &relative, route),
        };
        if let Some(drafts) = drafts {
            self.send(&relative, drafts);
        }
    }

    fn relative(&self, path: &Path) -> String {
        let relative = path.strip_prefix(self.shared.root).unwrap_or(path);
        let text = relative.to_string_lossy();
        if std::path::MAIN_SEPARATOR == '/' {
            text.into_owned()
        } else {
            text.replace('\\', "/")
        }
    }

    fn artefact(
        &mut self,
        path: &Path,
        relative: &str,
        format: route::ArtefactFormat,
    ) -> Option<Vec<Draft>> {
        let hash = self.shared.options.hash_artefacts;
        let found = match artefact::inspect(path, format, hash, &mut self.buffer) {
            Ok(found) => found,
            Err(error) => {
                self.issue(
                    relative,
                    format!("cannot read model artefact: {error}; check the file's permissions"),
                );
                return None;
            }
        };
        self.count_read(found.as_ref().map_or(0, |artefact| artefact.bytes_read));
        let artefact = found?;
        Some(vec![dispatch::artefact_draft(&artefact)])
    }

    fn text_file(&mut self, path: &Path, relative: &str, route: Route) -> Option<Vec<Draft>> {
        if let Err(error) = self.read(path) {
            match error {
                ReadError::TooLarge(size) => {
                    self.shared
                        .skipped_too_large
                        .fetch_add(1, Ordering::Relaxed);
                    let limit = self.shared.options.max_file_size;
                    self.issue(
                        relative,
                        format!(
                            "file not scanned: its size of {size} bytes exceeds the limit of \
                             {limit} bytes; raise the limit with --max-file-size BYTES"
                        ),
                    );
                }
                ReadError::Io(error) => {
                    self.issue(
                        relative,
                        format!("cannot read file: {error}; check the file's permissions"),
                    );
                }
            }
            return None;
        }
        self.count_read(self.buffer.len() as u64);
        if self.buffer.is_empty() {
            return None;
        }
        let text: Cow<'_, str> = String::from_utf8_lossy(&self.buffer);
        let mut drafts = Vec::new();
        // A detector bug on one odd file must not end the walk of the whole tree, so a panic
        // becomes an issue for that file and its drafts are dropped.
        // NOTE: no known input panics a detector, so no test runs this branch.
        let catalogue = self.shared.catalogue;
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            dispatch::text(catalogue, route, relative, &text, &mut drafts)
        }));
        match outcome {
            Ok(Ok(())) => Some(drafts),
            Ok(Err(message)) => {
                self.issue(relative, message);
                Some(drafts)
            }
            Err(_) => {
                tracing::error!(file.path = relative, "code detector panicked");
                self.issue(
                    relative,
                    "internal error: a detector panicked on this file; the file was skipped"
                        .to_owned(),
                );
                None
            }
        }
    }

    /// Reads a file into the buffer, unless it exceeds the size bound.
    fn read(&mut self, path: &Path) -> Result<(), ReadError> {
        let file = File::open(path)?;
        let size = file.metadata()?.len();
        if size > self.shared.options.max_file_size {
            return Err(ReadError::TooLarge(size));
        }
        self.buffer.clear();
        let capacity = usize::try_from(size).unwrap_or(0);
        self.buffer.reserve(capacity);
        file.take(self.shared.options.max_file_size)
            .read_to_end(&mut self.buffer)?;
        Ok(())
    }

    fn count_read(&self, bytes: u64) {
        self.shared.add(|counters| &counters.files_scanned, 1);
        self.shared.add(|counters| &counters.bytes_read, bytes);
    }

    fn send(&self, relative: &str, mut drafts: Vec<Draft>) {
        if drafts.is_empty() {
            return;
        }
        deduplicate(&mut drafts);
        let project_root = self.shared.roots.root_of(relative);
        for draft in drafts {
            let finding = Finding {
                source: "code".to_owned(),
                scope: self.shared.scope.clone(),
                external_id: Finding::stable_id(
                    &self.shared.scope,
                    relative,
                    draft.kind,
                    &draft.identity(),
                ),
                kind: draft.kind,
                subject: draft.subject,
                path: relative.to_owned(),
                line: draft.line,
                confidence: draft.confidence,
                project_root: project_root.clone(),
                attributes: redact_attributes(self.shared.catalogue, draft.attributes),
                evidence: draft
                    .evidence
                    .map(|evidence| redact(self.shared.catalogue, &evidence)),
            };
            self.shared.add(|counters| &counters.findings, 1);
            (self.shared.sink)(finding);
        }
    }

    fn walk_error(&self, error: &ignore::Error) {
        let path = error_path(error)
            .map(|path| self.relative(&path))
            .unwrap_or_default();
        self.issue(
            &path,
            format!("cannot walk: {error}; check the folder's permissions"),
        );
    }

    fn issue(&self, relative: &str, message: String) {
        tracing::debug!(file.path = relative, error = %message, "code scan issue");
        let issue = ScanIssue {
            path: relative.to_owned(),
            message,
        };
        self.shared
            .issues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(issue);
    }
}

/// Redacts key-shaped values in attributes. Every value comes from file content that may
/// contain a key, while the `sha256` and `prefix` of a secret finding are already safe.
fn redact_attributes(
    catalogue: &Catalogue,
    attributes: std::collections::BTreeMap<String, String>,
) -> std::collections::BTreeMap<String, String> {
    attributes
        .into_iter()
        .map(|(name, value)| (name, redact(catalogue, &value)))
        .collect()
}

enum ReadError {
    /// The file's size in bytes exceeds the limit.
    TooLarge(u64),
    Io(std::io::Error),
}

impl From<std::io::Error> for ReadError {
    fn from(error: std::io::Error) -> Self {
        ReadError::Io(error)
    }
}

fn error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}
