//! Authenticated, paged Azure Resource Manager calls on the shared [`HttpClient`].

use std::sync::Arc;

use serde::de::DeserializeOwned;
use url::Url;

use super::config::AzureSettings;
use super::resources::ArmPage;
use super::token::{token_form, token_url};
use crate::net::token::{AccessToken, TokenCache, form_post, token_attempt};
use crate::net::{CallError, HttpClient, PageGuard, PageStep, with_retries};

/// Provider key of Azure rate limiters.
pub(crate) const PROVIDER: &str = "azure";

/// Items of one listing and how it ended. Items read before an error are kept.
pub(crate) struct Listing<T> {
    /// Items of every page read.
    pub(crate) items: Vec<T>,
    /// Why paging stopped early, for [`crate::CrawlReport::incomplete`].
    pub(crate) stopped: Option<String>,
    /// The call error that ended the listing, if any.
    pub(crate) error: Option<CallError>,
}

/// Calls ARM with a cached client-credentials token.
pub(crate) struct ArmClient {
    http: Arc<HttpClient>,
    settings: AzureSettings,
    /// Token shared by every scope of the connector.
    token: TokenCache,
}

impl ArmClient {
    /// Creates a client; no call is made until the first listing.
    pub(crate) fn new(http: Arc<HttpClient>, settings: AzureSettings) -> ArmClient {
        ArmClient {
            http,
            settings,
            token: TokenCache::new(),
        }
    }

    /// Returns the connector settings.
    pub(crate) fn settings(&self) -> &AzureSettings {
        &self.settings
    }

    /// Returns `{management_url}{path}?api-version={version}`.
    pub(crate) fn url(&self, path: &str, api_version: &str) -> String {
        let base = self.settings.management_url.as_str().trim_end_matches('/');
        format!("{base}{path}?api-version={api_version}")
    }

    /// Returns a bearer token, fetching a new one when the cached one is near expiry.
    pub(crate) async fn bearer(&self) -> Result<String, CallError> {
        self.token.bearer(|| self.fetch_token()).await
    }

    async fn fetch_token(&self) -> Result<AccessToken, CallError> {
        let settings = &self.settings;
        let url = token_url(&settings.authority_url, &settings.tenant_id);
        let form = token_form(settings);
        let operation = format!("token request for tenant {}", settings.tenant_id);
        let limiter = self
            .http
            .limits()
            .limiter(PROVIDER, &format!("login:{}", settings.tenant_id));
        let client = self.http.client();
        let (url, form, operation) = (&url, &form, operation.as_str());
        tracing::debug!(tenant.id = %settings.tenant_id, "requesting azure access token");
        with_retries(&limiter, self.http.policy(), operation, || async move {
            let request = form_post(client, url, form.clone());
            token_attempt(operation, request).await
        })
        .await
    }

    /// Reads every page of an ARM list operation that starts at `url`, under the limiter
    /// of `subscription`. `operation` names the call in errors and is the permission it
    /// needs, so a denial without a named permission still names the right one.
    pub(crate) async fn list<T: DeserializeOwned>(
        &self,
        subscription: &str,
        operation: &str,
        url: String,
    ) -> Listing<T> {
        let mut listing = Listing {
            items: Vec::new(),
            stopped: None,
            error: None,
        };
        let mut guard = PageGuard::new(operation, self.settings.max_pages);
        let mut next = url;
        loop {
            let page: ArmPage<T> = match self.page(subscription, operation, &next).await {
                Ok(page) => page,
                Err(error) => {
                    listing.error = Some(error);
                    return listing;
                }
            };
            listing.items.extend(page.value);
            match guard.next(page.next_link.as_deref()) {
                PageStep::Continue(link) if self.is_same_origin(&link) => next = link,
                PageStep::Continue(link) => {
                    listing.stopped = Some(format!(
                        "listing `{operation}` stopped because its nextLink `{link}` leaves \
                         the management endpoint; later pages were not read"
                    ));
                    return listing;
                }
                PageStep::Done => return listing,
                PageStep::Stop(reason) => {
                    listing.stopped = Some(reason);
                    return listing;
                }
            }
        }
    }

    async fn page<T: DeserializeOwned>(
        &self,
        subscription: &str,
        operation: &str,
        url: &str,
    ) -> Result<ArmPage<T>, CallError> {
        let bearer = self.bearer().await?;
        let client = self.http.client();
        let request = || client.get(url).bearer_auth(&bearer);
        let page = self
            .http
            .get_json(PROVIDER, subscription, operation, &request)
            .await?;
        serde_json::from_value(page.body).map_err(|err| CallError::Malformed {
            operation: operation.to_owned(),
            message: format!("the list page does not match the documented shape ({err})"),
        })
    }

    /// Whether a nextLink points at the management endpoint, so the bearer token is never
    /// sent to another host.
    fn is_same_origin(&self, link: &str) -> bool {
        Url::parse(link).is_ok_and(|url| url.origin() == self.settings.management_url.origin())
    }
}
