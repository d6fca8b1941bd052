//! The wait a provider requests of a client, in each of the formats the providers use.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// Error codes that AWS services return when they throttle: the `THROTTLING_ERRORS` list of
/// the Rust SDK's `aws-runtime` crate.
const AWS_THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Returns how long the server asked the client to wait, taking the longest of every hint
/// present, or `None` when the response carries no hint:
///
/// - `Retry-After` in seconds or as an HTTP date, and `retry-after-ms` /
///   `x-ms-retry-after-ms` in milliseconds;
/// - GitHub's `X-RateLimit-Reset` (epoch seconds), only with `X-RateLimit-Remaining: 0`;
/// - Azure's `x-ms-*-resets-after` values in `[d.]hh:mm:ss[.fff]` form, on a 429 or when an
///   `x-ms-*-remaining*` header is 0;
/// - GCP's `RESOURCE_EXHAUSTED` error body with a `google.rpc.RetryInfo` `retryDelay`.
///
/// A time already past gives a zero wait. `now` is the wall-clock time the response arrived.
pub fn wait_hint(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Option<Duration> {
    let hints = [
        retry_after(headers, now),
        retry_after_ms(headers),
        rate_limit_reset(headers, now),
        azure_resets_after(status, headers),
        gcp_retry_delay(body),
    ];
    hints.into_iter().flatten().max()
}

/// Returns whether `code` is an AWS throttling error code. Accepts the bare code and the forms
/// with a namespace (`aws.sagemaker#ThrottlingException`) or a message after a colon.
pub fn is_aws_throttling_code(code: &str) -> bool {
    let code = code.rsplit('#').next().unwrap_or(code);
    let code = code.split(':').next().unwrap_or(code).trim();
    AWS_THROTTLING_CODES.contains(&code)
}

/// Returns whether a 403 or 429 response is a GitHub secondary rate limit (the body names a
/// secondary rate limit or abuse detection) rather than a permission problem.
pub fn is_secondary_rate_limit(status: u16, body: &[u8]) -> bool {
    if status != 403 && status != 429 {
        return false;
    }
    let text = String::from_utf8_lossy(body).to_lowercase();
    text.contains("secondary rate limit") || text.contains("abuse")
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = header(headers, "retry-after")?;
    if let Some(seconds) = parse_seconds(value) {
        return Some(seconds);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn retry_after_ms(headers: &HeaderMap) -> Option<Duration> {
    ["retry-after-ms", "x-ms-retry-after-ms"]
        .into_iter()
        .filter_map(|name| header(headers, name)?.parse::<u64>().ok())
        .map(Duration::from_millis)
        .max()
}

fn rate_limit_reset(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if header(headers, "x-ratelimit-remaining")? != "0" {
        return None;
    }
    let epoch_seconds: u64 = header(headers, "x-ratelimit-reset")?.parse().ok()?;
    let at = UNIX_EPOCH + Duration::from_secs(epoch_seconds);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn azure_resets_after(status: u16, headers: &HeaderMap) -> Option<Duration> {
    let exhausted = status == 429
        || headers.iter().any(|(name, value)| {
            let name = name.as_str();
            name.starts_with("x-ms-") && name.contains("remaining") && value.as_bytes() == b"0"
        });
    if !exhausted {
        return None;
    }
    headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            name.starts_with("x-ms-") && name.ends_with("resets-after")
        })
        .filter_map(|(_, value)| parse_clock_span(value.to_str().ok()?.trim()))
        .max()
}

/// Parses a .NET `TimeSpan` string: `hh:mm:ss`, optionally with `d.` before and a
/// fraction after the seconds.
fn parse_clock_span(value: &str) -> Option<Duration> {
    let mut parts = value.split(':');
    let (hours, minutes, seconds) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (days, hours) = match hours.split_once('.') {
        Some((days, hours)) => (days.parse::<u64>().ok()?, hours),
        None => (0, hours),
    };
    let hours: u64 = hours.parse().ok()?;
    let minutes: u64 = minutes.parse().ok()?;
    if minutes >= 60 {
        return None;
    }
    let seconds = parse_seconds(seconds)?;
    let whole = ((days * 24 + hours) * 60 + minutes) * 60;
    Some(Duration::from_secs(whole) + seconds)
}

fn parse_seconds(value: &str) -> Option<Duration> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let seconds: f64 = value.parse().ok()?;
    Duration::try_from_secs_f64(seconds).ok()
}

fn gcp_retry_delay(body: &[u8]) -> Option<Duration> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?;
    if error.get("status")?.as_str()? != "RESOURCE_EXHAUSTED" {
        return None;
    }
    error
        .get("details")?
        .as_array()?
        .iter()
        .filter(|detail| {
            detail
                .get("@type")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|kind| kind.ends_with("google.rpc.RetryInfo"))
        })
        .filter_map(|detail| detail.get("retryDelay")?.as_str())
        .filter_map(|delay| parse_seconds(delay.strip_suffix('s')?))
        .max()
}

/// Returns the AWS error code of an error response: the `x-amzn-errortype` header, the JSON
/// `__type` or `code` field, or the XML `<Code>` element.
pub(crate) fn aws_error_code(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    if let Some(code) = header(headers, "x-amzn-errortype") {
        return Some(code.to_owned());
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        return ["__type", "code", "Code"]
            .into_iter()
            .find_map(|field| value.get(field)?.as_str().map(str::to_owned));
    }
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = start + text[start..].find("</Code>")?;
    Some(text[start..end].trim().to_owned())
}

#[cfg(test)]
mod tests;
