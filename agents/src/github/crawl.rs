//! Crawls one organisation: lists its repositories, downloads the files the detectors read
//! into a temporary folder per repository, and runs the code scan on it.

use std::collections::BTreeMap;
use std::path::{Component, Path};
use std::sync::Mutex;

use futures::StreamExt;
use proto::{Finding, FindingKind};

use super::GitHubConfig;
use super::api::{Api, Repo, TreeEntry};
use super::select::{self, Wanted};
use crate::catalogue::Catalogue;
use crate::code::{CodeScanOptions, ScanProgress, scan_tree};
use crate::net::CallError;
use crate::source::{CoverageGap, CrawlError, CrawlReport, FindingSink};

/// Permission a GitHub App or fine-grained token needs to list repositories.
const METADATA_PERMISSION: &str = "metadata: read";

/// Permission a GitHub App or fine-grained token needs to read trees and blobs.
const CONTENTS_PERMISSION: &str = "contents: read";

/// Tree entry mode of a symbolic link, which is not followed.
const SYMLINK_MODE: &str = "120000";

/// One organisation's crawl.
pub(crate) struct OrgCrawl<'a> {
    pub(crate) api: &'a Api,
    pub(crate) config: &'a GitHubConfig,
    pub(crate) owner: &'a str,
    pub(crate) scope: &'a str,
    pub(crate) sink: FindingSink,
}

impl OrgCrawl<'_> {
    /// Crawls every selected repository; a failed repository is recorded, not fatal.
    pub(crate) async fn run(&self) -> Result<CrawlReport, CrawlError> {
        let mut report = CrawlReport::default();
        let listing = match self.api.list_repos(self.owner).await {
            Ok(listing) => listing,
            Err(error) => return self.listing_failed(error, report),
        };
        report.incomplete.extend(listing.stopped);

        for repo in listing
            .repos
            .iter()
            .filter(|repo| self.config.selects(repo))
        {
            self.scan_repo(repo, &mut report).await;
        }
        Ok(report)
    }

    fn listing_failed(
        &self,
        error: CallError,
        mut report: CrawlReport,
    ) -> Result<CrawlReport, CrawlError> {
        if let CallError::Denied {
            operation, message, ..
        } = &error
        {
            report.gaps.push(CoverageGap {
                service: operation.clone(),
                permission: METADATA_PERMISSION.to_owned(),
                message: message.clone(),
            });
            return Ok(report);
        }
        let permanent = error.is_permanent();
        let message = format!("{}: {error}", self.scope);
        Err(CrawlError { message, permanent })
    }

    async fn scan_repo(&self, repo: &Repo, report: &mut CrawlReport) {
        let reference = repo.default_branch.as_deref().unwrap_or("HEAD");
        let tree = match self.api.tree(self.owner, &repo.name, reference).await {
            Ok(tree) => tree,
            Err(error) => return self.repo_failed(repo, error, CONTENTS_PERMISSION, report),
        };
        if tree.truncated {
            report.incomplete.push(format!(
                "{}/{}: GitHub truncated the git tree (over 100,000 entries or 7 MB), so files \
                 beyond it were not scanned",
                self.owner, repo.name
            ));
        }

        let folder = match tempfile::Builder::new().prefix("secruna-github-").tempdir() {
            Ok(folder) => folder,
            Err(error) => {
                report.issues.push(format!(
                    "{}/{}: cannot create a temporary folder: {error}",
                    self.owner, repo.name
                ));
                report
                    .incomplete
                    .push(format!("{}/{}: not scanned", self.owner, repo.name));
                return;
            }
        };
        let downloaded = self.download(repo, &tree.tree, folder.path(), report).await;
        report.num_items += downloaded;
        self.scan_folder(repo, folder.path(), report).await;
    }

    /// Records a failed call for one repository: a denial is a coverage gap, an empty
    /// repository (HTTP 409) is skipped, anything else leaves the scope incomplete.
    fn repo_failed(
        &self,
        repo: &Repo,
        error: CallError,
        permission: &str,
        report: &mut CrawlReport,
    ) {
        let name = format!("{}/{}", self.owner, repo.name);
        match &error {
            CallError::Denied {
                operation, message, ..
            } => report.gaps.push(CoverageGap {
                service: operation.clone(),
                permission: permission.to_owned(),
                message: message.clone(),
            }),
            CallError::Status { status: 409, .. } => {
                report
                    .issues
                    .push(format!("{name}: skipped because the repository is empty"));
            }
            _ => {
                tracing::warn!(scope.id = self.scope, github.repository = %name, error = %error, "repository not scanned");
                report.issues.push(format!("{name}: {error}"));
                report
                    .incomplete
                    .push(format!("{name}: not scanned because {}", error.operation()));
            }
        }
    }

    /// Downloads the wanted blobs into `folder`, returning how many files were written.
    async fn download(
        &self,
        repo: &Repo,
        entries: &[TreeEntry],
        folder: &Path,
        report: &mut CrawlReport,
    ) -> u64 {
        let plan = self.plan(repo, entries, folder, report);
        let mut fetched = futures::stream::iter(plan.keys().cloned())
            .map(|sha| async move {
                let bytes = self.api.blob(self.owner, &repo.name, &sha).await;
                (sha, bytes)
            })
            .buffer_unordered(self.config.blob_concurrency.max(1));

        // Each blob is written as it arrives, so no more than `blob_concurrency` files are
        // held in memory.
        let mut written = 0;
        let mut failed = 0;
        while let Some((sha, result)) = fetched.next().await {
            let bytes = match result {
                Ok(bytes) => bytes,
                Err(error) => {
                    failed += plan[&sha].len();
                    self.blob_failed(repo, &plan[&sha], &error, report);
                    continue;
                }
            };
            for path in &plan[&sha] {
                match write_file(folder, path, &bytes) {
                    Ok(()) => written += 1,
                    Err(error) => report.issues.push(format!(
                        "{}/{}/{path}: cannot write the downloaded file: {error}",
                        self.owner, repo.name
                    )),
                }
            }
        }
        if failed > 0 {
            report.incomplete.push(format!(
                "{}/{}: could not download {failed} file(s), so they were not scanned",
                self.owner, repo.name
            ));
        }
        written
    }

    /// Records a blob that could not be downloaded: a denial once per repository as a
    /// coverage gap, any other error as an issue per file.
    fn blob_failed(
        &self,
        repo: &Repo,
        paths: &[String],
        error: &CallError,
        report: &mut CrawlReport,
    ) {
        if let CallError::Denied { message, .. } = error {
            let gap = CoverageGap {
                service: format!("read the blobs of {}/{}", self.owner, repo.name),
                permission: CONTENTS_PERMISSION.to_owned(),
                message: message.clone(),
            };
            if !report.gaps.contains(&gap) {
                report.gaps.push(gap);
            }
            return;
        }
        for path in paths {
            report
                .issues
                .push(format!("{}/{}/{path}: {error}", self.owner, repo.name));
        }
    }

    /// Chooses the blobs to download, keyed by SHA so that identical files are fetched once.
    /// Files over the size limit are reported. A manifest among them is still written as an
    /// empty file, so that it marks its folder as a project root.
    fn plan(
        &self,
        repo: &Repo,
        entries: &[TreeEntry],
        folder: &Path,
        report: &mut CrawlReport,
    ) -> BTreeMap<String, Vec<String>> {
        let catalogue = Catalogue::embedded();
        let mut plan: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for entry in entries {
            if entry.kind != "blob" || entry.mode == SYMLINK_MODE {
                continue;
            }
            if !is_safe_path(&entry.path) {
                report.issues.push(format!(
                    "{}/{}: skipped the unsafe tree path `{}`",
                    self.owner, repo.name, entry.path
                ));
                continue;
            }
            if select::in_skipped_folder(&entry.path, &self.config.skip_dirs) {
                continue;
            }
            let Some(wanted) = select::wanted(&entry.path, catalogue) else {
                continue;
            };
            let size = entry.size.unwrap_or(0);
            if size > self.config.max_file_size {
                self.too_large(repo, entry, wanted, folder, report);
                continue;
            }
            plan.entry(entry.sha.clone())
                .or_default()
                .push(entry.path.clone());
        }
        plan
    }

    fn too_large(
        &self,
        repo: &Repo,
        entry: &TreeEntry,
        wanted: Wanted,
        folder: &Path,
        report: &mut CrawlReport,
    ) {
        let kind = match wanted {
            Wanted::Text => "file",
            Wanted::Artefact => "model artefact",
        };
        report.issues.push(format!(
            "{}/{}/{}: {kind} not scanned: its size of {} bytes exceeds the limit of {} bytes; raise `max_file_size` in the connector config",
            self.owner,
            repo.name,
            entry.path,
            entry.size.unwrap_or(0),
            self.config.max_file_size
        ));
        let name = entry.path.rsplit('/').next().unwrap_or(&entry.path);
        if select::is_root_marker(name) {
            let _ = write_file(folder, &entry.path, b"");
        }
    }

    /// Runs the code scan on the downloaded files and sends the rewritten findings.
    async fn scan_folder(&self, repo: &Repo, folder: &Path, report: &mut CrawlReport) {
        let options = CodeScanOptions {
            max_file_size: self.config.max_file_size,
            skip_dirs: self.config.skip_dirs.clone(),
            threads: 2,
            hash_artefacts: true,
        };
        let root = folder.to_owned();
        let scanned = tokio::task::spawn_blocking(move || {
            let findings = Mutex::new(Vec::new());
            let sink = |finding: Finding| {
                findings
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(finding);
            };
            let progress = ScanProgress::default();
            let result = scan_tree(&root, Catalogue::embedded(), &options, &progress, &sink);
            result.map(|scan| {
                (
                    scan,
                    findings
                        .into_inner()
                        .unwrap_or_else(std::sync::PoisonError::into_inner),
                )
            })
        })
        .await;
        let name = format!("{}/{}", self.owner, repo.name);
        let (scan, findings) = match scanned {
            Ok(Ok(done)) => done,
            Ok(Err(error)) => {
                report.issues.push(format!("{name}: {error}"));
                report.incomplete.push(format!("{name}: not scanned"));
                return;
            }
            Err(error) => {
                report
                    .issues
                    .push(format!("{name}: the code scan stopped: {error}"));
                report.incomplete.push(format!("{name}: not scanned"));
                return;
            }
        };
        for issue in scan.errors {
            report
                .issues
                .push(format!("{name}/{}: {}", issue.path, issue.message));
        }
        for finding in findings {
            (self.sink)(rewrite(finding, self.scope, &repo.name));
        }
    }
}

/// Moves a code finding from the temporary folder into the organisation's scope: `path`
/// and `project_root` gain the repository name, and the id is computed again from them
/// the way the code connector computes it.
pub(crate) fn rewrite(finding: Finding, scope: &str, repo: &str) -> Finding {
    let path = format!("{repo}/{}", finding.path);
    let project_root = match finding.project_root.as_str() {
        "." | "" => repo.to_owned(),
        root => format!("{repo}/{root}"),
    };
    let identity = match (finding.kind, finding.attributes.get("sha256")) {
        (FindingKind::Secret, Some(sha256)) => format!("{}#{sha256}", finding.subject),
        _ => finding.subject.clone(),
    };
    Finding {
        source: "github".to_owned(),
        scope: scope.to_owned(),
        external_id: Finding::stable_id(scope, &path, finding.kind, &identity),
        path,
        project_root,
        ..finding
    }
}

/// Accepts relative paths of normal components only, so no tree entry can write outside
/// the temporary folder.
fn is_safe_path(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && !path.contains('\0')
        && path.split('/').all(|part| !part.is_empty())
        && Path::new(path)
            .components()
            .all(|component| matches!(component, Component::Normal(_)))
}

fn write_file(folder: &Path, relative: &str, bytes: &[u8]) -> std::io::Result<()> {
    let path = folder.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths_are_rejected() {
        for path in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a//b",
            "./a",
            "a\\b",
            "",
        ] {
            assert!(!is_safe_path(path), "{path}");
        }
        assert!(is_safe_path("src/app.py"));
        assert!(is_safe_path(".github/workflows/ci.yml"));
    }

    #[test]
    fn rewrite_prefixes_repository_and_recomputes_id() {
        let finding = Finding {
            source: "code".to_owned(),
            scope: "/tmp/x".to_owned(),
            external_id: "old".to_owned(),
            kind: FindingKind::Dependency,
            subject: "openai".to_owned(),
            path: "api/requirements.txt".to_owned(),
            line: Some(1),
            confidence: 0.9,
            project_root: "api".to_owned(),
            attributes: BTreeMap::new(),
            evidence: None,
        };
        let moved = rewrite(finding, "github:acme", "valuer");
        assert_eq!(moved.source, "github");
        assert_eq!(moved.scope, "github:acme");
        assert_eq!(moved.path, "valuer/api/requirements.txt");
        assert_eq!(moved.project_root, "valuer/api");
        assert_eq!(
            moved.external_id,
            Finding::stable_id(
                "github:acme",
                "valuer/api/requirements.txt",
                FindingKind::Dependency,
                "openai"
            )
        );
    }
}
