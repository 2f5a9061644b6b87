//! Per-client rate limits (governor): feedback submissions per (site, visitor), and failed
//! authentications per client address. Both answer 429 `too_many_requests` with `Retry-After`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::api::ApiError;
use crate::auth::VerifiedIdentity;

#[derive(Clone)]
pub struct RateLimits {
    inner: Arc<Inner>,
}

struct Inner {
    submissions: DefaultKeyedRateLimiter<(String, String)>,
    auth_failures: DefaultKeyedRateLimiter<IpAddr>,
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(burst)
}

fn wait_secs(not_until: &governor::NotUntil<governor::clock::QuantaInstant>) -> u64 {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

impl RateLimits {
    pub fn new(submit_per_minute: u32, submit_burst: u32, auth_failures_per_minute: u32) -> Self {
        Self {
            inner: Arc::new(Inner {
                submissions: RateLimiter::keyed(quota(submit_per_minute, submit_burst)),
                auth_failures: RateLimiter::keyed(quota(
                    auth_failures_per_minute,
                    auth_failures_per_minute,
                )),
            }),
        }
    }

    /// One submission by `caller` (keyed by site and visitor; anonymous callers without an id by
    /// their address).
    pub fn submission(
        &self,
        caller: &VerifiedIdentity,
        client: Option<IpAddr>,
    ) -> Result<(), ApiError> {
        let who = match (caller.subject(), client) {
            (Some(subject), _) => subject.to_owned(),
            (None, Some(ip)) => ip.to_string(),
            (None, None) => String::new(),
        };
        let key = (caller.tenant().as_str().to_owned(), who);
        self.inner.submissions.check_key(&key).map_err(|not_until| {
            ApiError::too_many_requests(
                "You are sending feedback too quickly. Please wait a moment and try again.",
                wait_secs(&not_until),
            )
        })
    }

    /// Records a failed authentication from `client`; once over the limit, the failure is
    /// answered with 429 instead of its 401.
    pub fn auth_failure(&self, client: Option<IpAddr>, error: ApiError) -> ApiError {
        let Some(ip) = client else {
            return error;
        };
        match self.inner.auth_failures.check_key(&ip) {
            Ok(()) => error,
            Err(not_until) => ApiError::too_many_requests(
                "Too many failed sign-in attempts from this address. Try again later.",
                wait_secs(&not_until),
            ),
        }
    }

    /// Forgets idle keys; call now and then so the limiters do not grow without bound.
    pub fn shrink(&self) {
        self.inner.submissions.retain_recent();
        self.inner.auth_failures.retain_recent();
    }
}
