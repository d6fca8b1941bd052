//! Azure connector: lists the AI resources of each subscription over the Azure Resource
//! Manager REST API.
//!
//! The connector signs in as a service principal with the OAuth 2.0 client-credentials
//! grant and crawls one scope per subscription (`azure:<subscription id>`), under the rate
//! limiter keyed `("azure", <subscription id>)`. Per subscription it reads Machine Learning
//! workspaces with their online endpoints, deployments and registered models, and
//! Cognitive Services accounts of kind `OpenAI` or `AIServices` with their model
//! deployments. A resource provider that is not registered in the subscription skips that
//! service; a denied listing becomes a [`CoverageGap`](crate::CoverageGap) that names the
//! missing permission. Settings and permissions are documented in `docs/connectors/azure.md`.

mod client;
mod config;
mod crawl;
mod findings;
mod resources;
mod token;

use std::sync::Arc;

use tracing::Instrument;

use client::{ArmClient, PROVIDER};
use findings::SubscriptionContext;
use resources::Subscription;

use crate::cloud::{HttpSource, HttpSourceFactory};
use crate::net::HttpClient;
use crate::source::{
    BoxFuture, ConnectorSpec, CrawlError, CrawlReport, FindingSink, Scope, Source,
};

pub use config::{DEFAULT_AUTHORITY_URL, DEFAULT_MANAGEMENT_URL, DEFAULT_MAX_PAGES};
pub use crawl::{COGNITIVE_API_VERSION, ML_API_VERSION};

/// api-version of `GET /subscriptions`.
pub const SUBSCRIPTIONS_API_VERSION: &str = "2022-12-01";

/// Connector kind this factory builds.
pub const KIND: &str = "azure";

/// Builds [`AzureSource`]s from connector specs of kind `azure`.
pub type AzureFactory = HttpSourceFactory<AzureSource>;

/// One Azure connector: a service principal and the subscriptions it reads.
pub struct AzureSource {
    client: ArmClient,
}

impl std::fmt::Debug for AzureSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureSource")
            .field("settings", self.client.settings())
            .finish()
    }
}

impl AzureSource {
    /// Checks the spec and creates the source; no call is made until [`Source::scopes`].
    pub fn new(http: Arc<HttpClient>, spec: &ConnectorSpec) -> Result<AzureSource, CrawlError> {
        let settings = config::AzureSettings::from_spec(spec)?;
        Ok(AzureSource {
            client: ArmClient::new(http, settings),
        })
    }

    async fn list_scopes(&self) -> Result<Vec<Scope>, CrawlError> {
        let settings = self.client.settings();
        if !settings.subscriptions.is_empty() {
            let scopes = settings
                .subscriptions
                .iter()
                .map(|id| scope_of(id, None, None));
            return Ok(scopes.collect());
        }
        let operation = "list subscriptions";
        let url = self.client.url("/subscriptions", SUBSCRIPTIONS_API_VERSION);
        let listing = self
            .client
            .list::<Subscription>(&format!("tenant:{}", settings.tenant_id), operation, url)
            .await;
        if let Some(error) = listing.error {
            return Err(CrawlError {
                permanent: error.is_permanent(),
                message: format!(
                    "azure connector `{}`: {error}; or list the subscriptions in `subscriptions`",
                    settings.name
                ),
            });
        }
        if let Some(reason) = listing.stopped {
            return Err(CrawlError::transient(format!(
                "azure connector `{}`: {reason}",
                settings.name
            )));
        }
        let mut scopes = Vec::new();
        for subscription in &listing.items {
            let id = &subscription.subscription_id;
            if !config::is_subscription_id(id) {
                tracing::warn!(subscription.id = %id, "skipping a subscription id that is not a GUID");
                continue;
            }
            let display_name = subscription.display_name.as_deref();
            scopes.push(scope_of(id, display_name, subscription.state.as_deref()));
        }
        Ok(scopes)
    }

    async fn crawl_scope(
        &self,
        scope: &Scope,
        sink: FindingSink,
    ) -> Result<CrawlReport, CrawlError> {
        let subscription = scope.param("subscription").ok_or_else(|| {
            CrawlError::permanent(format!(
                "azure scope `{}` has no `subscription` parameter",
                scope.id
            ))
        })?;
        if !config::is_subscription_id(subscription) {
            return Err(CrawlError::permanent(format!(
                "azure scope `{}`: subscription id `{subscription}` is not a GUID",
                scope.id
            )));
        }
        if let Some(state) = scope
            .param("state")
            .filter(|state| matches!(*state, "Disabled" | "Deleted"))
        {
            return Ok(CrawlReport {
                skipped: Some(format!("subscription {subscription} is {state}")),
                ..CrawlReport::default()
            });
        }
        let context = SubscriptionContext {
            scope_id: &scope.id,
            subscription,
        };
        let span = tracing::info_span!("azure.crawl", scope.id = %scope.id);
        crawl::crawl_subscription(&self.client, context, sink)
            .instrument(span)
            .await
    }
}

/// Scope of one subscription; the display name and state come from `GET /subscriptions`
/// when the subscription was listed there.
fn scope_of(subscription: &str, display_name: Option<&str>, state: Option<&str>) -> Scope {
    let mut scope = Scope::new(PROVIDER, format!("azure:{subscription}"))
        .with_param("subscription", subscription);
    if let Some(display_name) = display_name {
        scope = scope.with_param("display_name", display_name);
    }
    if let Some(state) = state {
        scope = scope.with_param("state", state);
    }
    scope
}

impl HttpSource for AzureSource {
    fn from_spec(http: Arc<HttpClient>, spec: &ConnectorSpec) -> Result<AzureSource, CrawlError> {
        AzureSource::new(http, spec)
    }
}

impl Source for AzureSource {
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
