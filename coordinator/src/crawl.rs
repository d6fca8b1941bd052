//! The built-in code connector as a [`Source`]: one scope per folder or local git
//! repository, walked with the detector catalogue on a blocking thread.

use std::path::Path;
use std::sync::Arc;

use agents::{
    BoxFuture, Catalogue, CodeScanOptions, ConnectorSpec, CrawlError, CrawlReport, FindingSink,
    ScanProgress, Scope, Source, SourceFactory,
};

/// Provider family and connector kind of the code connector.
pub const CODE_KIND: &str = "code";

/// Prefixes of code scan issues that mean a file or folder was not read, so the scope
/// was not fully covered.
///
/// NOTE: `agents::ScanIssue` carries no kind, so the coordinator tells unread files from
/// other issues (an invalid declaration, say) by the start of the message.
const UNREAD_PREFIXES: [&str; 4] = [
    "cannot read",
    "cannot walk",
    "file not scanned",
    "internal error",
];

/// The code connector: walks folders or local git repositories with the detector catalogue.
#[derive(Debug, Clone)]
pub struct CodeSource {
    catalogue: &'static Catalogue,
    options: CodeScanOptions,
    roots: Vec<String>,
    progress: Arc<ScanProgress>,
}

impl CodeSource {
    /// Creates a source over the embedded catalogue whose scopes are `roots`, updating
    /// `progress` while it walks.
    pub fn new(options: CodeScanOptions, roots: Vec<String>, progress: Arc<ScanProgress>) -> Self {
        CodeSource {
            catalogue: Catalogue::embedded(),
            options,
            roots,
            progress,
        }
    }

    /// Walks one root on the calling thread.
    fn crawl_blocking(&self, root: &str, sink: &FindingSink) -> Result<CrawlReport, CrawlError> {
        let send = |finding| sink(finding);
        let report = agents::scan_tree(
            Path::new(root),
            self.catalogue,
            &self.options,
            &self.progress,
            &send,
        )
        .map_err(|error| CrawlError::permanent(error.to_string()))?;
        let mut crawl_report = CrawlReport {
            num_items: report.files_scanned,
            ..CrawlReport::default()
        };
        for issue in report.errors {
            let text = format!("{}: {}", issue.path, issue.message);
            if UNREAD_PREFIXES
                .iter()
                .any(|prefix| issue.message.starts_with(prefix))
            {
                crawl_report.incomplete.push(text);
            } else {
                crawl_report.issues.push(text);
            }
        }
        Ok(crawl_report)
    }
}

impl Source for CodeSource {
    fn provider(&self) -> &str {
        CODE_KIND
    }

    fn scopes(&self) -> BoxFuture<'_, Result<Vec<Scope>, CrawlError>> {
        let scopes = self
            .roots
            .iter()
            .map(|root| Scope::new(CODE_KIND, root.clone()))
            .collect();
        Box::pin(async move { Ok(scopes) })
    }

    fn crawl<'a>(
        &'a self,
        scope: &'a Scope,
        sink: FindingSink,
    ) -> BoxFuture<'a, Result<CrawlReport, CrawlError>> {
        let source = self.clone();
        let root = scope.id.clone();
        Box::pin(async move {
            // NOTE: a blocking walk cannot be aborted; a cancelled scan's walk runs to the
            // end of the tree and its findings are dropped.
            let joined =
                tokio::task::spawn_blocking(move || source.crawl_blocking(&root, &sink)).await;
            match joined {
                Ok(result) => result,
                Err(join_error) if join_error.is_panic() => {
                    std::panic::resume_unwind(join_error.into_panic())
                }
                Err(join_error) => Err(CrawlError::transient(format!(
                    "walk of `{}` was cancelled: {join_error}",
                    scope.id
                ))),
            }
        })
    }
}

/// Builds code sources from specs whose config is `{"paths": ["/abs/path", ...]}`, for
/// connectors of kind `code` in a config file. Paths are canonicalised when they exist.
#[derive(Debug, Clone, Default)]
pub struct CodeSourceFactory {
    /// Walk options of every source it builds.
    pub options: CodeScanOptions,
}

impl SourceFactory for CodeSourceFactory {
    fn build(&self, spec: &ConnectorSpec) -> Result<Arc<dyn Source>, CrawlError> {
        let roots = code_roots(spec)?;
        let progress = Arc::new(ScanProgress::default());
        Ok(Arc::new(CodeSource::new(
            self.options.clone(),
            roots,
            progress,
        )))
    }
}

/// Reads the `paths` of a code connector's config, canonicalising each existing path.
pub(crate) fn code_roots(spec: &ConnectorSpec) -> Result<Vec<String>, CrawlError> {
    let paths = spec
        .config
        .get("paths")
        .and_then(|paths| paths.as_array())
        .filter(|paths| !paths.is_empty())
        .ok_or_else(|| {
            CrawlError::permanent(format!(
                "connector `{}`: config.paths is missing; list the folders to scan, e.g. \
                 {{\"paths\": [\"/srv/repos/app\"]}}",
                spec.name
            ))
        })?;
    let mut roots = Vec::with_capacity(paths.len());
    for (index, path) in paths.iter().enumerate() {
        let Some(path) = path.as_str() else {
            return Err(CrawlError::permanent(format!(
                "connector `{}`: config.paths[{index}] is not a string; give a folder path",
                spec.name
            )));
        };
        roots.push(canonical_scope_id(Path::new(path)));
    }
    Ok(roots)
}

/// Returns the scope id of a code root: its canonical path when it exists, else as given.
pub(crate) fn canonical_scope_id(target: &Path) -> String {
    std::fs::canonicalize(target)
        .unwrap_or_else(|_| target.to_path_buf())
        .display()
        .to_string()
}
