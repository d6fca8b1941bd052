//! Parts the REST cloud connectors (Azure and GCP) share: the factory that builds a source
//! on the shared [`HttpClient`], settings checks, and the construction of `cloud_resource`
//! findings with their common attributes.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use proto::{Finding, FindingKind};
use serde::de::DeserializeOwned;

use crate::net::HttpClient;
use crate::source::{ConnectorSpec, CrawlError, CrawlReport, Source, SourceFactory};

/// A source that is built from its connector spec and the shared HTTP client.
pub trait HttpSource: Source + Sized {
    /// Checks the spec and creates the source; no call is made until [`Source::scopes`].
    fn from_spec(http: Arc<HttpClient>, spec: &ConnectorSpec) -> Result<Self, CrawlError>;
}

/// Builds sources of type `S` that share one [`HttpClient`] and its rate limits.
pub struct HttpSourceFactory<S> {
    http: Arc<HttpClient>,
    source: PhantomData<fn() -> S>,
}

impl<S> HttpSourceFactory<S> {
    /// Creates a factory whose sources share `http` and its rate limits.
    pub fn new(http: Arc<HttpClient>) -> HttpSourceFactory<S> {
        HttpSourceFactory {
            http,
            source: PhantomData,
        }
    }
}

impl<S> Clone for HttpSourceFactory<S> {
    fn clone(&self) -> Self {
        HttpSourceFactory::new(Arc::clone(&self.http))
    }
}

impl<S> fmt::Debug for HttpSourceFactory<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSourceFactory")
            .field("source", &std::any::type_name::<S>())
            .field("http", &self.http)
            .finish()
    }
}

impl<S: HttpSource> SourceFactory for HttpSourceFactory<S> {
    fn build(&self, spec: &ConnectorSpec) -> Result<Arc<dyn Source>, CrawlError> {
        Ok(Arc::new(S::from_spec(Arc::clone(&self.http), spec)?))
    }
}

/// Reads a connector's config object. A null config reads as an empty object.
pub(crate) fn parse_config<T: DeserializeOwned>(
    value: &serde_json::Value,
) -> Result<T, serde_json::Error> {
    match value {
        serde_json::Value::Null => serde_json::from_value(serde_json::json!({})),
        other => serde_json::from_value(other.clone()),
    }
}

/// Builds the permanent error of an invalid setting of the `kind` connector `name`, which
/// points at the connector's documentation page.
pub(crate) fn invalid(kind: &str, name: &str, detail: &str) -> CrawlError {
    CrawlError::permanent(format!(
        "{kind} connector `{name}`: invalid {detail} (see docs/connectors/{kind}.md)"
    ))
}

/// Returns the configured page limit of one listing, or `default` when none is set, and
/// rejects 0.
pub(crate) fn check_max_pages(
    kind: &str,
    name: &str,
    configured: Option<u32>,
    default: u32,
) -> Result<u32, CrawlError> {
    let max_pages = configured.unwrap_or(default);
    if max_pages == 0 {
        return Err(invalid(
            kind,
            name,
            "config: `max_pages` is 0: set it to 1 or more",
        ));
    }
    Ok(max_pages)
}

/// Ends a scope's report. When every one of the `service_count` services was absent and
/// nothing was found, the scope is skipped with their reasons. Otherwise each absent
/// service is an issue.
pub(crate) fn settle_absent_services(
    mut report: CrawlReport,
    mut absent: Vec<String>,
    service_count: usize,
) -> CrawlReport {
    if absent.len() == service_count && report.num_items == 0 {
        report.skipped = Some(absent.join("; "));
    } else {
        report.issues.append(&mut absent);
    }
    report
}

/// Attributes of one finding, leaving out values the response did not have.
pub(crate) struct Attributes(BTreeMap<String, String>);

impl Attributes {
    /// Creates an empty attribute map.
    pub(crate) fn new() -> Self {
        Attributes(BTreeMap::new())
    }

    /// Sets `name` to `value`.
    pub(crate) fn put(&mut self, name: &str, value: impl Into<String>) {
        self.0.insert(name.to_owned(), value.into());
    }

    /// Sets `name` when the response had a value for it.
    pub(crate) fn put_opt(&mut self, name: &str, value: Option<impl ToString>) {
        if let Some(value) = value {
            self.0.insert(name.to_owned(), value.to_string());
        }
    }
}

/// Identity of one `cloud_resource` finding.
pub(crate) struct ResourceFinding<'a> {
    /// Provider family, `Finding::source`.
    pub(crate) source: &'a str,
    /// Scope id of the crawl.
    pub(crate) scope_id: &'a str,
    /// Provider resource id.
    pub(crate) path: &'a str,
    /// Resource type, such as `vertex-ai-model`.
    pub(crate) subject: &'a str,
    /// Root that groups the finding into one AI system.
    pub(crate) project_root: String,
}

impl ResourceFinding<'_> {
    /// Builds the finding with its stable id and the given attributes.
    pub(crate) fn build(self, attributes: Attributes) -> Finding {
        Finding {
            source: self.source.to_owned(),
            scope: self.scope_id.to_owned(),
            external_id: Finding::stable_id(
                self.scope_id,
                self.path,
                FindingKind::CloudResource,
                self.subject,
            ),
            kind: FindingKind::CloudResource,
            subject: self.subject.to_owned(),
            path: self.path.to_owned(),
            line: None,
            confidence: 1.0,
            project_root: self.project_root,
            attributes: attributes.0,
            evidence: None,
        }
    }
}
