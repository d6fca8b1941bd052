//! OAuth 2.0 bearer tokens shared by the connectors: a cache that renews a token before it
//! expires, and one token-endpoint request classified for [`with_retries`](super::with_retries).

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use tokio::sync::Mutex;

use super::{Attempt, CallError};

/// Margin before expiry at which a cached token is replaced, so no call carries a token
/// that expires in flight.
pub(crate) const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// An access token and the instant it stops being accepted.
#[derive(Clone)]
pub(crate) struct AccessToken {
    /// Bearer token value; never logged.
    pub(crate) value: String,
    /// Instant the provider stops accepting it.
    pub(crate) expires_at: Instant,
}

impl AccessToken {
    /// Returns whether the token can still be used at `now`, keeping [`REFRESH_MARGIN`] spare.
    pub(crate) fn is_fresh(&self, now: Instant) -> bool {
        now + REFRESH_MARGIN < self.expires_at
    }
}

/// A bearer token shared by every scope of one connector.
#[derive(Default)]
pub(crate) struct TokenCache {
    /// The lock is held while a new token is fetched, so concurrent crawls wait for one
    /// request instead of each sending their own.
    token: Mutex<Option<AccessToken>>,
}

impl TokenCache {
    /// Creates an empty cache; the first [`TokenCache::bearer`] call fetches a token.
    pub(crate) fn new() -> TokenCache {
        TokenCache::default()
    }

    /// Returns the cached token's value, or calls `fetch` and caches its token when the
    /// cache is empty or the token expires within [`REFRESH_MARGIN`]. A failed fetch leaves
    /// the cache as it was.
    pub(crate) async fn bearer<F, Fut>(&self, fetch: F) -> Result<String, CallError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken, CallError>>,
    {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached
            .as_ref()
            .filter(|token| token.is_fresh(Instant::now()))
        {
            return Ok(token.value.clone());
        }
        let token = fetch().await?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }
}

/// Builds a POST of an `application/x-www-form-urlencoded` body to a token endpoint.
pub(crate) fn form_post(
    client: &reqwest::Client,
    url: &str,
    form: String,
) -> reqwest::RequestBuilder {
    client
        .post(url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(form)
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: ExpiresIn,
}

/// `expires_in` is a number in the responses of the Microsoft identity platform v2.0 and
/// Google token endpoints, but some proxies send it as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum ExpiresIn {
    Number(u64),
    Text(String),
}

/// Error body of a token endpoint.
#[derive(Deserialize)]
struct TokenErrorBody {
    error: String,
    error_description: Option<String>,
}

/// Parses a successful token response received at `now`.
pub(crate) fn parse_token(body: &[u8], now: Instant) -> Result<AccessToken, String> {
    let response: TokenResponse = serde_json::from_slice(body).map_err(|err| {
        format!("token response is not the documented JSON object with access_token and expires_in: {err}")
    })?;
    let seconds = match response.expires_in {
        ExpiresIn::Number(seconds) => seconds,
        ExpiresIn::Text(text) => text
            .parse()
            .map_err(|_| format!("token response has a non-numeric expires_in `{text}`"))?,
    };
    Ok(AccessToken {
        value: response.access_token,
        expires_at: now + Duration::from_secs(seconds),
    })
}

/// Describes a rejected token request from its error body: the error code and the first
/// line of the description, which names the problem (such as an `AADSTS` code or
/// `Invalid JWT Signature.`) and no secret.
pub(crate) fn describe_token_error(status: u16, body: &[u8]) -> String {
    match serde_json::from_slice::<TokenErrorBody>(body) {
        Ok(parsed) => {
            let description = parsed.error_description.unwrap_or_default();
            let first_line = description.lines().next().unwrap_or_default();
            format!("HTTP {status} {}: {first_line}", parsed.error)
        }
        Err(_) => format!("HTTP {status} with a body that is not a token error object"),
    }
}

/// Sends one token request and classifies the response: 2xx is parsed, 429 and 5xx are
/// retried after the server's wait, and any other status fails with the endpoint's error
/// code and description.
pub(crate) async fn token_attempt(
    operation: &str,
    request: reqwest::RequestBuilder,
) -> Attempt<AccessToken> {
    let transport = |err: reqwest::Error| Attempt::Retry {
        wait: None,
        error: CallError::Transport {
            operation: operation.to_owned(),
            message: err.without_url().to_string(),
        },
    };
    let response = match request.send().await {
        Ok(response) => response,
        Err(err) => return transport(err),
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(err) => return transport(err),
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
        let wait = super::wait_hint(status, &headers, &body, SystemTime::now());
        return Attempt::Retry { wait, error };
    }
    Attempt::Fail(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(value: &str, lifetime: Duration) -> AccessToken {
        AccessToken {
            value: value.to_owned(),
            expires_at: Instant::now() + lifetime,
        }
    }

    #[tokio::test]
    async fn cache_reuses_fresh_token() {
        let cache = TokenCache::new();
        let first = cache
            .bearer(|| async { Ok(token("one", Duration::from_secs(3600))) })
            .await
            .unwrap();
        let second = cache
            .bearer(|| async { Ok(token("two", Duration::from_secs(3600))) })
            .await
            .unwrap();
        assert_eq!(first, "one");
        assert_eq!(second, "one");
    }

    #[tokio::test]
    async fn cache_renews_token_within_margin() {
        let cache = TokenCache::new();
        let lifetime = REFRESH_MARGIN - Duration::from_secs(1);
        cache
            .bearer(|| async { Ok(token("old", lifetime)) })
            .await
            .unwrap();
        let renewed = cache
            .bearer(|| async { Ok(token("new", Duration::from_secs(3600))) })
            .await
            .unwrap();
        assert_eq!(renewed, "new");
    }

    #[tokio::test]
    async fn failed_fetch_keeps_cache_empty() {
        let cache = TokenCache::new();
        let error = cache
            .bearer(|| async {
                Err(CallError::Transport {
                    operation: "token request".to_owned(),
                    message: "connection refused".to_owned(),
                })
            })
            .await
            .unwrap_err();
        assert!(matches!(error, CallError::Transport { .. }));
        let value = cache
            .bearer(|| async { Ok(token("later", Duration::from_secs(3600))) })
            .await
            .unwrap();
        assert_eq!(value, "later");
    }

    #[test]
    fn multi_line_description_keeps_first_line() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: bad.\r\nTrace ID: 1"}"#;
        assert_eq!(
            describe_token_error(401, body),
            "HTTP 401 invalid_client: AADSTS7000215: bad."
        );
    }
}
