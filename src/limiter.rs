//! Keyed rate limits whose memory stays bounded whatever the keys.
//!
//! governor's own keyed limiter keeps one entry per key until someone calls `retain_recent`, and
//! even then a flood of fresh keys (addresses, junk tokens, instance ids) within one period grows
//! it without limit. Here each key's state is a governor direct limiter held in a bounded moka
//! cache: an entry idle for as long as its quota needs to refill completely is dropped (forgetting
//! it loses nothing), and past `max_keys` the least useful entries are evicted (forgetting the
//! coldest keys' partial state, never refusing a key for lack of room).

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// `per_minute` with a burst of `burst` (both at least 1).
pub fn quota(per_minute: u32, burst: u32) -> Quota {
    let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(burst)
}

/// Whole seconds (rounded up, at least 1) until a refused key may try again.
pub type RetryAfterSecs = u64;

pub struct KeyedLimiter<K> {
    quota: Quota,
    states: moka::sync::Cache<K, Arc<DefaultDirectRateLimiter>>,
}

impl<K> KeyedLimiter<K>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
{
    pub fn new(quota: Quota, max_keys: u64) -> Self {
        // Idle this long, a key's bucket is full again: its entry carries no information.
        let refill = quota
            .replenish_interval()
            .saturating_mul(quota.burst_size().get())
            .max(Duration::from_secs(1));
        Self {
            quota,
            states: moka::sync::Cache::builder()
                .max_capacity(max_keys)
                .time_to_idle(refill)
                .build(),
        }
    }

    fn state(&self, key: &K) -> Arc<DefaultDirectRateLimiter> {
        self.states
            .get_with_by_ref(key, || Arc::new(RateLimiter::direct(self.quota)))
    }

    /// Takes one cell for `key`, or says how long to wait.
    pub fn check(&self, key: &K) -> Result<(), RetryAfterSecs> {
        self.state(key).check().map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }

    /// Waits until `key` may proceed, then takes its cell.
    pub async fn until_ready(&self, key: &K) {
        self.state(key).until_ready().await;
    }

    /// Keys currently remembered (after pending evictions are applied).
    pub fn len(&self) -> u64 {
        self.states.run_pending_tasks();
        self.states.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets `key` (e.g. after its site was removed).
    pub fn forget(&self, key: &K) {
        self.states.invalidate(key);
    }
}

/// One budget for the whole process (no key).
pub fn check_global(limiter: &DefaultDirectRateLimiter) -> Result<(), RetryAfterSecs> {
    limiter.check().map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_burst_then_waits() {
        let limiter = KeyedLimiter::new(quota(60, 2), 100);
        assert!(limiter.check(&"a").is_ok());
        assert!(limiter.check(&"a").is_ok());
        let wait = limiter.check(&"a").unwrap_err();
        assert!((1..=2).contains(&wait), "{wait}");
        // Other keys are independent.
        assert!(limiter.check(&"b").is_ok());
    }

    #[test]
    fn a_million_distinct_keys_stay_bounded() {
        let cap = 10_000;
        let limiter = KeyedLimiter::new(quota(10, 1), cap);
        for i in 0..1_000_000u32 {
            let _ = limiter.check(&i);
        }
        let kept = limiter.len();
        assert!(kept <= cap, "{kept} keys kept, cap {cap}");
        // Recent hot keys still work as limits.
        assert!(limiter.check(&7_000_000).is_ok());
        assert!(limiter.check(&7_000_000).is_err());
    }
}
