//! The record of a scope's latest calls, which holds a call back until the call one quota
//! earlier has surely left the provider's window.
//!
//! The GCRA spaces permits, but the provider counts arrivals, and a call arrives some time
//! between its release and its response. When one call is slower than the others (a cold
//! connection, a TLS handshake, a queue), its arrival may fall late enough that the calls
//! after it crowd into one window. The log therefore anchors each call at its response
//! (release plus latency), the latest moment it can have arrived, and releases a call only
//! once the call a quota earlier is one window plus the jitter margin behind its anchor.
//! A call made through [`ScopeLimiter::acquire`](super::ScopeLimiter::acquire) reports no
//! latency and is anchored at its release, so only the margin covers its jitter.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::Quota;

/// Longest wait before looking again at a call that is still in flight.
const IN_FLIGHT_POLL: Duration = Duration::from_millis(20);

#[derive(Debug)]
struct Entry {
    released: Instant,
    /// `None` while the call is in flight.
    latency: Option<Duration>,
}

/// The calls of the last quota, oldest first.
#[derive(Debug, Default)]
pub(super) struct CallLog {
    first_sequence: u64,
    entries: VecDeque<Entry>,
}

impl CallLog {
    /// Records a call released at `now` and returns its sequence number, or returns the
    /// time to try again. An untracked call never reports its latency and is anchored at
    /// its release.
    pub(super) fn try_release(
        &mut self,
        now: Instant,
        quota: Quota,
        tracked: bool,
    ) -> Result<u64, Instant> {
        let calls = quota.calls.max(1) as usize;
        if self.entries.len() >= calls {
            let earlier = &self.entries[self.entries.len() - calls];
            let settled = match earlier.latency {
                Some(latency) => earlier.released + latency,
                // Its arrival is still unknown: look again soon or when it could have settled.
                None => return Err(now + IN_FLIGHT_POLL.min(quota.window)),
            };
            let not_before = settled + quota.window + quota.jitter_margin();
            if now < not_before {
                return Err(not_before);
            }
        }
        self.entries.push_back(Entry {
            released: now,
            latency: (!tracked).then_some(Duration::ZERO),
        });
        while self.entries.len() > calls {
            self.entries.pop_front();
            self.first_sequence += 1;
        }
        Ok(self.first_sequence + self.entries.len() as u64 - 1)
    }

    /// Records the latency of call `sequence`, if it is still in the log.
    pub(super) fn complete(&mut self, sequence: u64, latency: Duration) {
        let Some(index) = sequence.checked_sub(self.first_sequence) else {
            return;
        };
        if let Some(entry) = self.entries.get_mut(index as usize) {
            entry.latency = Some(latency);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::CallLog;
    use crate::net::limits::Quota;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn releases_up_to_quota_at_once() {
        let mut log = CallLog::default();
        let quota = Quota::new(2, 1_000 * MS);
        let now = Instant::now();
        assert_eq!(log.try_release(now, quota, false), Ok(0));
        assert_eq!(log.try_release(now, quota, false), Ok(1));
        // Window 1 s plus the 10 ms margin after the first call.
        assert_eq!(log.try_release(now, quota, false), Err(now + 1_010 * MS));
        assert_eq!(log.try_release(now + 1_010 * MS, quota, false), Ok(2));
    }

    #[test]
    fn slow_call_moves_its_anchor_to_its_answer() {
        let mut log = CallLog::default();
        let quota = Quota::new(2, 1_000 * MS);
        let now = Instant::now();
        let slow = log.try_release(now, quota, true).unwrap();
        let fast = log.try_release(now + 100 * MS, quota, true).unwrap();
        log.complete(slow, 50 * MS);
        log.complete(fast, 2 * MS);

        // The first call's response came at 50 ms, the latest it can have arrived.
        assert_eq!(
            log.try_release(now + 200 * MS, quota, true),
            Err(now + 1_060 * MS)
        );
    }

    #[test]
    fn call_in_flight_holds_the_next_quota_back() {
        let mut log = CallLog::default();
        let quota = Quota::new(1, 1_000 * MS);
        let now = Instant::now();
        log.try_release(now, quota, true).unwrap();
        assert_eq!(
            log.try_release(now + 2_000 * MS, quota, true),
            Err(now + 2_020 * MS)
        );
    }
}
