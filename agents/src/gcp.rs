//! GCP connector: lists the Vertex AI resources of each project over the Google Cloud REST
//! APIs.
//!
//! The connector signs an RS256 JWT assertion with a service-account key, exchanges it for
//! an access token at the key's token URI, and crawls one scope per project
//! (`gcp:<project>`) under the rate limiter keyed `("gcp", <project>)`. Per project and
//! location it reads Vertex AI models and endpoints with their deployed models, and per
//! Workbench location the Workbench instances. A location that does not exist is skipped
//! with the reason, an API that is not enabled skips that service, and a denied listing
//! becomes a [`CoverageGap`](crate::CoverageGap) that names the missing permission.
//! Settings and permissions are documented in `docs/connectors/gcp.md`.

mod client;
mod config;
mod crawl;
mod findings;
mod resources;
mod token;

use std::sync::Arc;

use tracing::Instrument;

use client::{GoogleClient, ListCall, PROVIDER};
use findings::ProjectContext;
use resources::Project;

use crate::cloud::{HttpSource, HttpSourceFactory};
use crate::net::HttpClient;
use crate::source::{
    BoxFuture, ConnectorSpec, CrawlError, CrawlReport, FindingSink, Scope, Source,
};

pub use config::{
    DEFAULT_LOCATIONS, DEFAULT_MAX_PAGES, DEFAULT_NOTEBOOKS_URL, DEFAULT_RESOURCE_MANAGER_URL,
    DEFAULT_TOKEN_URI,
};

/// Connector kind this factory builds.
pub const KIND: &str = "gcp";

/// Builds [`GcpSource`]s from connector specs of kind `gcp`.
pub type GcpFactory = HttpSourceFactory<GcpSource>;

/// One GCP connector: a service account and the projects it reads.
pub struct GcpSource {
    client: GoogleClient,
}

impl std::fmt::Debug for GcpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpSource")
            .field("settings", self.client.settings())
            .finish()
    }
}

impl GcpSource {
    /// Checks the spec and creates the source; no call is made until [`Source::scopes`].
    pub fn new(http: Arc<HttpClient>, spec: &ConnectorSpec) -> Result<GcpSource, CrawlError> {
        let settings = config::GcpSettings::from_spec(spec)?;
        Ok(GcpSource {
            client: GoogleClient::new(http, settings),
        })
    }

    async fn list_scopes(&self) -> Result<Vec<Scope>, CrawlError> {
        let settings = self.client.settings();
        if !settings.projects.is_empty() {
            return Ok(settings
                .projects
                .iter()
                .map(|project| scope_of(project))
                .collect());
        }
        let limiter_scope = format!("projects:{}", settings.key.client_email);
        let call = ListCall {
            limiter_scope: &limiter_scope,
            operation: "search projects",
            url: config::join(&settings.resource_manager_url, "/v3/projects:search"),
            items_key: "projects",
        };
        let listing = self.client.list::<Project>(call).await;
        if let Some(error) = listing.error {
            return Err(CrawlError {
                permanent: error.is_permanent(),
                message: format!(
                    "gcp connector `{}`: {error}; or list the projects in `projects`",
                    settings.name
                ),
            });
        }
        if let Some(reason) = listing.stopped {
            return Err(CrawlError::transient(format!(
                "gcp connector `{}`: {reason}",
                settings.name
            )));
        }
        let active = listing.items.iter().filter(|project| {
            project
                .state
                .as_deref()
                .is_none_or(|state| state == "ACTIVE")
        });
        let mut scopes = Vec::new();
        for project in active {
            if is_project_id(&project.project_id) {
                scopes.push(scope_of(&project.project_id));
            } else {
                tracing::warn!(project.id = %project.project_id, "skipping a project id that is not valid");
            }
        }
        Ok(scopes)
    }

    async fn crawl_scope(
        &self,
        scope: &Scope,
        sink: FindingSink,
    ) -> Result<CrawlReport, CrawlError> {
        let project = scope.param("project").ok_or_else(|| {
            CrawlError::permanent(format!(
                "gcp scope `{}` has no `project` parameter",
                scope.id
            ))
        })?;
        if !is_project_id(project) {
            return Err(CrawlError::permanent(format!(
                "gcp scope `{}`: project id `{project}` is not valid: use lower-case letters, digits and `-`",
                scope.id
            )));
        }
        let context = ProjectContext {
            scope_id: &scope.id,
            project,
        };
        let span = tracing::info_span!("gcp.crawl", scope.id = %scope.id);
        crawl::crawl_project(&self.client, context, sink)
            .instrument(span)
            .await
    }
}

/// Scope of one project.
fn scope_of(project: &str) -> Scope {
    Scope::new(PROVIDER, format!("gcp:{project}")).with_param("project", project)
}

/// Returns whether `project` is safe to put in a URL path: lower-case letters, digits, `-`, and the
/// `:` and `.` of legacy domain-scoped ids.
fn is_project_id(project: &str) -> bool {
    !project.is_empty()
        && project
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | ':' | '.'))
        && !project.contains("..")
}

impl HttpSource for GcpSource {
    fn from_spec(http: Arc<HttpClient>, spec: &ConnectorSpec) -> Result<GcpSource, CrawlError> {
        GcpSource::new(http, spec)
    }
}

impl Source for GcpSource {
    fn provider(&self) -> &str {
        PROVIDER
    }

    fn scopes(&self) -> BoxFuture<'_, Result<Vec<Scope>, CrawlError>> {
        Box::pin(self.list_scopes())
    }

    fn crawl<'a>(
        &'a self,
        scope: &'a Scope,
        sink: FindingSink,
    ) -> BoxFuture<'a, Result<CrawlReport, CrawlError>> {
        Box::pin(self.crawl_scope(scope, sink))
    }
}
