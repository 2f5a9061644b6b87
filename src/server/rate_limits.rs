//! Per-client rate limits: feedback submissions per (site, visitor) and per (site, client
//! address), and failed authentications per client address. All answer 429
//! `too_many_requests` with `Retry-After`. Client addresses come from [`super::ClientAddr`] (the
//! real client behind a trusted proxy, IPv6 by /64). Memory is bounded ([`KeyedLimiter`]).
//!
//! On PostgreSQL the submission limits are shared by every replica (`store::RateLimitRepo`,
//! timed by the database's clock), so a visitor whose requests are spread over N replicas gets
//! one budget, not N. Failed authentications stay per replica: they are counted before anyone is
//! known, on the hot path of every refused request, and a per-replica budget only lets an
//! attacker try N times as fast with N replicas, each still bounded.

use std::net::IpAddr;
use std::sync::Arc;

use crate::api::ApiError;
use crate::auth::VerifiedIdentity;
use crate::limiter::{quota, KeyedLimiter};
use crate::store::{SharedQuota, Store};

use super::client_addr::ClientAddr;

/// Keys each limiter remembers at most.
const MAX_KEYS: u64 = 200_000;

/// What the limits are, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitSettings {
    pub submit_per_minute: u32,
    pub submit_burst: u32,
    pub submit_per_address_per_minute: u32,
    pub submit_burst_per_address: u32,
    pub auth_failures_per_minute: u32,
}

#[derive(Clone)]
pub struct RateLimits {
    inner: Arc<Inner>,
}

struct Inner {
    /// (instance id, visitor id or client address).
    submissions: KeyedLimiter<(Box<str>, Box<str>)>,
    /// (instance id, client address).
    submissions_per_address: KeyedLimiter<(Box<str>, IpAddr)>,
    auth_failures: KeyedLimiter<IpAddr>,
    settings: RateLimitSettings,
}

fn too_fast(secs: u64) -> ApiError {
    ApiError::too_many_requests(
        "You are sending feedback too quickly. Please wait a moment and try again.",
        secs,
    )
}

impl RateLimits {
    pub fn new(settings: RateLimitSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                submissions: KeyedLimiter::new(
                    quota(settings.submit_per_minute, settings.submit_burst),
                    MAX_KEYS,
                ),
                submissions_per_address: KeyedLimiter::new(
                    quota(
                        settings.submit_per_address_per_minute,
                        settings.submit_burst_per_address,
                    ),
                    MAX_KEYS,
                ),
                auth_failures: KeyedLimiter::new(
                    quota(
                        settings.auth_failures_per_minute,
                        settings.auth_failures_per_minute,
                    ),
                    MAX_KEYS,
                ),
                settings,
            }),
        }
    }

    /// One submission by `caller` from `client`: per (site, visitor), anonymous callers without
    /// an id by their address, and per (site, address) whoever they claim to be.
    pub async fn submission(
        &self,
        store: &Store,
        caller: &VerifiedIdentity,
        client: Option<ClientAddr>,
    ) -> Result<(), ApiError> {
        let site: Box<str> = caller.tenant().as_str().into();
        let address = client.map(ClientAddr::limit_key);
        let who: Box<str> = match (caller.subject(), address) {
            (Some(subject), _) => subject.into(),
            (None, Some(ip)) => ip.to_string().into(),
            (None, None) => "".into(),
        };
        if let Some(shared) = store.shared_rate_limits() {
            let settings = self.inner.settings;
            if let Some(ip) = address {
                let quota = SharedQuota {
                    per_minute: settings.submit_per_address_per_minute,
                    burst: settings.submit_burst_per_address,
                };
                shared
                    .check(&format!("submit-address:{site}:{ip}"), quota)
                    .await?
                    .map_err(too_fast)?;
            }
            let quota = SharedQuota {
                per_minute: settings.submit_per_minute,
                burst: settings.submit_burst,
            };
            return shared
                .check(&format!("submit:{site}:{who}"), quota)
                .await?
                .map_err(too_fast);
        }
        if let Some(ip) = address {
            self.inner
                .submissions_per_address
                .check(&(site.clone(), ip))
                .map_err(too_fast)?;
        }
        self.inner.submissions.check(&(site, who)).map_err(too_fast)
    }

    /// Records a failed authentication from `client`; once over the limit, the failure is
    /// answered with 429 instead of its 401. Only failures count: a valid credential from a
    /// limited address is still served.
    pub fn auth_failure(&self, client: Option<ClientAddr>, error: ApiError) -> ApiError {
        let Some(client) = client else {
            return error;
        };
        match self.inner.auth_failures.check(&client.limit_key()) {
            Ok(()) => error,
            Err(secs) => ApiError::too_many_requests(
                "Too many failed sign-in attempts from this address. Try again later.",
                secs,
            ),
        }
    }
}
