//! Runs SDK calls through the shared retry layer and turns SDK errors into [`CallError`]s.
//!
//! The SDK's own retries are off (see `session.rs`), so each SDK `send()` is one attempt;
//! [`with_retries`] owns the limiter permit, backoff, server waits and timeouts.

use std::error::Error as StdError;
use std::future::Future;
use std::sync::Arc;

use agents::net::{
    Attempt, CallError, PageGuard, PageStep, RetryPolicy, ScopeLimiter, is_aws_throttling_code,
    with_retries,
};
use aws_sdk_sagemaker::config::http::HttpResponse;
use aws_sdk_sagemaker::error::{ProvideErrorMetadata, SdkError};

/// Error codes that mean the credentials lack a permission.
const DENIED_CODES: [&str; 5] = [
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
];

/// Error codes that mean the region is not enabled for the account, or the service does
/// not exist there. The base credentials are checked with `GetCallerIdentity` before any
/// crawl and assumed sessions are fresh, so an unrecognised token in one region means the
/// region is not enabled (opt-in regions reject tokens issued for other regions).
const NOT_ENABLED_CODES: [&str; 5] = [
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "OptInRequired",
    "SubscriptionRequiredException",
    "UnsupportedOperation",
];

/// Message fragments with which services say they do not exist in a region.
const NOT_AVAILABLE_PHRASES: [&str; 4] = [
    "not available in this region",
    "not supported in this region",
    "is not available in the region",
    "not supported in the region",
];

/// Transport messages of a host name that does not resolve: the service has no endpoint
/// in that region.
const DNS_FAILURE_PHRASES: [&str; 4] = [
    "dns error",
    "failed to lookup address",
    "name or service not known",
    "no address associated",
];

/// What a call needs besides its request: the scope's limiter and the retry policy.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// Limiter of the service in this scope.
    pub(crate) limiter: Arc<ScopeLimiter>,
    /// Retry and timeout policy.
    pub(crate) policy: RetryPolicy,
}

impl Caller {
    /// Runs one SDK call (one `send()` per attempt) under the retry layer; `operation` is
    /// also the IAM permission it needs, e.g. `sagemaker:ListEndpoints`.
    pub(crate) async fn call<T, E, F, Fut>(
        &self,
        operation: &str,
        mut send: F,
    ) -> Result<T, CallError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        with_retries(&self.limiter, &self.policy, operation, || {
            let response = send();
            async move {
                match response.await {
                    Ok(output) => Attempt::Done(output),
                    Err(error) => classify(operation, &error),
                }
            }
        })
        .await
    }

    /// Reads every page of a listing. `page` sends one request for the given token and
    /// returns the page's items and next token. Items read before an error or a paging
    /// stop are kept.
    pub(crate) async fn list<T, E, F, Fut>(
        &self,
        operation: &str,
        max_pages: u32,
        mut page: F,
    ) -> Listing<T>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: Future<Output = Result<(Vec<T>, Option<String>), SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let mut listing = Listing::default();
        let mut guard = PageGuard::new(operation, max_pages);
        let mut token: Option<String> = None;
        loop {
            let request_token = token.clone();
            let result = self.call(operation, || page(request_token.clone())).await;
            let (items, next) = match result {
                Ok(page) => page,
                Err(error) => {
                    listing.error = Some(error);
                    return listing;
                }
            };
            listing.items.extend(items);
            match guard.next(next.as_deref()) {
                PageStep::Continue(next) => token = Some(next),
                PageStep::Done => return listing,
                PageStep::Stop(reason) => {
                    listing.stopped = Some(reason);
                    return listing;
                }
            }
        }
    }
}

/// The items of one listing and why it ended early, if it did.
#[derive(Debug)]
pub(crate) struct Listing<T> {
    /// Items of every page read.
    pub(crate) items: Vec<T>,
    /// Reason the paging guard stopped the listing.
    pub(crate) stopped: Option<String>,
    /// Error that ended the listing.
    pub(crate) error: Option<CallError>,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Listing {
            items: Vec::new(),
            stopped: None,
            error: None,
        }
    }
}

/// Maps one failed SDK attempt to a retry or a final error.
pub(crate) fn classify<T, E>(operation: &str, error: &SdkError<E, HttpResponse>) -> Attempt<T>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let operation = operation.to_owned();
    match error {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            // A response that did not parse has no message of its own, so show the parser's.
            let message = match error.message() {
                Some(message) => message.to_owned(),
                None => error_text(error),
            };
            classify_service(operation, status, error.code(), Some(&message))
        }
        SdkError::TimeoutError(_) => Attempt::Retry {
            wait: None,
            error: CallError::Timeout {
                operation,
                after: std::time::Duration::ZERO,
            },
        },
        SdkError::DispatchFailure(failure) => {
            let message = error_text(error);
            if is_dns_failure(&message) {
                return Attempt::Fail(CallError::NotEnabled { operation, message });
            }
            let error = CallError::Transport { operation, message };
            if failure.is_io() || failure.is_timeout() {
                Attempt::Retry { wait: None, error }
            } else {
                Attempt::Fail(error)
            }
        }
        SdkError::ResponseError(context) => {
            let status = context.raw().status().as_u16();
            let message = error_text(error);
            if status >= 500 {
                return Attempt::Retry {
                    wait: None,
                    error: CallError::Status {
                        operation,
                        status,
                        message,
                    },
                };
            }
            Attempt::Fail(CallError::Malformed { operation, message })
        }
        _ => {
            let message = error_text(error);
            if message.contains("endpoint") && message.contains("resol") {
                // No endpoint rule matches the region: the service does not exist there.
                return Attempt::Fail(CallError::NotEnabled { operation, message });
            }
            Attempt::Fail(CallError::Transport { operation, message })
        }
    }
}

/// Maps an error response by HTTP status and AWS error code.
fn classify_service<T>(
    operation: String,
    status: u16,
    code: Option<&str>,
    message: Option<&str>,
) -> Attempt<T> {
    let code = code.map(bare_code).unwrap_or_default();
    let message = message.unwrap_or_default().to_owned();
    let described = if code.is_empty() {
        message.clone()
    } else {
        format!("{code}: {message}")
    };

    if is_aws_throttling_code(code) || status == 429 {
        return Attempt::Retry {
            wait: None,
            error: CallError::Throttled {
                operation,
                attempts: 1,
            },
        };
    }
    if DENIED_CODES.contains(&code) {
        let permission = operation.clone();
        return Attempt::Fail(CallError::Denied {
            operation,
            permission,
            message: described,
        });
    }
    let lower = message.to_lowercase();
    if NOT_ENABLED_CODES.contains(&code)
        || NOT_AVAILABLE_PHRASES
            .iter()
            .any(|phrase| lower.contains(phrase))
    {
        return Attempt::Fail(CallError::NotEnabled {
            operation,
            message: described,
        });
    }
    if code.starts_with("ExpiredToken") || code == "RequestExpired" {
        // An assumed session ran out mid-crawl: a new crawl of the scope assumes the role
        // again, so report it as a passing failure rather than a permanent 4xx.
        return Attempt::Fail(CallError::Transport {
            operation,
            message: described,
        });
    }
    if (200..300).contains(&status) {
        // A success status whose body did not parse: the SDK reports it as an unhandled
        // service error without a code.
        return Attempt::Fail(CallError::Malformed {
            operation,
            message: described,
        });
    }
    if status == 404 || code == "ResourceNotFoundException" {
        return Attempt::Fail(CallError::NotFound {
            operation,
            message: described,
        });
    }
    let error = CallError::Status {
        operation,
        status,
        message: described,
    };
    if status >= 500 {
        Attempt::Retry { wait: None, error }
    } else {
        Attempt::Fail(error)
    }
}

/// Strips a namespace (`aws.sagemaker#`) or a trailing `:<detail>` from an error code.
fn bare_code(code: &str) -> &str {
    let code = code.rsplit('#').next().unwrap_or(code);
    code.split(':').next().unwrap_or(code).trim()
}

fn is_dns_failure(message: &str) -> bool {
    let lower = message.to_lowercase();
    DNS_FAILURE_PHRASES
        .iter()
        .any(|phrase| lower.contains(phrase))
}

/// Formats an SDK error with the `Display` of each cause. The SDK's `Debug` form (and
/// `DisplayErrorContext`, which appends it) includes the raw response body, which can hold
/// Lambda environment variable values, so it is never used.
fn error_text<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: StdError + 'static,
{
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && parts.last() != Some(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests;
