//! Rate limiters per `(provider, scope)`, sized so that no sliding window exceeds the quota.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::RateLimiter;
use governor::clock::MonotonicClock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use tokio::sync::{Semaphore, SemaphorePermit};

use log::CallLog;

mod defaults;
mod log;

pub use defaults::provider_defaults;

/// GCRA cells one call takes; the bucket's one spare cell is the lateness it forgives.
pub const CELLS_PER_CALL: u32 = 32;

const CALL_CELLS: NonZeroU32 = NonZeroU32::new(CELLS_PER_CALL).expect("cells per call is positive");

type Gcra = RateLimiter<NotKeyed, InMemoryState, MonotonicClock, NoOpMiddleware<Instant>>;

/// A provider quota: at most `calls` calls in any window of length `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Calls allowed per window; 0 is treated as 1.
    pub calls: u32,
    /// Length of the window.
    pub window: Duration,
}

impl Quota {
    /// Creates a quota of `calls` per `window`.
    pub const fn new(calls: u32, window: Duration) -> Quota {
        Quota { calls, window }
    }

    /// Creates a quota of `calls` per second.
    pub const fn per_second(calls: u32) -> Quota {
        Quota::new(calls, Duration::from_secs(1))
    }

    /// Creates a quota of `calls` per minute.
    pub const fn per_minute(calls: u32) -> Quota {
        Quota::new(calls, Duration::from_secs(60))
    }

    /// Creates a quota of `calls` per hour.
    pub const fn per_hour(calls: u32) -> Quota {
        Quota::new(calls, Duration::from_secs(3600))
    }

    /// Returns the time the limiter adds to the window against network jitter between the
    /// client's permit and the server's arrival time: 1 % of the window, at least 5 ms and
    /// at most 1 s.
    pub fn jitter_margin(&self) -> Duration {
        (self.window / 100).clamp(Duration::from_millis(5), Duration::from_secs(1))
    }

    /// Returns the GCRA cell period. A call takes [`CELLS_PER_CALL`] cells and the bucket
    /// holds one cell more, so a caller that wakes up to one cell late loses no time, and a
    /// call may come at most one cell before its slot. GCRA then admits `calls + 1` calls
    /// only over a span of at least `(calls * CELLS_PER_CALL - 1)` cells, and the cell is
    /// sized so that this span exceeds the window by the jitter margin: no sliding window
    /// of `window` ever carries more than `calls` calls. (Governor's default burst of
    /// `calls` would let up to twice the quota through in the first window.)
    pub fn cell_period(&self) -> Duration {
        let cells = u128::from(self.calls.max(1)) * u128::from(CELLS_PER_CALL) - 1;
        let span = (self.window + self.jitter_margin()).as_nanos();
        let nanos = span.div_ceil(cells).max(1);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// Returns the steady spacing between permits: [`CELLS_PER_CALL`] cells.
    pub fn permit_period(&self) -> Duration {
        self.cell_period() * CELLS_PER_CALL
    }

    fn gcra(&self) -> Gcra {
        let burst = NonZeroU32::new(CELLS_PER_CALL + 1).expect("burst is positive");
        let quota = governor::Quota::with_period(self.cell_period())
            .expect("cell period is positive")
            .allow_burst(burst);
        RateLimiter::direct_with_clock(quota, MonotonicClock)
    }
}

/// The process-wide registry of limiters, one per `(provider, scope)`.
///
/// A provider name may carry a service after a dot (`aws.sagemaker`); its quota falls back
/// to the provider's (`aws`), then to [`RateLimits::FALLBACK`].
#[derive(Debug)]
pub struct RateLimits {
    defaults: Mutex<BTreeMap<String, Quota>>,
    overrides: Mutex<HashMap<(String, String), Quota>>,
    max_in_flight: Mutex<BTreeMap<String, usize>>,
    limiters: Mutex<HashMap<(String, String), Arc<ScopeLimiter>>>,
}

impl RateLimits {
    /// Quota of a provider that has no default: 5 calls per second.
    pub const FALLBACK: Quota = Quota::per_second(5);

    /// Creates a registry with a default quota per provider.
    pub fn new(defaults: BTreeMap<String, Quota>) -> Arc<RateLimits> {
        Arc::new(RateLimits {
            defaults: Mutex::new(defaults),
            overrides: Mutex::new(HashMap::new()),
            max_in_flight: Mutex::new(BTreeMap::new()),
            limiters: Mutex::new(HashMap::new()),
        })
    }

    /// Creates a registry with the providers' published limits (see docs/rate-limits.md),
    /// including GitHub's cap on concurrent requests.
    pub fn with_provider_defaults() -> Arc<RateLimits> {
        let limits = RateLimits::new(provider_defaults());
        limits.set_max_in_flight("github", defaults::GITHUB_MAX_IN_FLIGHT);
        limits
    }

    /// Sets the default quota of a provider; limiters already handed out keep theirs unless
    /// they have no scope override, in which case they switch at once.
    pub fn set_default(&self, provider: &str, quota: Quota) {
        lock(&self.defaults).insert(provider.to_owned(), quota);
        let limiters = lock(&self.limiters);
        for ((limiter_provider, scope), limiter) in limiters.iter() {
            if limiter_provider == provider
                && !lock(&self.overrides).contains_key(&(provider.to_owned(), scope.clone()))
            {
                limiter.set_quota(quota);
            }
        }
    }

    /// Overrides the quota of one scope, including a limiter already handed out.
    pub fn set_quota(&self, provider: &str, scope: &str, quota: Quota) {
        let key = (provider.to_owned(), scope.to_owned());
        lock(&self.overrides).insert(key.clone(), quota);
        if let Some(limiter) = lock(&self.limiters).get(&key) {
            limiter.set_quota(quota);
        }
    }

    /// Caps the calls of one scope of `provider` that may be in flight at once, for
    /// limiters created after this call.
    pub fn set_max_in_flight(&self, provider: &str, max: usize) {
        lock(&self.max_in_flight).insert(provider.to_owned(), max.max(1));
    }

    /// Returns the quota that applies to `(provider, scope)`.
    pub fn quota(&self, provider: &str, scope: &str) -> Quota {
        if let Some(quota) = lock(&self.overrides).get(&(provider.to_owned(), scope.to_owned())) {
            return *quota;
        }
        let defaults = lock(&self.defaults);
        let family = provider.split('.').next().unwrap_or(provider);
        defaults
            .get(provider)
            .or_else(|| defaults.get(family))
            .copied()
            .unwrap_or(RateLimits::FALLBACK)
    }

    /// Returns the limiter of `(provider, scope)`, creating it on first use.
    pub fn limiter(&self, provider: &str, scope: &str) -> Arc<ScopeLimiter> {
        let key = (provider.to_owned(), scope.to_owned());
        if let Some(limiter) = lock(&self.limiters).get(&key) {
            return Arc::clone(limiter);
        }
        let quota = self.quota(provider, scope);
        let family = provider.split('.').next().unwrap_or(provider);
        let in_flight = {
            let caps = lock(&self.max_in_flight);
            caps.get(provider).or_else(|| caps.get(family)).copied()
        };
        let mut limiters = lock(&self.limiters);
        let limiter = limiters
            .entry(key)
            .or_insert_with(|| Arc::new(ScopeLimiter::new(provider, quota, in_flight)));
        Arc::clone(limiter)
    }
}

/// The limiter of one `(provider, scope)`: a GCRA that never lets a sliding window carry
/// more calls than the quota, a pause that every caller honours, and an optional cap on
/// calls in flight.
#[derive(Debug)]
pub struct ScopeLimiter {
    provider: String,
    gcra: Mutex<(Quota, Arc<Gcra>)>,
    paused_until: Mutex<Option<Instant>>,
    calls: Mutex<CallLog>,
    in_flight: Option<Semaphore>,
    max_in_flight: Option<usize>,
}

impl ScopeLimiter {
    /// Creates a limiter for `quota`, with at most `max_in_flight` calls at once if set.
    pub fn new(provider: &str, quota: Quota, max_in_flight: Option<usize>) -> ScopeLimiter {
        ScopeLimiter {
            provider: provider.to_owned(),
            gcra: Mutex::new((quota, Arc::new(quota.gcra()))),
            paused_until: Mutex::new(None),
            calls: Mutex::new(CallLog::default()),
            in_flight: max_in_flight.map(|max| Semaphore::new(max.max(1))),
            max_in_flight: max_in_flight.map(|max| max.max(1)),
        }
    }

    /// Returns the provider name, used as the metrics label.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Returns the quota in force.
    pub fn quota(&self) -> Quota {
        lock(&self.gcra).0
    }

    /// Replaces the quota. The new limiter starts with its first permit free.
    pub fn set_quota(&self, quota: Quota) {
        *lock(&self.gcra) = (quota, Arc::new(quota.gcra()));
    }

    /// Waits for a permit. Permits are spaced so that no sliding window of the quota's
    /// window carries more than its calls; while the limiter is paused, no permit is given,
    /// and a permit taken before a pause began is dropped and taken again after it.
    pub async fn acquire(&self) {
        self.acquire_call(false).await;
    }

    /// Waits for a permit like [`ScopeLimiter::acquire`] and returns it. Drop the permit
    /// when the call's response has arrived: its latency then moves the call's place in the
    /// window, so a call that reached the provider late does not crowd the next window.
    pub async fn acquire_tracked(&self) -> CallPermit<'_> {
        let (sequence, released) = self.acquire_call(true).await;
        CallPermit {
            limiter: self,
            sequence,
            released,
        }
    }

    /// Waits for a permit and returns the call's sequence number in the log and the time
    /// the log released it, which is also the start of its latency.
    async fn acquire_call(&self, tracked: bool) -> (u64, Instant) {
        let started = Instant::now();
        let release = loop {
            self.wait_for_pause().await;
            let (quota, gcra) = {
                let current = lock(&self.gcra);
                (current.0, Arc::clone(&current.1))
            };
            wait_for_cells(&gcra).await;
            if let Some(release) = self.wait_for_log(quota, tracked).await {
                break release;
            }
        };
        metrics::histogram!(super::WAIT_SECONDS_METRIC, "provider" => self.provider.clone())
            .record(started.elapsed().as_secs_f64());
        release
    }

    /// Waits until the call log admits a call and records it; `None` when a pause began
    /// meanwhile, which voids the GCRA permit: calls permitted before a pause must not all
    /// fire when it ends.
    async fn wait_for_log(&self, quota: Quota, tracked: bool) -> Option<(u64, Instant)> {
        loop {
            if self.paused_until().is_some() {
                return None;
            }
            let now = Instant::now();
            let released = lock(&self.calls).try_release(now, quota, tracked);
            match released {
                Ok(sequence) => return Some((sequence, now)),
                Err(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
            }
        }
    }

    /// Makes every caller of this limiter wait until `until`. A pause never shortens an
    /// earlier, longer one.
    pub fn pause_until(&self, until: Instant) {
        let mut paused = lock(&self.paused_until);
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
            tracing::debug!(provider = %self.provider, pause.ms = until.saturating_duration_since(Instant::now()).as_millis() as u64, "rate limiter paused");
        }
    }

    /// Returns the end of the current pause, if one is in force.
    pub fn paused_until(&self) -> Option<Instant> {
        lock(&self.paused_until).filter(|until| *until > Instant::now())
    }

    /// Waits for a free in-flight slot when the provider caps concurrent calls.
    pub async fn slot(&self) -> Option<SemaphorePermit<'_>> {
        match &self.in_flight {
            // The semaphore is never closed, so acquiring only fails if it were.
            Some(semaphore) => semaphore.acquire().await.ok(),
            None => None,
        }
    }

    /// Returns the cap on calls in flight, if the provider has one.
    pub fn in_flight_capacity(&self) -> Option<usize> {
        self.max_in_flight
    }

    async fn wait_for_pause(&self) {
        while let Some(until) = self.paused_until() {
            tokio::time::sleep_until(tokio::time::Instant::from_std(until)).await;
        }
    }
}

/// A permit from [`ScopeLimiter::acquire_tracked`]; dropping it records the call's
/// latency.
#[derive(Debug)]
pub struct CallPermit<'a> {
    limiter: &'a ScopeLimiter,
    sequence: u64,
    released: Instant,
}

impl Drop for CallPermit<'_> {
    fn drop(&mut self) {
        let latency = self.released.elapsed();
        lock(&self.limiter.calls).complete(self.sequence, latency);
    }
}

async fn wait_for_cells(gcra: &Gcra) {
    loop {
        match gcra.check_n(CALL_CELLS) {
            Ok(Ok(())) => return,
            Ok(Err(not_until)) => {
                let at = not_until.earliest_possible();
                tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
            }
            // The bucket holds one call's cells plus one, so a call always fits.
            Err(_) => unreachable!("a call's cells exceed the bucket"),
        }
    }
}

#[cfg(test)]
mod tests;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The guarded maps stay consistent even if a holder panicked.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
