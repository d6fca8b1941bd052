use std::time::{Duration, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::{classify, provider_message};
use crate::net::error::CallError;
use crate::net::http::RawResponse;
use crate::net::retry::Attempt;

const SECONDARY_WAIT: Duration = Duration::from_secs(60);

fn answer(status: u16, pairs: &[(&str, &str)], body: &str) -> Attempt<RawResponse> {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    let response = RawResponse {
        status,
        body: body.as_bytes().to_vec(),
        headers,
    };
    let now = UNIX_EPOCH + Duration::from_secs(1_796_407_200);
    classify("list", response, SECONDARY_WAIT, now)
}

fn retry_of(attempt: Attempt<RawResponse>) -> (Option<Duration>, CallError) {
    match attempt {
        Attempt::Retry { wait, error } => (wait, error),
        other => panic!("expected a retry, got {other:?}"),
    }
}

fn failure_of(attempt: Attempt<RawResponse>) -> CallError {
    match attempt {
        Attempt::Fail(error) => error,
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn throttled() -> CallError {
    CallError::Throttled {
        operation: "list".to_owned(),
        attempts: 0,
    }
}

#[test]
fn success_is_done() {
    assert!(matches!(answer(200, &[], "{}"), Attempt::Done(response) if response.status == 200));
    assert!(matches!(answer(204, &[], ""), Attempt::Done(_)));
}

#[test]
fn too_many_requests_retries_after_hint() {
    let (wait, error) = retry_of(answer(429, &[("retry-after", "3")], ""));
    assert_eq!(wait, Some(Duration::from_secs(3)));
    assert_eq!(error, throttled());
}

#[test]
fn secondary_limit_without_header_waits_default() {
    let body = r#"{"message":"You have exceeded a secondary rate limit."}"#;
    let (wait, error) = retry_of(answer(403, &[], body));
    assert_eq!(wait, Some(SECONDARY_WAIT));
    assert_eq!(error, throttled());
}

#[test]
fn secondary_limit_with_retry_after_waits_that() {
    let body = r#"{"message":"You have exceeded a secondary rate limit."}"#;
    let (wait, _) = retry_of(answer(429, &[("retry-after", "5")], body));
    assert_eq!(wait, Some(Duration::from_secs(5)));
}

#[test]
fn github_primary_limit_waits_for_reset() {
    let pairs = [
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", "1796407230"),
    ];
    let body = r#"{"message":"API rate limit exceeded for installation ID 1."}"#;
    let (wait, error) = retry_of(answer(403, &pairs, body));
    assert_eq!(wait, Some(Duration::from_secs(30)));
    assert_eq!(error, throttled());
}

#[test]
fn aws_throttling_code_retries_without_wait() {
    let body = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
    let (wait, error) = retry_of(answer(400, &[], body));
    assert_eq!(wait, None);
    assert_eq!(error, throttled());
    let xml = "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>";
    assert_eq!(retry_of(answer(400, &[], xml)).1, throttled());
}

#[test]
fn server_errors_retry() {
    for status in [500, 502, 503, 504, 408] {
        let (_, error) = retry_of(answer(status, &[], "boom"));
        let expected = CallError::Status {
            operation: "list".to_owned(),
            status,
            message: "boom".to_owned(),
        };
        assert_eq!(error, expected);
    }
    let (wait, _) = retry_of(answer(503, &[("retry-after", "2")], ""));
    assert_eq!(wait, Some(Duration::from_secs(2)));
}

#[test]
fn plain_forbidden_is_denied_with_operation_as_permission() {
    let body = r#"{"message":"Resource not accessible by integration"}"#;
    let expected = CallError::Denied {
        operation: "list".to_owned(),
        permission: "list".to_owned(),
        message: "Resource not accessible by integration".to_owned(),
    };
    assert_eq!(failure_of(answer(403, &[], body)), expected);
}

#[test]
fn denial_names_azure_gcp_and_aws_permissions() {
    let cases = [
        (
            r#"{"error":{"code":"AuthorizationFailed","message":"The client 'x' does not have authorization to perform action 'Microsoft.MachineLearningServices/workspaces/read' over scope '/subscriptions/s'."}}"#,
            "Microsoft.MachineLearningServices/workspaces/read",
        ),
        (
            r#"{"error":{"code":403,"status":"PERMISSION_DENIED","message":"Permission 'aiplatform.models.list' denied on resource '//aiplatform.googleapis.com/projects/p/locations/us-central1' (or it may not exist)."}}"#,
            "aiplatform.models.list",
        ),
        (
            r#"{"__type":"AccessDeniedException","message":"User: arn:aws:iam::1:user/x is not authorized to perform: sagemaker:ListModels on resource: *"}"#,
            "sagemaker:ListModels",
        ),
    ];
    for (body, permission) in cases {
        match failure_of(answer(403, &[], body)) {
            CallError::Denied {
                permission: named, ..
            } => assert_eq!(named, permission),
            other => panic!("expected a denial, got {other:?}"),
        }
    }
}

#[test]
fn disabled_service_is_not_enabled() {
    let gcp = r#"{"error":{"code":403,"status":"PERMISSION_DENIED","message":"Vertex AI API has not been used in project 1 before or it is disabled.","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED"}]}}"#;
    let azure = r#"{"error":{"code":"MissingSubscriptionRegistration","message":"The subscription is not registered to use namespace 'Microsoft.MachineLearningServices'."}}"#;
    assert!(matches!(
        failure_of(answer(403, &[], gcp)),
        CallError::NotEnabled { .. }
    ));
    assert!(matches!(
        failure_of(answer(409, &[], azure)),
        CallError::NotEnabled { .. }
    ));
}

#[test]
fn not_found_and_unauthorized_fail() {
    assert!(matches!(
        failure_of(answer(404, &[], "")),
        CallError::NotFound { .. }
    ));
    let unauthorized = failure_of(answer(401, &[], r#"{"message":"Bad credentials"}"#));
    assert!(unauthorized.is_permanent());
    assert!(matches!(
        unauthorized,
        CallError::Status { status: 401, .. }
    ));
}

#[test]
fn provider_message_is_one_short_line() {
    assert_eq!(
        provider_message(br#"{"error":{"message":"a\n  b"}}"#),
        "a b"
    );
    assert_eq!(provider_message(b""), "no message");
    assert_eq!(provider_message(&[b'x'; 1_000]).len(), 300);
}
