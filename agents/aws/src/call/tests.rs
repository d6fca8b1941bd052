use agents::net::{Attempt, CallError};

use super::{bare_code, classify_service};

const OPERATION: &str = "sagemaker:ListEndpoints";

fn service(status: u16, code: Option<&str>, message: &str) -> Attempt<()> {
    classify_service(OPERATION.to_owned(), status, code, Some(message))
}

#[test]
fn throttling_code_is_retried_as_throttled() {
    let attempt = service(400, Some("ThrottlingException"), "Rate exceeded");

    assert!(
        matches!(
            attempt,
            Attempt::Retry {
                wait: None,
                error: CallError::Throttled { .. }
            }
        ),
        "{attempt:?}"
    );
}

#[test]
fn status_429_without_code_is_throttled() {
    let attempt = service(429, None, "");

    assert!(
        matches!(
            attempt,
            Attempt::Retry {
                error: CallError::Throttled { .. },
                ..
            }
        ),
        "{attempt:?}"
    );
}

#[test]
fn access_denied_names_the_permission() {
    let attempt = service(400, Some("AccessDeniedException"), "User is not authorized");

    let Attempt::Fail(CallError::Denied {
        operation,
        permission,
        message,
    }) = attempt
    else {
        panic!("expected a denial, got {attempt:?}");
    };
    assert_eq!(operation, OPERATION);
    assert_eq!(permission, OPERATION);
    assert_eq!(message, "AccessDeniedException: User is not authorized");
}

#[test]
fn unrecognized_client_means_region_not_enabled() {
    let attempt = service(
        400,
        Some("UnrecognizedClientException"),
        "The security token included in the request is invalid.",
    );

    assert!(
        matches!(attempt, Attempt::Fail(CallError::NotEnabled { .. })),
        "{attempt:?}"
    );
}

#[test]
fn not_available_message_means_service_absent() {
    let attempt = service(
        400,
        Some("ValidationException"),
        "This operation is not available in this region",
    );

    assert!(
        matches!(attempt, Attempt::Fail(CallError::NotEnabled { .. })),
        "{attempt:?}"
    );
}

#[test]
fn server_error_is_retried() {
    let attempt = service(503, Some("ServiceUnavailable"), "try again");

    assert!(
        matches!(
            attempt,
            Attempt::Retry {
                error: CallError::Status { status: 503, .. },
                ..
            }
        ),
        "{attempt:?}"
    );
}

#[test]
fn success_status_without_code_is_malformed() {
    let attempt = service(200, None, "expected a list");

    assert!(
        matches!(attempt, Attempt::Fail(CallError::Malformed { .. })),
        "{attempt:?}"
    );
}

#[test]
fn validation_error_fails_without_retry() {
    let attempt = service(400, Some("ValidationException"), "bad token");

    assert!(
        matches!(
            attempt,
            Attempt::Fail(CallError::Status { status: 400, .. })
        ),
        "{attempt:?}"
    );
}

#[test]
fn missing_resource_is_not_found() {
    let attempt = service(400, Some("ResourceNotFoundException"), "no such agent");

    assert!(
        matches!(attempt, Attempt::Fail(CallError::NotFound { .. })),
        "{attempt:?}"
    );
}

#[test]
fn error_code_namespace_is_stripped() {
    assert_eq!(
        bare_code("com.amazonaws.sagemaker#ThrottlingException"),
        "ThrottlingException"
    );
    assert_eq!(
        bare_code("AccessDeniedException:http://internal.amazon.com/"),
        "AccessDeniedException"
    );
}

#[test]
fn expired_session_is_a_passing_failure() {
    let attempt = service(
        400,
        Some("ExpiredTokenException"),
        "The security token included in the request is expired",
    );

    assert!(
        matches!(attempt, Attempt::Fail(CallError::Transport { .. })),
        "{attempt:?}"
    );
}

#[test]
fn unresolvable_host_reads_as_dns_failure() {
    let message = "dispatch failure: io error: client error (Connect): dns error: failed to lookup address information: Name or service not known";

    assert!(super::is_dns_failure(message));
    assert!(!super::is_dns_failure(
        "dispatch failure: io error: connection refused"
    ));
}
