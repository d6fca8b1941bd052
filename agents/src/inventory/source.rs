//! The inventory connector: one scope per file, read on every crawl.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::findings::entry_findings;
use super::{InventoryFormat, MAX_INVENTORY_BYTES, ParsedInventory, parse_inventory};
use crate::source::{
    BoxFuture, ConnectorSpec, CrawlError, CrawlReport, FindingSink, Scope, Source, SourceFactory,
};

/// Provider family and connector kind of inventory imports.
const PROVIDER: &str = "inventory";

/// An inventory file to import.
#[derive(Debug, Clone)]
pub struct InventorySource {
    path: PathBuf,
    format: InventoryFormat,
    file_name: String,
}

impl InventorySource {
    /// Creates the source of one file. The format comes from `format` or, when that is
    /// `None`, from the file's extension.
    ///
    /// # Errors
    ///
    /// Returns a permanent [`CrawlError`] when the path has no file name or the format is
    /// neither given nor known from the extension.
    pub fn new(path: PathBuf, format: Option<InventoryFormat>) -> Result<Self, CrawlError> {
        let file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .ok_or_else(|| {
                CrawlError::permanent(format!(
                    "inventory path `{}` names no file: set `path` to a .csv or .xlsx file",
                    path.display()
                ))
            })?;
        let format = format
            .or_else(|| InventoryFormat::from_path(&path))
            .ok_or_else(|| {
                CrawlError::permanent(format!(
                    "cannot tell the format of inventory `{}` from its extension: name it .csv or \
                     .xlsx, or set `format` to \"csv\" or \"xlsx\"",
                    path.display()
                ))
            })?;
        Ok(InventorySource {
            path,
            format,
            file_name,
        })
    }

    /// Returns the one scope of this source, `inventory:<file name>`.
    pub fn scope(&self) -> Scope {
        Scope::new(PROVIDER, format!("inventory:{}", self.file_name))
            .with_param("path", self.path.to_string_lossy())
    }

    async fn import(&self, scope: &Scope, sink: FindingSink) -> Result<CrawlReport, CrawlError> {
        let bytes = read_file(&self.path).await?;
        let format = self.format;
        let parsed = tokio::task::spawn_blocking(move || parse_inventory(&bytes, format))
            .await
            .map_err(|error| CrawlError::transient(format!("inventory parser stopped: {error}")))?
            .map_err(|error| {
                CrawlError::permanent(format!(
                    "cannot import inventory `{}`: {error}",
                    self.path.display()
                ))
            })?;

        for entry in &parsed.entries {
            for finding in entry_findings(&scope.id, &self.file_name, entry) {
                sink(finding);
            }
        }
        let report = self.report(&parsed);
        tracing::debug!(
            scope.id = %scope.id,
            inventory.rows_imported = parsed.entries.len(),
            inventory.row_errors = parsed.row_errors.len(),
            "inventory imported"
        );
        Ok(report)
    }

    fn report(&self, parsed: &ParsedInventory) -> CrawlReport {
        let mut report = CrawlReport {
            num_items: parsed.entries.len() as u64,
            ..CrawlReport::default()
        };
        for column in &parsed.unknown_columns {
            report.issues.push(format!(
                "{}: column \"{column}\" is not a template column, so its values were not imported",
                self.file_name
            ));
        }
        for error in &parsed.row_errors {
            report.issues.push(format!("{}: {error}", self.file_name));
        }
        let mut bad_rows: Vec<u32> = parsed.row_errors.iter().map(|error| error.row).collect();
        bad_rows.dedup();
        if !bad_rows.is_empty() {
            report.incomplete.push(format!(
                "{}: {} rows were not imported; fix them and import the file again",
                self.file_name,
                bad_rows.len()
            ));
        }
        report
    }
}

impl Source for InventorySource {
    fn provider(&self) -> &str {
        PROVIDER
    }

    fn scopes(&self) -> BoxFuture<'_, Result<Vec<Scope>, CrawlError>> {
        Box::pin(async move { Ok(vec![self.scope()]) })
    }

    fn crawl<'a>(
        &'a self,
        scope: &'a Scope,
        sink: FindingSink,
    ) -> BoxFuture<'a, Result<CrawlReport, CrawlError>> {
        Box::pin(async move {
            if scope.id != self.scope().id {
                return Err(CrawlError::permanent(format!(
                    "scope `{}` does not belong to inventory `{}`",
                    scope.id,
                    self.path.display()
                )));
            }
            self.import(scope, sink).await
        })
    }
}

/// Reads the file, rejecting one over [`MAX_INVENTORY_BYTES`] before reading it.
async fn read_file(path: &Path) -> Result<Vec<u8>, CrawlError> {
    let io_error = |error: std::io::Error| {
        let message = format!("cannot read inventory `{}`: {error}", path.display());
        match error.kind() {
            std::io::ErrorKind::NotFound => {
                CrawlError::permanent(format!("{message}; check the connector's `path`"))
            }
            std::io::ErrorKind::PermissionDenied => {
                CrawlError::permanent(format!("{message}; let the server's user read the file"))
            }
            _ => CrawlError::transient(message),
        }
    };
    let size = tokio::fs::metadata(path).await.map_err(io_error)?.len();
    if size > MAX_INVENTORY_BYTES as u64 {
        return Err(CrawlError::permanent(format!(
            "inventory `{}` is {size} bytes, over the limit of {MAX_INVENTORY_BYTES}: split it \
             into smaller files",
            path.display()
        )));
    }
    tokio::fs::read(path).await.map_err(io_error)
}

/// The `config` object of an inventory connector.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryConfig {
    /// Path of the CSV or XLSX file on the server.
    path: PathBuf,
    /// `csv` or `xlsx`; taken from the extension when absent.
    #[serde(default)]
    format: Option<String>,
}

/// Builds [`InventorySource`]s from connector specs of kind `inventory`.
#[derive(Debug, Clone, Copy, Default)]
pub struct InventoryFactory;

impl SourceFactory for InventoryFactory {
    fn build(&self, spec: &ConnectorSpec) -> Result<Arc<dyn Source>, CrawlError> {
        let config: InventoryConfig =
            serde_json::from_value(spec.config.clone()).map_err(|error| {
                CrawlError::permanent(format!(
                    "connector `{}` has an invalid inventory config: {error}; expected \
                     {{\"path\": \"<file>.csv|.xlsx\", \"format\": \"csv\"|\"xlsx\" (optional)}}",
                    spec.name
                ))
            })?;
        let format = match config.format.as_deref() {
            None => None,
            Some(name) => Some(InventoryFormat::from_name(name).ok_or_else(|| {
                CrawlError::permanent(format!(
                    "connector `{}` has format \"{name}\": set `format` to \"csv\" or \"xlsx\"",
                    spec.name
                ))
            })?),
        };
        Ok(Arc::new(InventorySource::new(config.path, format)?))
    }
}
