//! The contract every connector fulfils: list scopes, then crawl each one.
//!
//! A [`Source`] is one configured connector (an AWS organisation, a GitHub organisation, a
//! folder of code, an inventory file). The coordinator asks it for its scopes and starts
//! one crawler per scope; each crawl sends findings to a [`FindingSink`] and returns a
//! [`CrawlReport`] saying how much of the scope it covered. Sources are built from stored
//! connector rows or a config file through a [`SourceRegistry`], so crates that are costly
//! to build (the AWS SDK) register their factory from the binary and nothing else links them.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use proto::Finding;
use serde::{Deserialize, Serialize};

/// A boxed future, as returned by the object-safe [`Source`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Receives findings from a crawl, from any thread or task.
pub type FindingSink = Arc<dyn Fn(Finding) + Send + Sync>;

/// One unit of crawl work with its own rate limit and coverage record: an AWS account and
/// region, an Azure subscription, a GCP project, a GitHub organisation, a code root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scope {
    /// Stable id, unique inside the connector, e.g. `aws:123456789012:eu-west-1`,
    /// `azure:<subscription id>`, `gcp:<project>`, `github:<org>`, or a canonical path.
    pub id: String,
    /// Provider family: `aws`, `azure`, `gcp`, `github`, `inventory` or `code`.
    pub provider: String,
    /// Provider-specific details the crawl needs (account id, region, location list, ...).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

impl Scope {
    /// Creates a scope without parameters.
    pub fn new(provider: impl Into<String>, id: impl Into<String>) -> Self {
        Scope {
            id: id.into(),
            provider: provider.into(),
            params: BTreeMap::new(),
        }
    }

    /// Adds a parameter and returns the scope.
    pub fn with_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.insert(name.into(), value.into());
        self
    }

    /// Returns a parameter, if set.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// A part of a scope the crawl could not read because the credentials lack a permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageGap {
    /// Service or listing that was denied, e.g. `sagemaker:ListEndpoints`.
    pub service: String,
    /// Permission to grant so the next scan covers it, e.g. `sagemaker:ListEndpoints`.
    pub permission: String,
    /// The provider's message, with no secret in it.
    pub message: String,
}

/// How much of a scope one crawl covered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlReport {
    /// Items read: files for code, resources for cloud providers, rows for inventories.
    pub num_items: u64,
    /// Non-fatal problems worth showing, such as unreadable files or a malformed resource.
    pub issues: Vec<String>,
    /// Listings that were denied; any makes the scope `partial`.
    pub gaps: Vec<CoverageGap>,
    /// Listings cut short (a paging token that repeated or looped, a retry budget spent);
    /// any makes the scope `partial`.
    pub incomplete: Vec<String>,
    /// Set when the whole scope does not apply (a region that is not enabled, a service
    /// that does not exist there): the scope is recorded `skipped` with this reason.
    pub skipped: Option<String>,
}

impl CrawlReport {
    /// Whether the crawl covered everything it should have.
    pub fn is_complete(&self) -> bool {
        self.gaps.is_empty() && self.incomplete.is_empty()
    }
}

/// Error of one crawl attempt or of listing scopes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CrawlError {
    /// Description naming the scope, the value at fault and the fix.
    pub message: String,
    /// Whether another attempt would fail the same way (bad credentials, a missing folder,
    /// malformed configuration), so the scope fails at once instead of being retried.
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

/// One configured connector.
pub trait Source: Send + Sync + 'static {
    /// Provider family, the same as every [`Scope::provider`] it returns.
    fn provider(&self) -> &str;

    /// Lists the scopes to crawl. An error here fails the whole connector.
    fn scopes(&self) -> BoxFuture<'_, Result<Vec<Scope>, CrawlError>>;

    /// Crawls one scope, calling `sink` once per finding. A transient error or a panic
    /// fails this attempt and the coordinator retries within its restart budget.
    fn crawl<'a>(
        &'a self,
        scope: &'a Scope,
        sink: FindingSink,
    ) -> BoxFuture<'a, Result<CrawlReport, CrawlError>>;
}

/// A connector's stored or configured definition, as the registry receives it.
#[derive(Clone, Serialize, Deserialize)]
pub struct ConnectorSpec {
    /// Name unique in the tenant, used in scope ids, logs and metrics.
    pub name: String,
    /// Provider family: `aws`, `azure`, `gcp`, `github`, `inventory`, `git` or `code`.
    pub kind: String,
    /// Non-secret settings (regions, organisation, endpoint overrides, quotas ...).
    #[serde(default)]
    pub config: serde_json::Value,
    /// Secret settings (keys, tokens, private keys), decrypted only in memory.
    #[serde(default, skip_serializing)]
    pub secret: Option<serde_json::Value>,
}

impl fmt::Debug for ConnectorSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorSpec")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("config", &self.config)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Builds a [`Source`] of one kind from its spec.
pub trait SourceFactory: Send + Sync + 'static {
    /// Checks the spec and builds the source; the error names the field and the fix.
    fn build(&self, spec: &ConnectorSpec) -> Result<Arc<dyn Source>, CrawlError>;
}

/// Factories by connector kind.
#[derive(Clone, Default)]
pub struct SourceRegistry {
    factories: BTreeMap<String, Arc<dyn SourceFactory>>,
}

impl fmt::Debug for SourceRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.factories.keys()).finish()
    }
}

impl SourceRegistry {
    /// Creates an empty registry.
    pub fn new() -> Self {
        SourceRegistry::default()
    }

    /// Registers the factory of `kind`, replacing any earlier one.
    pub fn register(&mut self, kind: impl Into<String>, factory: Arc<dyn SourceFactory>) {
        self.factories.insert(kind.into(), factory);
    }

    /// Returns the registered kinds in order.
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.factories.keys().map(String::as_str)
    }

    /// Builds the source of `spec` with the factory of its kind.
    pub fn build(&self, spec: &ConnectorSpec) -> Result<Arc<dyn Source>, CrawlError> {
        let factory = self.factories.get(&spec.kind).ok_or_else(|| {
            let known: Vec<&str> = self.kinds().collect();
            CrawlError::permanent(format!(
                "connector `{}` has unknown kind `{}`: use one of {}",
                spec.name,
                spec.kind,
                known.join(", ")
            ))
        })?;
        factory.build(spec)
    }
}
