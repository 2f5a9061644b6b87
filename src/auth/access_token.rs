//! Wix access tokens (what `@wix/sdk`'s `fetchWithAuth` sends), verified with Token Info.
//!
//! `POST /oauth2/token-info` answers who the token belongs to. A positive answer is cached until
//! the token's `exp` (at most `max_ttl`), a negative one briefly, keyed by SHA-256 of the token so
//! raw tokens are never kept. Concurrent requests with the same uncached token share one Token
//! Info call (moka's `try_get_with`), the cache is bounded, and cache misses are rate-limited per
//! client so a flood of garbage tokens cannot become a flood of calls to Wix.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, RateLimiter};
use moka::future::Cache;
use moka::Expiry;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{AuthError, TenantId, VerifiedIdentity};
use crate::limiter::{check_global, quota, KeyedLimiter};
use crate::model::Role;

/// Client addresses the miss limiter remembers at most.
const MAX_CLIENT_KEYS: u64 = 200_000;

#[derive(Debug, Clone)]
pub struct AccessTokenOptions {
    /// Longest a positive answer is trusted, even if the token lives longer.
    pub max_ttl: Duration,
    /// How long a rejected token is remembered.
    pub negative_ttl: Duration,
    pub cache_capacity: u64,
    /// Token Info calls (cache misses) allowed per client address per minute.
    pub misses_per_client_per_minute: u32,
    /// Token Info calls allowed per minute for the whole process (`TOKEN_INFO_PER_MINUTE`), so
    /// junk tokens cannot get the app throttled by Wix.
    pub calls_per_minute: u32,
    pub request_timeout: Duration,
}

impl Default for AccessTokenOptions {
    fn default() -> Self {
        Self {
            max_ttl: Duration::from_secs(300),
            negative_ttl: Duration::from_secs(30),
            cache_capacity: 50_000,
            misses_per_client_per_minute: 60,
            calls_per_minute: 600,
            request_timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Verdict {
    Valid {
        instance_id: String,
        role: Role,
        subject: Option<String>,
        ttl: Duration,
    },
    Rejected(AuthError),
}

struct VerdictExpiry {
    negative_ttl: Duration,
}

impl Expiry<[u8; 32], Verdict> for VerdictExpiry {
    fn expire_after_create(
        &self,
        _key: &[u8; 32],
        value: &Verdict,
        _now: Instant,
    ) -> Option<Duration> {
        Some(match value {
            Verdict::Valid { ttl, .. } => *ttl,
            Verdict::Rejected(_) => self.negative_ttl,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenInfo {
    #[serde(default)]
    active: bool,
    #[serde(default)]
    subject_type: Option<String>,
    #[serde(default)]
    subject_id: Option<String>,
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    instance_id: Option<String>,
}

#[derive(Clone)]
pub struct AccessTokenVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    url: String,
    app_id: String,
    cache: Cache<[u8; 32], Verdict>,
    misses: KeyedLimiter<IpAddr>,
    budget: DefaultDirectRateLimiter,
    options: AccessTokenOptions,
}

impl AccessTokenVerifier {
    pub fn new(api_base: &str, app_id: &str, options: AccessTokenOptions) -> Self {
        let per_client = options.misses_per_client_per_minute;
        let budget = options.calls_per_minute;
        let http = reqwest::Client::builder()
            .timeout(options.request_timeout)
            .build()
            .unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                http,
                url: format!("{}/oauth2/token-info", api_base.trim_end_matches('/')),
                app_id: app_id.to_owned(),
                cache: Cache::builder()
                    .max_capacity(options.cache_capacity)
                    .expire_after(VerdictExpiry {
                        negative_ttl: options.negative_ttl,
                    })
                    .build(),
                misses: KeyedLimiter::new(quota(per_client, per_client), MAX_CLIENT_KEYS),
                budget: RateLimiter::direct(quota(budget, budget)),
                options,
            }),
        }
    }

    /// Verifies `token` for a request from `client` (used only to rate-limit cache misses).
    pub async fn verify(
        &self,
        token: &str,
        client: Option<IpAddr>,
    ) -> Result<VerifiedIdentity, AuthError> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let verdict = match self.inner.cache.get(&key).await {
            Some(v) => v,
            None => {
                if let Some(ip) = client {
                    if self.inner.misses.check(&ip).is_err() {
                        return Err(AuthError::TooManyAttempts);
                    }
                }
                if let Err(secs) = check_global(&self.inner.budget) {
                    return Err(AuthError::Busy {
                        retry_after_secs: secs,
                    });
                }
                let this = self.clone();
                let token = token.to_owned();
                self.inner
                    .cache
                    .try_get_with(key, async move { this.ask_wix(&token).await })
                    .await
                    .map_err(|e: Arc<AuthError>| (*e).clone())?
            }
        };
        match verdict {
            Verdict::Valid {
                instance_id,
                role,
                subject,
                ..
            } => Ok(VerifiedIdentity::new(
                TenantId::verified(instance_id),
                role,
                subject,
            )),
            Verdict::Rejected(err) => Err(err),
        }
    }

    /// One Token Info call. Err only for transient trouble (not cached); a definite "no" is an
    /// `Ok(Verdict::Rejected)` so it is cached.
    async fn ask_wix(&self, token: &str) -> Result<Verdict, AuthError> {
        let res = self
            .inner
            .http
            .post(&self.inner.url)
            .json(&serde_json::json!({ "token": token }))
            .send()
            .await
            .map_err(|_| AuthError::VerifierUnavailable)?;
        let status = res.status();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(AuthError::VerifierUnavailable);
        }
        if !status.is_success() {
            // 4xx: Wix does not know this token.
            return Ok(Verdict::Rejected(AuthError::InvalidAccessToken(
                "the token is not active",
            )));
        }
        let body = res
            .bytes()
            .await
            .map_err(|_| AuthError::VerifierUnavailable)?;
        verdict_from_body(
            &body,
            &self.inner.app_id,
            self.inner.options.max_ttl,
            chrono::Utc::now().timestamp(),
        )
    }

    #[cfg(test)]
    fn verdict(&self, info: TokenInfo, now: i64) -> Verdict {
        verdict_from_info(info, &self.inner.app_id, self.inner.options.max_ttl, now)
    }
}

/// Judges a Token Info answer body (bytes as received) for `app_id` as of `now` (Unix seconds).
/// A body that is not the expected JSON is transient trouble (`Err`, not cached); everything
/// else is a verdict. Pure, so the fuzzers and property tests can drive it with any bytes.
pub(crate) fn verdict_from_body(
    body: &[u8],
    app_id: &str,
    max_ttl: Duration,
    now: i64,
) -> Result<Verdict, AuthError> {
    let info: TokenInfo =
        serde_json::from_slice(body).map_err(|_| AuthError::VerifierUnavailable)?;
    Ok(verdict_from_info(info, app_id, max_ttl, now))
}

fn verdict_from_info(info: TokenInfo, app_id: &str, max_ttl: Duration, now: i64) -> Verdict {
    let reject = |why| Verdict::Rejected(AuthError::InvalidAccessToken(why));
    if !info.active {
        return reject("the token is not active");
    }
    if info.client_id.as_deref() != Some(app_id) {
        return reject("the token was issued to another app");
    }
    let Some(instance_id) = info.instance_id.filter(|i| !i.trim().is_empty()) else {
        return reject("the token has no instanceId");
    };
    let Some(exp) = info.exp.filter(|exp| *exp > now) else {
        return reject("the token has expired");
    };
    let role = match info.subject_type.as_deref() {
        Some("USER") => Role::Owner,
        Some("MEMBER") => Role::Member,
        Some("VISITOR") => Role::Visitor,
        _ => return reject("the token does not belong to a user, member or visitor"),
    };
    // `exp - now` overflows i64 for a far-future `exp` and a negative `now`; exp > now here, so
    // the difference is positive and fits a u64.
    let remaining = exp.abs_diff(now);
    let ttl = Duration::from_secs(remaining).min(max_ttl);
    Verdict::Valid {
        instance_id,
        role,
        subject: info.subject_id,
        ttl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier() -> AccessTokenVerifier {
        AccessTokenVerifier::new("http://127.0.0.1:9", "app-1", AccessTokenOptions::default())
    }

    fn info(
        active: bool,
        client: &str,
        instance: Option<&str>,
        exp: i64,
        subject: &str,
    ) -> TokenInfo {
        TokenInfo {
            active,
            subject_type: Some(subject.into()),
            subject_id: Some("s".into()),
            exp: Some(exp),
            client_id: Some(client.into()),
            instance_id: instance.map(Into::into),
        }
    }

    fn rejected(v: Verdict) -> Option<AuthError> {
        match v {
            Verdict::Rejected(e) => Some(e),
            Verdict::Valid { .. } => None,
        }
    }

    #[test]
    fn judges_token_info_answers() {
        let v = verifier();
        let now = 1_000;
        for (subject, role) in [
            ("USER", Role::Owner),
            ("MEMBER", Role::Member),
            ("VISITOR", Role::Visitor),
        ] {
            match v.verdict(info(true, "app-1", Some("i"), now + 60, subject), now) {
                Verdict::Valid {
                    role: r,
                    ttl,
                    instance_id,
                    ..
                } => {
                    assert_eq!((r, instance_id.as_str()), (role, "i"));
                    assert_eq!(ttl, Duration::from_secs(60));
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(
            rejected(v.verdict(info(false, "app-1", Some("i"), now + 60, "USER"), now)).is_some()
        );
        assert!(
            rejected(v.verdict(info(true, "other-app", Some("i"), now + 60, "USER"), now))
                .is_some()
        );
        assert!(rejected(v.verdict(info(true, "app-1", None, now + 60, "USER"), now)).is_some());
        assert!(
            rejected(v.verdict(info(true, "app-1", Some(" "), now + 60, "USER"), now)).is_some()
        );
        assert!(rejected(v.verdict(info(true, "app-1", Some("i"), now, "USER"), now)).is_some());
        for subject in ["APP", "UNKNOWN", ""] {
            assert!(
                rejected(v.verdict(info(true, "app-1", Some("i"), now + 60, subject), now))
                    .is_some()
            );
        }
        // A long-lived token is trusted for at most max_ttl.
        match v.verdict(info(true, "app-1", Some("i"), now + 86_400, "USER"), now) {
            Verdict::Valid { ttl, .. } => assert_eq!(ttl, Duration::from_secs(300)),
            other => panic!("{other:?}"),
        }
    }
}
