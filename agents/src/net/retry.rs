//! Retries with jittered exponential backoff, server waits, and timeouts.

use std::future::Future;
use std::time::{Duration, Instant};

use super::error::CallError;
use super::limits::ScopeLimiter;

/// How often and how long a call is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included; at least 1.
    pub max_attempts: u32,
    /// Backoff before the second attempt; it doubles on each further attempt.
    pub base_delay: Duration,
    /// Cap of the backoff (a wait the server requests may be longer).
    pub max_delay: Duration,
    /// Time allowed for one attempt, from sending to the full response.
    pub attempt_timeout: Duration,
    /// Time allowed for the whole call, waits for permits and retries included.
    pub operation_timeout: Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts, backoff from 500 ms up to 30 s, 30 s per attempt, 5 minutes per call.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(30),
            operation_timeout: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// Returns the backoff before attempt `attempt + 1`: `base_delay * 2^(attempt - 1)`
    /// capped at `max_delay`, of which a random part up to one half is taken off
    /// ("equal jitter"), so concurrent callers spread out but none retries at once.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(31);
        let ceiling = self
            .base_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        let half = ceiling / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// The outcome of one attempt, as the operation reports it to [`with_retries`].
#[derive(Debug)]
pub enum Attempt<T> {
    /// The call succeeded.
    Done(T),
    /// The call failed in a way another attempt may fix. `wait` is the time the server
    /// asked for; without it the backoff applies.
    Retry {
        /// Time the server asked the client to wait.
        wait: Option<Duration>,
        /// The error to return if no attempt is left.
        error: CallError,
    },
    /// The call failed for good.
    Fail(CallError),
}

/// Runs `op` until it succeeds, fails for good, runs out of attempts or exceeds the
/// operation timeout.
///
/// Each attempt takes a permit from `limiter` (and an in-flight slot when the provider
/// caps them) and runs under the attempt timeout; a timed-out attempt is retried. A wait
/// the server requested pauses the whole limiter, so every call of the scope honours it;
/// a throttling error without a wait pauses the limiter for the backoff; other errors back
/// off this call only. When the attempts run out on a throttled response the error is
/// [`CallError::Throttled`] with the attempt count.
pub async fn with_retries<T, F, Fut>(
    limiter: &ScopeLimiter,
    policy: &RetryPolicy,
    operation: &str,
    mut op: F,
) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let deadline = Instant::now() + policy.operation_timeout;
    let operation_timed_out = || CallError::Timeout {
        operation: operation.to_owned(),
        after: policy.operation_timeout,
    };
    let max_attempts = policy.max_attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let outcome = run_attempt(limiter, policy, operation, deadline, &mut op).await;
        let (wait, error) = match outcome {
            Some(Attempt::Done(value)) => return Ok(value),
            Some(Attempt::Fail(error)) => return Err(error),
            Some(Attempt::Retry { wait, error }) => (wait, error),
            None if Instant::now() >= deadline => return Err(operation_timed_out()),
            None => (
                None,
                CallError::Timeout {
                    operation: operation.to_owned(),
                    after: policy.attempt_timeout,
                },
            ),
        };

        let throttled = wait.is_some() || matches!(error, CallError::Throttled { .. });
        if throttled {
            metrics::counter!(super::THROTTLED_METRIC, "provider" => limiter.provider().to_owned())
                .increment(1);
        }
        if attempt >= max_attempts {
            return Err(final_error(error, throttled, operation, attempt));
        }

        // Honour the server's wait for the whole scope, or back off.
        let delay = wait.unwrap_or_else(|| policy.backoff(attempt));
        if Instant::now() + delay >= deadline {
            return Err(final_error(error, throttled, operation, attempt));
        }
        tracing::warn!(
            operation,
            provider = limiter.provider(),
            attempt,
            retry.delay_ms = delay.as_millis() as u64,
            error = %error,
            "retrying provider call"
        );
        if throttled {
            limiter.pause_until(Instant::now() + delay);
        } else {
            tokio::time::sleep(delay).await;
        }
    }
}

/// Runs one attempt; `None` means the attempt or the operation timed out.
async fn run_attempt<T, F, Fut>(
    limiter: &ScopeLimiter,
    policy: &RetryPolicy,
    operation: &str,
    deadline: Instant,
    op: &mut F,
) -> Option<Attempt<T>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let deadline = tokio::time::Instant::from_std(deadline);
    let _slot = tokio::time::timeout_at(deadline, limiter.slot())
        .await
        .ok()?;
    let permit = tokio::time::timeout_at(deadline, limiter.acquire_tracked())
        .await
        .ok()?;
    let attempt_deadline = (tokio::time::Instant::now() + policy.attempt_timeout).min(deadline);
    let outcome = tokio::time::timeout_at(attempt_deadline, op()).await.ok();
    // The response is in (or the attempt gave up): its latency places the call in the window.
    drop(permit);
    if outcome.is_none() {
        tracing::debug!(operation, "provider call attempt timed out");
    }
    outcome
}

fn final_error(error: CallError, throttled: bool, operation: &str, attempts: u32) -> CallError {
    if throttled {
        CallError::Throttled {
            operation: operation.to_owned(),
            attempts,
        }
    } else {
        error
    }
}

#[cfg(test)]
mod tests;
