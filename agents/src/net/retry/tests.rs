use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::{Attempt, RetryPolicy, with_retries};
use crate::net::error::CallError;
use crate::net::limits::{Quota, ScopeLimiter};

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        attempt_timeout: Duration::from_secs(2),
        operation_timeout: Duration::from_secs(5),
    }
}

fn limiter() -> ScopeLimiter {
    ScopeLimiter::new("test", Quota::per_second(1_000), None)
}

fn server_error() -> CallError {
    CallError::Status {
        operation: "list".to_owned(),
        status: 500,
        message: "internal".to_owned(),
    }
}

fn throttled() -> CallError {
    CallError::Throttled {
        operation: "list".to_owned(),
        attempts: 0,
    }
}

#[test]
fn backoff_doubles_within_jitter_and_cap() {
    let policy = policy();
    for _ in 0..100 {
        let first = policy.backoff(1);
        assert!(first >= Duration::from_millis(5), "{first:?}");
        assert!(first <= Duration::from_millis(10), "{first:?}");
        let second = policy.backoff(2);
        assert!(second >= Duration::from_millis(10), "{second:?}");
        assert!(second <= Duration::from_millis(20), "{second:?}");
        let capped = policy.backoff(30);
        assert!(capped >= Duration::from_millis(20), "{capped:?}");
        assert!(capped <= Duration::from_millis(40), "{capped:?}");
    }
}

#[tokio::test]
async fn retries_until_success() {
    let calls = AtomicU32::new(0);

    let result = with_retries(&limiter(), &policy(), "list", || async {
        match calls.fetch_add(1, Ordering::SeqCst) {
            0 | 1 => Attempt::Retry {
                wait: None,
                error: server_error(),
            },
            _ => Attempt::Done(7),
        }
    })
    .await;

    assert_eq!(result, Ok(7));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn failure_is_not_retried() {
    let calls = AtomicU32::new(0);

    let result: Result<(), _> = with_retries(&limiter(), &policy(), "list", || async {
        calls.fetch_add(1, Ordering::SeqCst);
        Attempt::Fail(server_error())
    })
    .await;

    assert_eq!(result, Err(server_error()));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn exhausted_server_errors_return_last_error() {
    let result: Result<(), _> = with_retries(&limiter(), &policy(), "list", || async {
        Attempt::Retry {
            wait: None,
            error: server_error(),
        }
    })
    .await;

    assert_eq!(result, Err(server_error()));
}

#[tokio::test]
async fn exhausted_throttling_counts_attempts() {
    let result: Result<(), _> = with_retries(&limiter(), &policy(), "list", || async {
        Attempt::Retry {
            wait: Some(Duration::from_millis(5)),
            error: throttled(),
        }
    })
    .await;

    let expected = CallError::Throttled {
        operation: "list".to_owned(),
        attempts: 3,
    };
    assert_eq!(result, Err(expected));
}

#[tokio::test]
async fn server_wait_pauses_the_limiter() {
    let limiter = limiter();
    let calls = AtomicU32::new(0);
    let started = Instant::now();

    let result = with_retries(&limiter, &policy(), "list", || async {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            Attempt::Retry {
                wait: Some(Duration::from_millis(200)),
                error: throttled(),
            }
        } else {
            Attempt::Done(())
        }
    })
    .await;

    assert_eq!(result, Ok(()));
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn wait_beyond_operation_timeout_gives_up() {
    let mut policy = policy();
    policy.operation_timeout = Duration::from_millis(300);
    let started = Instant::now();

    let result: Result<(), _> = with_retries(&limiter(), &policy, "list", || async {
        Attempt::Retry {
            wait: Some(Duration::from_secs(3_600)),
            error: throttled(),
        }
    })
    .await;

    let expected = CallError::Throttled {
        operation: "list".to_owned(),
        attempts: 1,
    };
    assert_eq!(result, Err(expected));
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn slow_attempts_time_out_and_retry() {
    let mut policy = policy();
    policy.attempt_timeout = Duration::from_millis(50);
    let calls = AtomicU32::new(0);

    let result: Result<(), _> = with_retries(&limiter(), &policy, "list", || async {
        calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(10)).await;
        Attempt::Done(())
    })
    .await;

    let expected = CallError::Timeout {
        operation: "list".to_owned(),
        after: Duration::from_millis(50),
    };
    assert_eq!(result, Err(expected));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn operation_timeout_bounds_the_call() {
    let mut policy = policy();
    policy.operation_timeout = Duration::from_millis(120);
    let started = Instant::now();

    let result: Result<(), _> = with_retries(&limiter(), &policy, "list", || async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        Attempt::Done(())
    })
    .await;

    let expected = CallError::Timeout {
        operation: "list".to_owned(),
        after: Duration::from_millis(120),
    };
    assert_eq!(result, Err(expected));
    assert!(started.elapsed() < Duration::from_millis(500));
}
