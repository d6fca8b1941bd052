//! The error of one provider call, after retries.

use std::time::Duration;

use crate::source::{CoverageGap, CrawlError};

/// The failure of a provider call. Every message names the operation and what to do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The credentials lack a permission; record a [`CoverageGap`] and go on.
    #[error("{operation} was denied: {message}; grant `{permission}` to cover it")]
    Denied {
        /// Operation, e.g. `sagemaker:ListEndpoints`.
        operation: String,
        /// Permission to grant, as named by the provider when it does.
        permission: String,
        /// The provider's message.
        message: String,
    },
    /// The region, location or service does not exist or is not enabled; record it as
    /// skipped.
    #[error("{operation} is not available: {message}; enable the service or remove the region")]
    NotEnabled {
        /// Operation that found the service absent.
        operation: String,
        /// The provider's message.
        message: String,
    },
    /// The resource does not exist (anymore).
    #[error("{operation} found nothing: {message}")]
    NotFound {
        /// Operation that returned 404.
        operation: String,
        /// The provider's message.
        message: String,
    },
    /// The provider kept throttling until the retry budget was spent.
    #[error("{}", throttled_message(operation, *attempts))]
    Throttled {
        /// Operation that was throttled.
        operation: String,
        /// Attempts made.
        attempts: u32,
    },
    /// An attempt or the whole operation ran out of time.
    #[error("{operation} timed out after {after:?}: check the endpoint or raise the timeout")]
    Timeout {
        /// Operation that timed out.
        operation: String,
        /// The timeout that expired.
        after: Duration,
    },
    /// Another HTTP status, after retries for 5xx.
    #[error("{operation} failed with HTTP {status}: {message}")]
    Status {
        /// Operation that failed.
        operation: String,
        /// HTTP status code.
        status: u16,
        /// The provider's message.
        message: String,
    },
    /// The response is not the documented JSON shape.
    #[error(
        "{operation} returned a malformed answer: {message}; the provider API may have changed"
    )]
    Malformed {
        /// Operation whose response did not parse.
        operation: String,
        /// Parser message with the position.
        message: String,
    },
    /// The connection failed (DNS, TLS, reset).
    #[error("{operation} failed to connect: {message}; check the endpoint and the network")]
    Transport {
        /// Operation whose connection failed.
        operation: String,
        /// Transport message, without the URL.
        message: String,
    },
}

impl CallError {
    /// Returns the operation the error names.
    pub fn operation(&self) -> &str {
        match self {
            CallError::Denied { operation, .. }
            | CallError::NotEnabled { operation, .. }
            | CallError::NotFound { operation, .. }
            | CallError::Throttled { operation, .. }
            | CallError::Timeout { operation, .. }
            | CallError::Status { operation, .. }
            | CallError::Malformed { operation, .. }
            | CallError::Transport { operation, .. } => operation,
        }
    }

    /// Returns whether another attempt would fail the same way: denied, absent, malformed, or a
    /// 4xx other than 408 and 429.
    pub fn is_permanent(&self) -> bool {
        match self {
            CallError::Denied { .. }
            | CallError::NotEnabled { .. }
            | CallError::NotFound { .. }
            | CallError::Malformed { .. } => true,
            CallError::Status { status, .. } => {
                (400..500).contains(status) && *status != 408 && *status != 429
            }
            CallError::Throttled { .. }
            | CallError::Timeout { .. }
            | CallError::Transport { .. } => false,
        }
    }

    /// Returns the coverage gap of a [`CallError::Denied`], `None` for other errors.
    pub fn coverage_gap(&self) -> Option<CoverageGap> {
        match self {
            CallError::Denied {
                operation,
                permission,
                message,
            } => Some(CoverageGap {
                service: operation.clone(),
                permission: permission.clone(),
                message: message.clone(),
            }),
            _ => None,
        }
    }
}

impl From<CallError> for CrawlError {
    fn from(error: CallError) -> Self {
        let permanent = error.is_permanent();
        CrawlError {
            message: error.to_string(),
            permanent,
        }
    }
}

/// Describes a throttled call. `attempts` is 0 for a single response that is about to be
/// retried.
fn throttled_message(operation: &str, attempts: u32) -> String {
    if attempts == 0 {
        return format!("{operation} was throttled by the provider");
    }
    format!(
        "{operation} was throttled on each of {attempts} attempts: lower the quota for this scope or retry the scan later"
    )
}

#[cfg(test)]
mod tests {
    use super::CallError;

    #[test]
    fn throttled_message_counts_attempts_only_when_spent() {
        let retrying = CallError::Throttled {
            operation: "github:ListRepos".to_owned(),
            attempts: 0,
        };
        let spent = CallError::Throttled {
            operation: "github:ListRepos".to_owned(),
            attempts: 6,
        };

        assert_eq!(
            retrying.to_string(),
            "github:ListRepos was throttled by the provider"
        );
        assert!(
            spent
                .to_string()
                .starts_with("github:ListRepos was throttled on each of 6 attempts")
        );
    }
}
