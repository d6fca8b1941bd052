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

/// Metric samples as (name, labels), in the order recorded.
type Samples = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<(String, String)>)>>>;

/// Records every counter increment and histogram sample with its name and labels.
#[derive(Default)]
struct RecordedMetrics {
    samples: Samples,
}

struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    samples: Samples,
}

impl Sample {
    fn push(&self) {
        let entry = (self.name.clone(), self.labels.clone());
        self.samples.lock().unwrap().push(entry);
    }
}

impl metrics::CounterFn for Sample {
    fn increment(&self, _value: u64) {
        self.push();
    }

    fn absolute(&self, _value: u64) {
        self.push();
    }
}

impl metrics::HistogramFn for Sample {
    fn record(&self, _value: f64) {
        self.push();
    }
}

impl RecordedMetrics {
    fn sample(&self, key: &metrics::Key) -> std::sync::Arc<Sample> {
        let labels = key
            .labels()
            .map(|label| (label.key().to_owned(), label.value().to_owned()))
            .collect();
        std::sync::Arc::new(Sample {
            name: key.name().to_owned(),
            labels,
            samples: std::sync::Arc::clone(&self.samples),
        })
    }
}

impl metrics::Recorder for RecordedMetrics {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }

    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::from_arc(self.sample(key))
    }

    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }

    fn register_histogram(
        &self,
        key: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        metrics::Histogram::from_arc(self.sample(key))
    }
}

#[test]
fn metrics_are_labelled_by_provider_only() {
    let recorder = RecordedMetrics::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let calls = AtomicU32::new(0);

    let result = metrics::with_local_recorder(&recorder, || {
        runtime.block_on(with_retries(&limiter(), &policy(), "list", || async {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                Attempt::Retry {
                    wait: Some(Duration::from_millis(5)),
                    error: throttled(),
                }
            } else {
                Attempt::Done(())
            }
        }))
    });

    assert_eq!(result, Ok(()));
    let samples = recorder.samples.lock().unwrap().clone();
    let provider_only = vec![("provider".to_owned(), "test".to_owned())];
    let throttled: Vec<_> = samples
        .iter()
        .filter(|(name, _)| name == "secruna_provider_throttled_total")
        .collect();
    let waits: Vec<_> = samples
        .iter()
        .filter(|(name, _)| name == "secruna_rate_limiter_wait_seconds")
        .collect();
    assert_eq!(throttled.len(), 1);
    assert_eq!(waits.len(), 2);
    for (_, labels) in throttled.iter().chain(&waits) {
        assert_eq!(labels, &provider_only);
    }
}
