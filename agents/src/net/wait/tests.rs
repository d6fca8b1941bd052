use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::{is_aws_throttling_code, is_secondary_rate_limit, wait_hint};

/// 2026-12-04T18:00:00Z.
const NOW_SECONDS: u64 = 1_796_407_200;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECONDS)
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

fn hint(status: u16, pairs: &[(&str, &str)], body: &str) -> Option<Duration> {
    wait_hint(status, &headers(pairs), body.as_bytes(), now())
}

#[test]
fn retry_after_seconds() {
    assert_eq!(
        hint(429, &[("retry-after", "7")], ""),
        Some(Duration::from_secs(7))
    );
}

#[test]
fn retry_after_zero_seconds() {
    assert_eq!(hint(429, &[("retry-after", "0")], ""), Some(Duration::ZERO));
}

#[test]
fn retry_after_http_date() {
    let at = httpdate::fmt_http_date(now() + Duration::from_secs(90));
    assert_eq!(
        hint(503, &[("retry-after", &at)], ""),
        Some(Duration::from_secs(90))
    );
}

#[test]
fn retry_after_http_date_in_past_is_zero() {
    let at = httpdate::fmt_http_date(now() - Duration::from_secs(30));
    assert_eq!(hint(429, &[("retry-after", &at)], ""), Some(Duration::ZERO));
}

#[test]
fn retry_after_garbage_is_ignored() {
    assert_eq!(hint(429, &[("retry-after", "soon")], ""), None);
    assert_eq!(hint(429, &[("retry-after", "-5")], ""), None);
}

#[test]
fn retry_after_milliseconds() {
    assert_eq!(
        hint(429, &[("x-ms-retry-after-ms", "1500")], ""),
        Some(Duration::from_millis(1500))
    );
    assert_eq!(
        hint(429, &[("retry-after-ms", "250")], ""),
        Some(Duration::from_millis(250))
    );
}

#[test]
fn github_reset_with_no_remaining_calls() {
    let reset = (NOW_SECONDS + 120).to_string();
    let pairs = [
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", reset.as_str()),
    ];
    assert_eq!(hint(403, &pairs, ""), Some(Duration::from_secs(120)));
    assert_eq!(hint(200, &pairs, ""), Some(Duration::from_secs(120)));
}

#[test]
fn github_reset_with_calls_left_is_ignored() {
    let reset = (NOW_SECONDS + 120).to_string();
    let pairs = [
        ("x-ratelimit-remaining", "12"),
        ("x-ratelimit-reset", reset.as_str()),
    ];
    assert_eq!(hint(200, &pairs, ""), None);
}

#[test]
fn github_reset_in_past_is_zero() {
    let reset = (NOW_SECONDS - 5).to_string();
    let pairs = [
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", reset.as_str()),
    ];
    assert_eq!(hint(403, &pairs, ""), Some(Duration::ZERO));
}

#[test]
fn azure_subscription_reads_with_retry_after() {
    let pairs = [
        ("x-ms-ratelimit-remaining-subscription-reads", "0"),
        ("retry-after", "17"),
    ];
    assert_eq!(hint(429, &pairs, ""), Some(Duration::from_secs(17)));
}

#[test]
fn azure_resource_graph_resets_after() {
    let pairs = [
        ("x-ms-user-quota-remaining", "0"),
        ("x-ms-user-quota-resets-after", "00:00:05"),
    ];
    assert_eq!(hint(200, &pairs, ""), Some(Duration::from_secs(5)));
    assert_eq!(hint(429, &pairs, ""), Some(Duration::from_secs(5)));
}

#[test]
fn azure_resets_after_in_hours_days_and_fractions() {
    let cases = [
        ("01:02:03", Duration::from_secs(3_723)),
        ("1.00:00:10", Duration::from_secs(86_410)),
        ("00:00:02.5", Duration::from_millis(2_500)),
    ];
    for (value, expected) in cases {
        let pairs = [("x-ms-user-quota-resets-after", value)];
        assert_eq!(hint(429, &pairs, ""), Some(expected), "{value}");
    }
}

#[test]
fn azure_resets_after_with_quota_left_is_ignored() {
    let pairs = [
        ("x-ms-user-quota-remaining", "14"),
        ("x-ms-user-quota-resets-after", "00:00:05"),
    ];
    assert_eq!(hint(200, &pairs, ""), None);
}

#[test]
fn azure_malformed_resets_after_is_ignored() {
    for value in ["5", "00:61:00", "aa:00:01", "00:00:01:00"] {
        let pairs = [("x-ms-user-quota-resets-after", value)];
        assert_eq!(hint(429, &pairs, ""), None, "{value}");
    }
}

#[test]
fn gcp_resource_exhausted_retry_delay() {
    let body = r#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED",
        "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED"},
                   {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2s"}]}}"#;
    assert_eq!(hint(429, &[], body), Some(Duration::from_secs(2)));
}

#[test]
fn gcp_fractional_retry_delay() {
    let body = r#"{"error":{"status":"RESOURCE_EXHAUSTED",
        "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"0.750s"}]}}"#;
    assert_eq!(hint(429, &[], body), Some(Duration::from_millis(750)));
}

#[test]
fn gcp_resource_exhausted_without_retry_info() {
    let body = r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"Quota exceeded"}}"#;
    assert_eq!(hint(429, &[], body), None);
}

#[test]
fn gcp_retry_info_on_other_status_is_ignored() {
    let body = r#"{"error":{"status":"UNAVAILABLE",
        "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2s"}]}}"#;
    assert_eq!(hint(503, &[], body), None);
}

#[test]
fn longest_hint_wins() {
    let reset = (NOW_SECONDS + 30).to_string();
    let pairs = [
        ("retry-after", "60"),
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", reset.as_str()),
    ];
    assert_eq!(hint(403, &pairs, ""), Some(Duration::from_secs(60)));
}

#[test]
fn no_hint_without_headers_or_body() {
    assert_eq!(hint(429, &[], ""), None);
    assert_eq!(hint(500, &[], "<html>oops</html>"), None);
}

#[test]
fn aws_throttling_codes() {
    for code in [
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "SlowDown",
        "com.amazonaws.sagemaker#ThrottlingException",
        "ThrottlingException:Rate exceeded",
    ] {
        assert!(is_aws_throttling_code(code), "{code}");
    }
    for code in [
        "AccessDeniedException",
        "ValidationException",
        "ResourceNotFound",
        "",
    ] {
        assert!(!is_aws_throttling_code(code), "{code}");
    }
}

#[test]
fn github_secondary_limit_messages() {
    let secondary = br#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#;
    let abuse = br#"{"message":"You have triggered an abuse detection mechanism."}"#;
    let denied = br#"{"message":"Resource not accessible by integration"}"#;
    assert!(is_secondary_rate_limit(403, secondary));
    assert!(is_secondary_rate_limit(429, secondary));
    assert!(is_secondary_rate_limit(403, abuse));
    assert!(!is_secondary_rate_limit(403, denied));
    assert!(!is_secondary_rate_limit(500, secondary));
}
