//! Calls to Wix REST APIs with the app's own identity ("elevated" calls).
//!
//! The access token for an instance comes from `POST /oauth2/token` (client credentials). It is
//! cached in memory and in the database (restarts and other replicas reuse it), refreshed a few
//! minutes before it expires, fetched by one request however many calls need it at once, and
//! dropped and fetched again once when Wix answers 401. Calls are throttled per instance to
//! Wix's rate limit ([`WIX_REQUESTS_PER_MINUTE`]) and retried with exponential backoff and
//! jitter on 429, 5xx and timeouts, honouring `Retry-After`, within an attempt budget and an
//! overall deadline.
//!
//! One concept per file: this one is the client and its public calls; `token.rs` is where the
//! app token comes from (memory, database, Wix; single-flight; dropped on 401); `retry.rs` is
//! one logical request on the wire (throttle, retries, backoff, `Retry-After`, deadline).

mod retry;
mod token;

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::WixError;
use crate::auth::TenantId;
use crate::limiter::{quota, KeyedLimiter};
use crate::secret::Secret;
use crate::store::Store;
use token::{AppToken, TokenExpiry};

/// Wix's documented rate limit: requests per minute per instance.
pub const WIX_REQUESTS_PER_MINUTE: u32 = 200;

/// Tuning knobs; the defaults suit production, tests shrink them.
#[derive(Debug, Clone)]
pub struct WixClientOptions {
    /// Stop using a token this long before it expires.
    pub refresh_before: Duration,
    pub max_attempts: u32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Per attempt.
    pub request_timeout: Duration,
    /// For the whole call, retries included.
    pub deadline: Duration,
    /// Calls per minute per instance; defaults to Wix's limit, [`WIX_REQUESTS_PER_MINUTE`].
    pub per_instance_per_minute: u32,
    /// How long a site's name and plan from Get App Instance are reused; [`SITE_INFO_TTL`].
    pub site_info_ttl: Duration,
}

impl WixClientOptions {
    /// This replica's share of the per-instance budget when `replicas` processes call Wix for
    /// the same instances (`REPLICAS`).
    pub fn shared_by(mut self, replicas: u32) -> Self {
        self.per_instance_per_minute = (self.per_instance_per_minute / replicas.max(1)).max(1);
        self
    }
}

impl Default for WixClientOptions {
    fn default() -> Self {
        Self {
            refresh_before: Duration::from_secs(300),
            max_attempts: 4,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(20),
            per_instance_per_minute: WIX_REQUESTS_PER_MINUTE,
            site_info_ttl: SITE_INFO_TTL,
        }
    }
}

/// How long a site's name and plan from Get App Instance are reused.
pub const SITE_INFO_TTL: Duration = Duration::from_secs(300);

/// The app's client for Wix APIs. Cheap to clone; clones share caches and throttles.
#[derive(Clone)]
pub struct WixClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    app_id: String,
    app_secret: Secret,
    store: Store,
    tokens: Cache<String, AppToken>,
    site_info: Cache<String, super::SiteInfo>,
    /// The last plan Get App Instance reported per instance, kept longer than `site_info`: what
    /// a caller's plan falls back to while Wix cannot be reached.
    last_plan: Cache<String, super::KnownPlan>,
    throttle: KeyedLimiter<String>,
    options: WixClientOptions,
}

impl WixClient {
    pub fn new(
        base: &str,
        app_id: &str,
        app_secret: Secret,
        store: Store,
        options: WixClientOptions,
    ) -> Self {
        let per_minute = options.per_instance_per_minute;
        let http = reqwest::Client::builder()
            .timeout(options.request_timeout)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("wix-app/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                http,
                base: base.trim_end_matches('/').to_owned(),
                app_id: app_id.to_owned(),
                app_secret,
                store,
                tokens: Cache::builder()
                    .max_capacity(100_000)
                    .expire_after(TokenExpiry)
                    .build(),
                site_info: Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(options.site_info_ttl)
                    .build(),
                last_plan: Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(Duration::from_secs(7 * 24 * 3600))
                    .build(),
                throttle: KeyedLimiter::new(quota(per_minute, per_minute), 100_000),
                options,
            }),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    pub(super) fn site_info_cache(&self) -> &Cache<String, super::SiteInfo> {
        &self.inner.site_info
    }

    pub(super) fn last_plan_cache(&self) -> &Cache<String, super::KnownPlan> {
        &self.inner.last_plan
    }

    /// Forgets the instance's token (memory and database), e.g. when the app is uninstalled.
    pub async fn drop_tokens(&self, instance_id: &str) {
        self.inner.tokens.invalidate(instance_id).await;
        self.inner.throttle.forget(&instance_id.to_owned());
        if let Err(err) = self.inner.store.app_tokens().delete(instance_id).await {
            tracing::warn!(error = %err, "could not delete a cached app token");
        }
    }

    /// `GET`/`POST` `path` as the app for `tenant`, decoding the JSON answer.
    pub async fn call<T: DeserializeOwned>(
        &self,
        tenant: &TenantId,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, WixError> {
        self.call_with_deadline(tenant, method, path, body, self.inner.options.deadline)
            .await
    }

    pub async fn call_with_deadline<T: DeserializeOwned>(
        &self,
        tenant: &TenantId,
        method: Method,
        path: &str,
        body: Option<&Value>,
        deadline: Duration,
    ) -> Result<T, WixError> {
        let started = Instant::now();
        let mut token = self.app_token(tenant.as_str()).await?;
        let mut refetched = false;
        loop {
            let remaining = deadline.saturating_sub(started.elapsed());
            let attempt = self
                .send_with_retries(
                    tenant.as_str(),
                    &method,
                    path,
                    body,
                    Some(&token),
                    remaining,
                )
                .await;
            match attempt {
                Err(WixError::Api { status: 401, .. }) if !refetched => {
                    // The token was revoked or expired early: drop it and fetch a new one, once.
                    refetched = true;
                    self.drop_failed_token(tenant.as_str(), &token).await;
                    token = self.app_token(tenant.as_str()).await?;
                }
                Err(err) => return Err(err),
                Ok(bytes) => {
                    return serde_json::from_slice(&bytes)
                        .map_err(|e| WixError::Decode(e.to_string()))
                }
            }
        }
    }
}
