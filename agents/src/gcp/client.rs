//! Authenticated, paged Google Cloud REST calls on the shared [`HttpClient`].

use std::sync::Arc;
use std::time::SystemTime;

use serde::de::DeserializeOwned;

use super::config::GcpSettings;
use super::resources::parse_page;
use super::token::token_form;
use crate::net::token::{AccessToken, TokenCache, form_post, token_attempt};
use crate::net::{Attempt, CallError, HttpClient, PageGuard, PageStep, with_retries};

/// Provider key of GCP rate limiters.
pub(crate) const PROVIDER: &str = "gcp";

/// Items of one listing and how it ended. Items read before an error are kept.
pub(crate) struct Listing<T> {
    /// Items of every page read.
    pub(crate) items: Vec<T>,
    /// Why paging stopped early, for [`crate::CrawlReport::incomplete`].
    pub(crate) stopped: Option<String>,
    /// The call error that ended the listing, if any.
    pub(crate) error: Option<CallError>,
}

/// One list call: the limiter scope it runs under, its name in messages, the first page's
/// URL and the JSON field that contains the items.
pub(crate) struct ListCall<'a> {
    /// Limiter scope, the project id.
    pub(crate) limiter_scope: &'a str,
    /// Operation name used in errors.
    pub(crate) operation: &'a str,
    /// URL of the first page, without a page token.
    pub(crate) url: String,
    /// Field of the response that contains the items, such as `models`.
    pub(crate) items_key: &'a str,
}

/// Calls Google Cloud APIs with a cached service-account access token.
pub(crate) struct GoogleClient {
    http: Arc<HttpClient>,
    settings: GcpSettings,
    /// Token shared by every scope of the connector.
    token: TokenCache,
}

impl GoogleClient {
    /// Creates a client; no call is made until the first listing.
    pub(crate) fn new(http: Arc<HttpClient>, settings: GcpSettings) -> GoogleClient {
        GoogleClient {
            http,
            settings,
            token: TokenCache::new(),
        }
    }

    /// Returns the connector settings.
    pub(crate) fn settings(&self) -> &GcpSettings {
        &self.settings
    }

    /// Returns a bearer token, exchanging a new assertion when the cached token is near
    /// expiry.
    pub(crate) async fn bearer(&self) -> Result<String, CallError> {
        self.token.bearer(|| self.fetch_token()).await
    }

    async fn fetch_token(&self) -> Result<AccessToken, CallError> {
        let key = &self.settings.key;
        let token_uri = self.settings.token_uri.as_str();
        let operation = format!("token exchange for service account {}", key.client_email);
        let limiter = self
            .http
            .limits()
            .limiter(PROVIDER, &format!("token:{}", key.client_email));
        let client = self.http.client();
        let operation = operation.as_str();
        tracing::debug!(service_account = %key.client_email, "requesting gcp access token");
        with_retries(&limiter, self.http.policy(), operation, || async move {
            // A fresh assertion per attempt, so a retry never sends an expired one.
            let assertion = match key.assertion(token_uri, SystemTime::now()) {
                Ok(assertion) => assertion,
                Err(message) => {
                    let operation = operation.to_owned();
                    return Attempt::Fail(CallError::Malformed { operation, message });
                }
            };
            let request = form_post(client, token_uri, token_form(&assertion));
            token_attempt(operation, request).await
        })
        .await
    }

    /// Reads every page of a Google list call, following `nextPageToken`.
    pub(crate) async fn list<T: DeserializeOwned>(&self, call: ListCall<'_>) -> Listing<T> {
        let mut listing = Listing {
            items: Vec::new(),
            stopped: None,
            error: None,
        };
        let mut guard = PageGuard::new(call.operation, self.settings.max_pages);
        let mut page_token: Option<String> = None;
        loop {
            let url = with_page_token(&call.url, page_token.as_deref());
            let body = match self.get(call.limiter_scope, call.operation, &url).await {
                Ok(body) => body,
                Err(error) => {
                    listing.error = Some(error);
                    return listing;
                }
            };
            let page = match parse_page::<T>(body, call.items_key) {
                Ok(page) => page,
                Err(message) => {
                    let operation = call.operation.to_owned();
                    listing.error = Some(CallError::Malformed { operation, message });
                    return listing;
                }
            };
            listing.items.extend(page.items);
            // Google ends a listing with an absent or an empty token.
            let next = page.next_page_token.filter(|token| !token.is_empty());
            match guard.next(next.as_deref()) {
                PageStep::Continue(token) => page_token = Some(token),
                PageStep::Done => return listing,
                PageStep::Stop(reason) => {
                    listing.stopped = Some(reason);
                    return listing;
                }
            }
        }
    }

    /// Sends one authenticated GET and returns the JSON body.
    pub(crate) async fn get(
        &self,
        limiter_scope: &str,
        operation: &str,
        url: &str,
    ) -> Result<serde_json::Value, CallError> {
        let bearer = self.bearer().await?;
        let client = self.http.client();
        let request = || client.get(url).bearer_auth(&bearer);
        let page = self
            .http
            .get_json(PROVIDER, limiter_scope, operation, &request)
            .await?;
        Ok(page.body)
    }
}

/// Adds `pageToken` to a URL that has no query, or returns it unchanged.
fn with_page_token(url: &str, token: Option<&str>) -> String {
    let Some(token) = token else {
        return url.to_owned();
    };
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("pageToken", token)
        .finish();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_token_is_encoded_and_appended() {
        assert_eq!(with_page_token("http://h/v1/x", None), "http://h/v1/x");
        assert_eq!(
            with_page_token("http://h/v1/x", Some("a b/c")),
            "http://h/v1/x?pageToken=a+b%2Fc"
        );
        assert_eq!(
            with_page_token("http://h/v1/x?q=1", Some("t")),
            "http://h/v1/x?q=1&pageToken=t"
        );
    }
}
