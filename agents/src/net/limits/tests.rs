use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Quota, RateLimits, ScopeLimiter};

/// Returns the largest number of `times` inside any half-open window `[t, t + window)`
/// that starts at one of them; with the times sorted this is every sliding window.
fn max_in_any_window(times: &mut [Instant], window: Duration) -> usize {
    times.sort();
    let mut max = 0;
    let mut end = 0;
    for start in 0..times.len() {
        while end < times.len() && times[end] < times[start] + window {
            end += 1;
        }
        max = max.max(end - start);
    }
    max
}

async fn record_permits(limiter: Arc<ScopeLimiter>, tasks: usize, run: Duration) -> Vec<Instant> {
    let times = Arc::new(Mutex::new(Vec::new()));
    let stop = Instant::now() + run;
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let limiter = Arc::clone(&limiter);
        let times = Arc::clone(&times);
        handles.push(tokio::spawn(async move {
            while Instant::now() < stop {
                limiter.acquire().await;
                times.lock().unwrap().push(Instant::now());
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    Arc::try_unwrap(times).unwrap().into_inner().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_sliding_window_exceeds_quota() {
    let quota = Quota::new(10, Duration::from_millis(200));
    let limiter = Arc::new(ScopeLimiter::new("test", quota, None));

    let mut times = record_permits(limiter, 16, Duration::from_millis(1_500)).await;

    let busiest = max_in_any_window(&mut times, quota.window);
    assert!(
        busiest <= 10,
        "a window of 200 ms carried {busiest} permits"
    );
    // 1.5 s at one permit per 20.5 ms is 74 permits; the first is free.
    assert!(times.len() >= 70, "only {} permits in 1.5 s", times.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_window_holds_no_burst() {
    let quota = Quota::new(20, Duration::from_millis(300));
    let limiter = Arc::new(ScopeLimiter::new("test", quota, None));

    let mut times = record_permits(limiter, 40, Duration::from_millis(400)).await;

    let first = times[0];
    let in_first_window = times.iter().filter(|t| **t < first + quota.window).count();
    assert!(
        in_first_window <= 20,
        "first window carried {in_first_window} permits"
    );
    assert!(max_in_any_window(&mut times, quota.window) <= 20);
}

#[test]
fn permit_period_adds_the_jitter_margin() {
    let cases = [
        // (quota, cell period in ns): the window plus its margin over calls * 32 - 1 cells.
        (Quota::per_second(10), 3_166_145),
        (Quota::per_minute(1_200), 1_578_167),
        (Quota::per_hour(5_000), 22_506_391),
        (Quota::new(1, Duration::from_millis(100)), 3_387_097),
    ];
    for (quota, cell) in cases {
        assert_eq!(quota.cell_period(), Duration::from_nanos(cell), "{quota:?}");
        assert_eq!(
            quota.permit_period(),
            Duration::from_nanos(cell * 32),
            "{quota:?}"
        );
    }
}

#[test]
fn jitter_margin_is_one_percent_within_bounds() {
    assert_eq!(
        Quota::per_second(10).jitter_margin(),
        Duration::from_millis(10)
    );
    assert_eq!(
        Quota::new(10, Duration::from_millis(100)).jitter_margin(),
        Duration::from_millis(5)
    );
    assert_eq!(
        Quota::per_hour(5_000).jitter_margin(),
        Duration::from_secs(1)
    );
}

#[test]
fn zero_calls_count_as_one() {
    assert_eq!(
        Quota::new(0, Duration::from_secs(1)).cell_period(),
        Duration::from_nanos(32_580_646)
    );
}

#[tokio::test]
async fn pause_delays_every_caller() {
    let limiter = ScopeLimiter::new("test", Quota::per_second(1_000), None);
    let started = Instant::now();

    limiter.pause_until(started + Duration::from_millis(150));
    limiter.acquire().await;

    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn shorter_pause_keeps_longer_one() {
    let limiter = ScopeLimiter::new("test", Quota::per_second(1_000), None);
    let now = Instant::now();

    limiter.pause_until(now + Duration::from_millis(300));
    limiter.pause_until(now + Duration::from_millis(100));

    assert_eq!(
        limiter.paused_until(),
        Some(now + Duration::from_millis(300))
    );
}

#[tokio::test]
async fn pause_during_wait_voids_permit() {
    let limiter = Arc::new(ScopeLimiter::new(
        "test",
        Quota::new(1, Duration::from_millis(200)),
        None,
    ));
    let started = Instant::now();
    limiter.acquire().await;

    // The second permit is due at about 205 ms; a pause to 400 ms begins while it waits.
    let waiter = tokio::spawn({
        let limiter = Arc::clone(&limiter);
        async move {
            limiter.acquire().await;
            Instant::now()
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    limiter.pause_until(started + Duration::from_millis(400));

    let permitted = waiter.await.unwrap();
    assert!(permitted >= started + Duration::from_millis(400));
}

#[test]
fn quota_falls_back_from_service_to_provider() {
    let limits = RateLimits::new(
        [
            ("aws".to_owned(), Quota::per_second(5)),
            ("aws.sagemaker".to_owned(), Quota::per_second(2)),
        ]
        .into(),
    );
    assert_eq!(limits.quota("aws.sagemaker", "a"), Quota::per_second(2));
    assert_eq!(limits.quota("aws.lambda", "a"), Quota::per_second(5));
    assert_eq!(limits.quota("azure", "a"), RateLimits::FALLBACK);
}

#[test]
fn scope_override_applies_to_existing_limiter() {
    let limits = RateLimits::new([("gcp".to_owned(), Quota::per_minute(600))].into());
    let limiter = limits.limiter("gcp", "project-a");

    limits.set_quota("gcp", "project-a", Quota::per_minute(60));

    assert_eq!(limiter.quota(), Quota::per_minute(60));
    assert_eq!(
        limits.limiter("gcp", "project-b").quota(),
        Quota::per_minute(600)
    );
    assert!(Arc::ptr_eq(&limiter, &limits.limiter("gcp", "project-a")));
}

#[test]
fn provider_default_change_skips_overridden_scopes() {
    let limits = RateLimits::new([("azure".to_owned(), Quota::per_minute(1_200))].into());
    let plain = limits.limiter("azure", "sub-a");
    limits.set_quota("azure", "sub-b", Quota::per_minute(100));
    let overridden = limits.limiter("azure", "sub-b");

    limits.set_default("azure", Quota::per_minute(600));

    assert_eq!(plain.quota(), Quota::per_minute(600));
    assert_eq!(overridden.quota(), Quota::per_minute(100));
}

#[test]
fn provider_defaults_cap_github_concurrency() {
    let limits = RateLimits::with_provider_defaults();
    assert_eq!(limits.quota("github", "token"), Quota::per_hour(5_000));
    assert_eq!(
        limits.limiter("github", "token").in_flight_capacity(),
        Some(4)
    );
    assert_eq!(limits.limiter("azure", "sub").in_flight_capacity(), None);
}

#[tokio::test]
async fn slow_response_delays_next_window() {
    let quota = Quota::new(2, Duration::from_millis(200));
    let limiter = ScopeLimiter::new("test", quota, None);
    let started = Instant::now();

    // The first call's response takes 80 ms, so it may have reached the provider at 80 ms.
    let slow = limiter.acquire_tracked().await;
    tokio::time::sleep(Duration::from_millis(80)).await;
    drop(slow);
    drop(limiter.acquire_tracked().await);
    drop(limiter.acquire_tracked().await);

    // The GCRA alone would release the third call at about 208 ms; the response of the first
    // moves it to 80 ms plus the window and the 5 ms margin.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(285), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(400), "{elapsed:?}");
}
