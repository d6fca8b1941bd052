//! Authenticated, paged Azure Resource Manager calls on the shared [`HttpClient`].

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use url::Url;

use super::config::AzureSettings;
use super::resources::ArmPage;
use super::token::{AccessToken, describe_token_error, parse_token, token_form, token_url};
use crate::net::{Attempt, CallError, HttpClient, PageGuard, PageStep, with_retries};

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
    /// Token shared by every scope of the connector. The lock is held while a new token is
    /// fetched, so concurrent crawls wait for one request instead of each sending their own.
    token: Mutex<Option<AccessToken>>,
}

impl ArmClient {
    /// Creates a client; no call is made until the first listing.
    pub(crate) fn new(http: Arc<HttpClient>, settings: AzureSettings) -> ArmClient {
        ArmClient {
            http,
            settings,
            token: Mutex::new(None),
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
        let mut cached = self.token.lock().await;
        if let Some(token) = cached
            .as_ref()
            .filter(|token| token.is_fresh(Instant::now()))
        {
            return Ok(token.value.clone());
        }
        let token = self.fetch_token().await?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
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
            let request = client
                .post(url)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(form.clone());
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

/// Sends one token request and classifies the response: 2xx is parsed, 429 and 5xx are
/// retried after the server's wait, and any other status fails with the endpoint's error
/// code and description.
async fn token_attempt(operation: &str, request: reqwest::RequestBuilder) -> Attempt<AccessToken> {
    let response = match request.send().await {
        Ok(response) => response,
        Err(err) => {
            let error = CallError::Transport {
                operation: operation.to_owned(),
                message: err.without_url().to_string(),
            };
            return Attempt::Retry { wait: None, error };
        }
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(err) => {
            let error = CallError::Transport {
                operation: operation.to_owned(),
                message: err.without_url().to_string(),
            };
            return Attempt::Retry { wait: None, error };
        }
    };
    if (200..300).contains(&status) {
        return match parse_token(&body, Instant::now()) {
            Ok(token) => Attempt::Done(token),
            Err(message) => Attempt::Fail(CallError::Malformed {
                operation: operation.to_owned(),
                message,
            }),
        };
    }
    let error = CallError::Status {
        operation: operation.to_owned(),
        status,
        message: describe_token_error(status, &body),
    };
    if status == 429 || status >= 500 {
        let wait = crate::net::wait_hint(status, &headers, &body, SystemTime::now());
        return Attempt::Retry { wait, error };
    }
    Attempt::Fail(error)
}
