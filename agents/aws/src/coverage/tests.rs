use std::time::Duration;

use agents::net::CallError;

use super::Coverage;
use crate::call::Listing;

fn not_enabled() -> CallError {
    CallError::NotEnabled {
        operation: "sagemaker:ListEndpoints".into(),
        message: "OptInRequired: region not enabled".into(),
    }
}

fn failed_listing(error: CallError) -> Listing<u32> {
    Listing {
        items: Vec::new(),
        stopped: None,
        error: Some(error),
    }
}

#[test]
fn scope_with_only_absent_services_is_skipped() {
    let mut coverage = Coverage::default();
    coverage.listing(&failed_listing(not_enabled()));
    coverage.listing(&failed_listing(not_enabled()));

    let report = coverage.finish("aws:123456789012:ap-east-2").unwrap();

    assert_eq!(
        report.skipped.as_deref(),
        Some(
            "the region is not enabled or offers none of the services: sagemaker:ListEndpoints is not available: OptInRequired: region not enabled; enable the service or remove the region"
        )
    );
    assert!(report.issues.is_empty());
}

#[test]
fn absent_service_beside_answers_is_an_issue() {
    let mut coverage = Coverage::default();
    coverage.listing(&failed_listing(not_enabled()));
    coverage.listing(&Listing {
        items: vec![1, 2],
        stopped: None,
        error: None,
    });

    let report = coverage.finish("aws:123456789012:eu-west-1").unwrap();

    assert_eq!(report.skipped, None);
    assert_eq!(report.num_items, 2);
    assert_eq!(report.issues.len(), 1);
}

#[test]
fn malformed_answer_fails_the_scope() {
    let mut coverage = Coverage::default();
    coverage.listing(&Listing {
        items: vec![1],
        stopped: None,
        error: None,
    });
    coverage.listing(&failed_listing(CallError::Malformed {
        operation: "lambda:ListFunctions".into(),
        message: "expected a list".into(),
    }));

    let error = coverage.finish("aws:123456789012:eu-west-1").unwrap_err();

    assert!(error.permanent);
    assert!(error.message.starts_with("scope `aws:123456789012:eu-west-1` failed: lambda:ListFunctions returned a malformed answer"), "{}", error.message);
}

#[test]
fn every_call_timing_out_fails_for_retry() {
    let mut coverage = Coverage::default();
    coverage.listing(&failed_listing(CallError::Timeout {
        operation: "lambda:ListFunctions".into(),
        after: Duration::from_secs(1),
    }));

    let error = coverage.finish("aws:123456789012:eu-west-1").unwrap_err();

    assert!(!error.permanent);
}

#[test]
fn denied_listing_is_a_gap_not_a_failure() {
    let mut coverage = Coverage::default();
    coverage.listing(&failed_listing(CallError::Denied {
        operation: "sagemaker:ListEndpoints".into(),
        permission: "sagemaker:ListEndpoints".into(),
        message: "AccessDeniedException: no".into(),
    }));

    let report = coverage.finish("aws:123456789012:eu-west-1").unwrap();

    assert_eq!(report.gaps.len(), 1);
    assert_eq!(report.gaps[0].permission, "sagemaker:ListEndpoints");
    assert_eq!(report.skipped, None);
}
