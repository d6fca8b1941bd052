//! The network layer every cloud and code-host connector shares: per-scope rate limits,
//! retries that honour each provider's wait format, paging guards and an HTTP client.
//!
//! A connector asks [`RateLimits`] for the [`ScopeLimiter`] of its `(provider, scope)` pair
//! and runs every call through [`with_retries`] (the [`HttpClient`] does both for REST
//! calls). The limiter keeps every sliding window of the provider's quota window within the
//! quota; a throttled response pauses the limiter for the time the server requested, so every
//! other call of the same scope waits too. [`PageGuard`] stops listings whose paging token
//! is empty, repeats or loops, and gives the reason to record in
//! [`CrawlReport::incomplete`](crate::CrawlReport::incomplete).
//!
//! Metrics: `secruna_rate_limiter_wait_seconds` (histogram, time spent waiting for a
//! permit) and `secruna_provider_throttled_total` (counter, throttled responses), both
//! labelled by `provider` only.

mod error;
mod http;
mod limits;
mod paging;
mod retry;
mod status;
pub(crate) mod token;
mod wait;

pub use error::CallError;
pub use http::{HttpClient, JsonPage, RawResponse};
pub use limits::{CELLS_PER_CALL, CallPermit, Quota, RateLimits, ScopeLimiter, provider_defaults};
pub use paging::{PageGuard, PageStep};
pub use retry::{Attempt, RetryPolicy, with_retries};
pub use wait::{is_aws_throttling_code, is_secondary_rate_limit, wait_hint};

/// Name of the histogram of seconds spent waiting for a rate-limit permit.
pub const WAIT_SECONDS_METRIC: &str = "secruna_rate_limiter_wait_seconds";

/// Name of the counter of throttled provider responses.
pub const THROTTLED_METRIC: &str = "secruna_provider_throttled_total";
