//! The HTTP client connectors share: one reqwest client, rate limits, retries and status
//! mapping.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::HeaderMap;

use super::error::CallError;
use super::limits::{RateLimits, ScopeLimiter};
use super::retry::{Attempt, RetryPolicy, with_retries};
use super::status::classify;
use super::wait::wait_hint;

/// A successful response parsed as JSON.
#[derive(Debug, Clone)]
pub struct JsonPage {
    /// The parsed body.
    pub body: serde_json::Value,
    /// The response's headers (paging links, rate-limit counters).
    pub headers: HeaderMap,
}

/// A successful response as bytes.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status, always 2xx when returned by [`HttpClient::send`].
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// The headers.
    pub headers: HeaderMap,
}

/// One reqwest client shared by every connector, with the process's [`RateLimits`] and a
/// [`RetryPolicy`].
///
/// Status mapping: 2xx is success; 429, 403 with `X-RateLimit-Remaining: 0`, a GitHub
/// secondary limit (403 or 429) and an AWS throttling code are throttling and retried after
/// the server's wait; 408 and 5xx are retried with backoff (503 after the server's wait
/// when it gives one); a body saying the service or region is not enabled gives
/// [`CallError::NotEnabled`]; other 403s give [`CallError::Denied`]; 404 gives
/// [`CallError::NotFound`]; any other status, 401 included, gives [`CallError::Status`].
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    limits: Arc<RateLimits>,
    policy: RetryPolicy,
    secondary_limit_wait: Duration,
}

impl HttpClient {
    /// Timeout for opening a connection.
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Wait after a GitHub secondary limit that names no time: GitHub asks clients to wait
    /// at least one minute.
    pub const SECONDARY_LIMIT_WAIT: Duration = Duration::from_secs(60);

    /// Creates a client with one connection pool for every provider.
    pub fn new(limits: Arc<RateLimits>, policy: RetryPolicy) -> HttpClient {
        let client = reqwest::Client::builder()
            .connect_timeout(HttpClient::CONNECT_TIMEOUT)
            .user_agent(concat!("secruna/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|error| {
                tracing::warn!(error = %error, "configured HTTP client failed to build, using defaults");
                reqwest::Client::new()
            });
        HttpClient {
            client,
            limits,
            policy,
            secondary_limit_wait: HttpClient::SECONDARY_LIMIT_WAIT,
        }
    }

    /// Sets the wait after a GitHub secondary limit that names no time.
    pub fn with_secondary_limit_wait(mut self, wait: Duration) -> HttpClient {
        self.secondary_limit_wait = wait;
        self
    }

    /// Returns the reqwest client to build requests with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Returns the rate limits.
    pub fn limits(&self) -> &Arc<RateLimits> {
        &self.limits
    }

    /// Returns the retry policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Sends the request built by `request` under the limiter of `(provider, scope)` with
    /// retries, and returns the successful response. `request` is called once per attempt
    /// and sets the credentials itself; neither this client nor its logs read them.
    pub async fn send(
        &self,
        provider: &str,
        scope: &str,
        operation: &str,
        request: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
    ) -> Result<RawResponse, CallError> {
        let limiter = self.limits.limiter(provider, scope);
        with_retries(&limiter, &self.policy, operation, || {
            self.attempt(&limiter, operation, request)
        })
        .await
    }

    /// Sends like [`HttpClient::send`] and parses the body as JSON; a body that is not JSON
    /// gives [`CallError::Malformed`].
    pub async fn get_json(
        &self,
        provider: &str,
        scope: &str,
        operation: &str,
        request: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
    ) -> Result<JsonPage, CallError> {
        let response = self.send(provider, scope, operation, request).await?;
        let body =
            serde_json::from_slice(&response.body).map_err(|error| CallError::Malformed {
                operation: operation.to_owned(),
                message: format!("the body is not valid JSON ({error})"),
            })?;
        Ok(JsonPage {
            body,
            headers: response.headers,
        })
    }

    async fn attempt(
        &self,
        limiter: &ScopeLimiter,
        operation: &str,
        request: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
    ) -> Attempt<RawResponse> {
        let response = match request().send().await {
            Ok(response) => response,
            Err(error) => return transport_failure(operation, error),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(body) => body.to_vec(),
            Err(error) => return transport_failure(operation, error),
        };
        let response = RawResponse {
            status,
            body,
            headers,
        };
        let now = SystemTime::now();
        // A success that spends the last call of the window (GitHub's remaining count at 0)
        // pauses the scope until the reset instead of provoking a 403.
        if (200..300).contains(&status)
            && let Some(wait) = wait_hint(status, &response.headers, &[], now)
        {
            limiter.pause_until(Instant::now() + wait);
        }
        classify(operation, response, self.secondary_limit_wait, now)
    }
}

fn transport_failure<T>(operation: &str, error: reqwest::Error) -> Attempt<T> {
    let timed_out = error.is_timeout();
    // Drop the URL: query strings may carry tokens.
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    let error = if timed_out {
        CallError::Timeout {
            operation: operation.to_owned(),
            after: HttpClient::CONNECT_TIMEOUT,
        }
    } else {
        CallError::Transport {
            operation: operation.to_owned(),
            message,
        }
    };
    Attempt::Retry { wait: None, error }
}
