//! Calls to Wix REST APIs with the app's own identity ("elevated" calls).
//!
//! The access token for an instance comes from `POST /oauth2/token` (client credentials). It is
//! cached in memory and in the database (restarts and other replicas reuse it), refreshed a few
//! minutes before it expires, fetched by one request however many calls need it at once, and
//! dropped and fetched again once when Wix answers 401. Calls are throttled per instance to
//! Wix's 200 requests/minute and retried with exponential backoff and jitter on 429, 5xx and
//! timeouts, honouring `Retry-After`, within an attempt budget and an overall deadline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;
use moka::ops::compute::Op;
use moka::Expiry;
use reqwest::header::{HeaderMap, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::WixError;
use crate::auth::TenantId;
use crate::limiter::{quota, KeyedLimiter};
use crate::secret::Secret;
use crate::store::Store;

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
    /// Wix's documented limit is 200 requests per minute per instance.
    pub per_instance_per_minute: u32,
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
            per_instance_per_minute: 200,
        }
    }
}

/// How long a site's name from Get App Instance is reused.
const SITE_INFO_TTL: Duration = Duration::from_secs(300);

#[derive(Clone, Debug)]
struct AppToken {
    value: Arc<str>,
    /// When the cache must stop handing it out (expiry minus the refresh margin).
    fresh_for: Duration,
}

struct TokenExpiry;

impl Expiry<String, AppToken> for TokenExpiry {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &AppToken,
        _now: Instant,
    ) -> Option<Duration> {
        Some(value.fresh_for)
    }
}

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
    throttle: KeyedLimiter<String>,
    options: WixClientOptions,
}

#[derive(Serialize)]
struct TokenRequest<'a> {
    grant_type: &'static str,
    client_id: &'a str,
    client_secret: &'a str,
    instance_id: &'a str,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
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
                    .time_to_live(SITE_INFO_TTL)
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

    /// Forgets the instance's token (memory and database), e.g. when the app is uninstalled.
    pub async fn drop_tokens(&self, instance_id: &str) {
        self.inner.tokens.invalidate(instance_id).await;
        self.inner.throttle.forget(&instance_id.to_owned());
        if let Err(err) = self.inner.store.app_tokens().delete(instance_id).await {
            tracing::warn!(error = %err, "could not delete a cached app token");
        }
    }

    /// Forgets `failed` (Wix refused it) unless another caller has already replaced it: many
    /// calls can get a 401 for the same revoked token, and only the first replacement counts.
    async fn drop_failed_token(&self, instance_id: &str, failed: &Arc<str>) {
        let failed_value = failed.clone();
        self.inner
            .tokens
            .entry(instance_id.to_owned())
            .and_compute_with(|current| {
                let op = match current {
                    Some(entry) if entry.value().value == failed_value => Op::Remove,
                    _ => Op::Nop,
                };
                std::future::ready(op)
            })
            .await;
        if let Err(err) = self
            .inner
            .store
            .app_tokens()
            .delete_if(instance_id, failed)
            .await
        {
            tracing::warn!(error = %err, "could not delete a refused app token");
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

    /// The app token for an instance: memory, then database, then Wix, one request per instance
    /// however many callers wait for it.
    async fn app_token(&self, instance_id: &str) -> Result<Arc<str>, WixError> {
        let removed = || self.inner.store.instances().is_removed_id(instance_id);
        if removed() {
            return Err(WixError::InstanceRemoved);
        }
        let this = self.clone();
        let key = instance_id.to_owned();
        let token = self
            .inner
            .tokens
            .try_get_with(
                key.clone(),
                async move { this.load_or_fetch_token(&key).await },
            )
            .await
            .map(|t| t.value)
            .map_err(|e: Arc<WixError>| (*e).clone())?;
        // A removal that landed while the token was being fetched: it must not come back.
        if removed() {
            self.inner.tokens.invalidate(instance_id).await;
            return Err(WixError::InstanceRemoved);
        }
        Ok(token)
    }

    async fn load_or_fetch_token(&self, instance_id: &str) -> Result<AppToken, WixError> {
        let now = chrono::Utc::now().timestamp();
        let margin = self.inner.options.refresh_before.as_secs() as i64;
        match self.inner.store.app_tokens().get(instance_id).await {
            Ok(Some((value, expires_at))) if expires_at - margin > now => {
                return Ok(AppToken {
                    value: value.into(),
                    fresh_for: Duration::from_secs((expires_at - margin - now) as u64),
                });
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "app token cache read failed; asking Wix"),
        }
        let request = serde_json::to_value(TokenRequest {
            grant_type: "client_credentials",
            client_id: &self.inner.app_id,
            client_secret: std::str::from_utf8(self.inner.app_secret.expose()).unwrap_or_default(),
            instance_id,
        })
        .map_err(|e| WixError::Decode(e.to_string()))?;
        let bytes = self
            .send_with_retries(
                instance_id,
                &Method::POST,
                "/oauth2/token",
                Some(&request),
                None,
                self.inner.options.deadline,
            )
            .await?;
        let token: TokenResponse =
            serde_json::from_slice(&bytes).map_err(|e| WixError::Decode(e.to_string()))?;
        let expires_in = token.expires_in.unwrap_or(4 * 3600).max(1);
        let expires_at = now + expires_in;
        // Refresh early, but never keep a token for less than half its life.
        let margin = margin.min(expires_in / 2);
        // Not stored for an instance removed meanwhile (checked in the same statement).
        if let Err(err) = self
            .inner
            .store
            .app_tokens()
            .put_unless_removed(instance_id, &token.access_token, expires_at)
            .await
        {
            tracing::warn!(error = %err, "could not persist the app token");
        }
        tracing::debug!(expires_in, "fetched an app token");
        Ok(AppToken {
            value: token.access_token.into(),
            fresh_for: Duration::from_secs((expires_in - margin).max(1) as u64),
        })
    }

    /// One logical request: throttled, retried on 429/5xx/transport errors with backoff and
    /// jitter (or `Retry-After`), bounded by attempts and `deadline`.
    async fn send_with_retries(
        &self,
        instance_id: &str,
        method: &Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
        deadline: Duration,
    ) -> Result<Vec<u8>, WixError> {
        let options = &self.inner.options;
        let started = Instant::now();
        let url = format!("{}{}", self.inner.base, path);
        let mut attempt = 0;
        loop {
            attempt += 1;
            // A removal that lands while a call is retrying stops it.
            if self.inner.store.instances().is_removed_id(instance_id) {
                return Err(WixError::InstanceRemoved);
            }
            let remaining = deadline.saturating_sub(started.elapsed());
            if remaining.is_zero() {
                return Err(WixError::Transport("deadline exceeded".into()));
            }
            // Client-side share of Wix's per-instance rate limit.
            let key = instance_id.to_owned();
            if tokio::time::timeout(remaining, self.inner.throttle.until_ready(&key))
                .await
                .is_err()
            {
                return Err(WixError::Transport("throttled past the deadline".into()));
            }
            let mut req = self
                .inner
                .http
                .request(method.clone(), &url)
                .timeout(options.request_timeout.min(remaining));
            if let Some(token) = token {
                req = req.header(AUTHORIZATION, token);
            }
            if let Some(body) = body {
                req = req.json(body);
            }
            let (error, retry_after) = match req.send().await {
                Ok(res) if res.status().is_success() => {
                    return res
                        .bytes()
                        .await
                        .map(|b| b.to_vec())
                        .map_err(|e| WixError::from_transport(&e));
                }
                Ok(res) => {
                    let status = res.status();
                    let retry_after = retry_after(res.headers());
                    let request_id = res
                        .headers()
                        .get("x-wix-request-id")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let bytes = res.bytes().await.unwrap_or_default();
                    let error = WixError::from_response(status.as_u16(), request_id, &bytes);
                    if !(status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()) {
                        return Err(error);
                    }
                    (error, retry_after)
                }
                Err(err) => (WixError::from_transport(&err), None),
            };
            if attempt >= options.max_attempts {
                return Err(WixError::Exhausted {
                    attempts: attempt,
                    last: Box::new(error),
                });
            }
            let delay = retry_after.unwrap_or_else(|| backoff(options, attempt));
            if started.elapsed() + delay >= deadline {
                return Err(WixError::Exhausted {
                    attempts: attempt,
                    last: Box::new(error),
                });
            }
            tracing::info!(status = ?error.status(), attempt, delay_ms = delay.as_millis() as u64, path, "retrying a Wix call");
            tokio::time::sleep(delay).await;
        }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by Wix).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs.min(120)))
}

/// Exponential backoff with full jitter: uniform in [base·2^(n-1) / 2, base·2^(n-1)], capped.
fn backoff(options: &WixClientOptions, attempt: u32) -> Duration {
    let exp = options
        .base_backoff
        .saturating_mul(1 << (attempt - 1).min(16));
    let ceiling = exp.min(options.max_backoff);
    let half = ceiling / 2;
    half + ceiling.mul_f64(fastrand::f64() * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let o = WixClientOptions {
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            ..Default::default()
        };
        for _ in 0..50 {
            let first = backoff(&o, 1);
            assert!(
                first >= Duration::from_millis(50) && first <= Duration::from_millis(100),
                "{first:?}"
            );
            let third = backoff(&o, 3);
            assert!(
                third >= Duration::from_millis(200) && third <= Duration::from_millis(400),
                "{third:?}"
            );
            let tenth = backoff(&o, 10);
            assert!(tenth <= Duration::from_millis(1000), "{tenth:?}");
        }
    }

    #[test]
    fn retry_after_is_seconds() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}
