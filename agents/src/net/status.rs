//! Maps a provider's HTTP response to an [`Attempt`]: done, retry (with the server's wait)
//! or fail with the [`CallError`] a connector records.

use std::time::{Duration, SystemTime};

use super::error::CallError;
use super::http::RawResponse;
use super::retry::Attempt;
use super::wait::{aws_error_code, is_aws_throttling_code, is_secondary_rate_limit, wait_hint};

/// Longest provider message kept in an error.
const MAX_MESSAGE_CHARS: usize = 300;

/// Error codes and phrases saying a service, region or location is absent or not enabled.
const NOT_ENABLED_MARKERS: &[&str] = &[
    // GCP: the API is disabled in the project.
    "SERVICE_DISABLED",
    "has not been used in project",
    // Azure: the resource provider is not registered, or the location does not offer it.
    "MissingSubscriptionRegistration",
    "SubscriptionNotRegistered",
    "NoRegisteredProviderFound",
    "LocationNotAvailableForResourceType",
    // AWS: the region is not enabled for the account.
    "OptInRequired",
    "SubscriptionRequiredException",
];

/// Classifies one response. `secondary_limit_wait` is the wait after a GitHub secondary
/// limit that names no time; `now` is when the response arrived.
pub(crate) fn classify(
    operation: &str,
    response: RawResponse,
    secondary_limit_wait: Duration,
    now: SystemTime,
) -> Attempt<RawResponse> {
    let status = response.status;
    if (200..300).contains(&status) {
        return Attempt::Done(response);
    }
    let hint = wait_hint(status, &response.headers, &response.body, now);
    let message = provider_message(&response.body);
    let throttled = || CallError::Throttled {
        operation: operation.to_owned(),
        attempts: 0,
    };
    let status_error = || CallError::Status {
        operation: operation.to_owned(),
        status,
        message: message.clone(),
    };

    if is_secondary_rate_limit(status, &response.body) {
        let wait = hint.unwrap_or(secondary_limit_wait);
        return Attempt::Retry {
            wait: Some(wait),
            error: throttled(),
        };
    }
    let aws_throttled = aws_error_code(&response.headers, &response.body)
        .is_some_and(|code| is_aws_throttling_code(&code));
    let primary_exhausted = status == 403
        && response
            .headers
            .get("x-ratelimit-remaining")
            .is_some_and(|value| value.as_bytes() == b"0");
    if status == 429 || aws_throttled || primary_exhausted {
        return Attempt::Retry {
            wait: hint,
            error: throttled(),
        };
    }
    if status == 408 || status >= 500 {
        return Attempt::Retry {
            wait: hint,
            error: status_error(),
        };
    }
    if is_not_enabled(&response.body) {
        return Attempt::Fail(CallError::NotEnabled {
            operation: operation.to_owned(),
            message,
        });
    }
    match status {
        403 => Attempt::Fail(CallError::Denied {
            operation: operation.to_owned(),
            permission: permission_in(&message).unwrap_or_else(|| operation.to_owned()),
            message,
        }),
        404 => Attempt::Fail(CallError::NotFound {
            operation: operation.to_owned(),
            message,
        }),
        _ => Attempt::Fail(status_error()),
    }
}

fn is_not_enabled(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    NOT_ENABLED_MARKERS
        .iter()
        .any(|marker| text.contains(marker))
}

/// Returns the message of a provider error body: the JSON `message` or `error.message`
/// (GitHub, Azure, GCP, AWS JSON), the XML `<Message>` (AWS query APIs), or the start of
/// the text, on one line and at most [`MAX_MESSAGE_CHARS`] characters.
pub(crate) fn provider_message(body: &[u8]) -> String {
    let from_json = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| {
            let error = value.get("error");
            [
                value.get("message"),
                value.get("Message"),
                error.and_then(|error| error.get("message")),
                error.filter(|error| error.is_string()),
            ]
            .into_iter()
            .flatten()
            .find_map(|field| field.as_str().map(str::to_owned))
        });
    let text = from_json.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        match (text.find("<Message>"), text.find("</Message>")) {
            (Some(start), Some(end)) if start < end => text[start + 9..end].to_owned(),
            _ => text.into_owned(),
        }
    });
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return "no message".to_owned();
    }
    line.chars().take(MAX_MESSAGE_CHARS).collect()
}

/// Returns the permission a denial message names: Azure's `perform action '<action>'`, GCP's
/// `Permission '<name>'`, or AWS's `not authorized to perform: <action>`.
fn permission_in(message: &str) -> Option<String> {
    for (prefix, end) in [
        ("perform action '", '\''),
        ("Permission '", '\''),
        ("Permission \"", '"'),
        ("not authorized to perform: ", ' '),
    ] {
        if let Some(start) = message.find(prefix) {
            let rest = &message[start + prefix.len()..];
            let name = rest
                .split(end)
                .next()
                .unwrap_or(rest)
                .trim_end_matches(['.', ',']);
            if !name.is_empty() {
                return Some(name.to_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
