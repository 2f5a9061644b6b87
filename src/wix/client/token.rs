//! The app token for an instance: `POST /oauth2/token` with the app's client credentials,
//! cached in memory and in the database (restarts and other replicas reuse it), refreshed
//! [`WixClientOptions::refresh_before`](super::WixClientOptions::refresh_before) before it
//! expires, fetched by one request however many calls need it at once, and dropped when Wix
//! refuses it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::ops::compute::Op;
use moka::Expiry;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{WixClient, WixError};

/// Assumed when a token answer has no `expires_in` (Wix's app tokens live 4 hours).
const DEFAULT_EXPIRES_IN_SECS: i64 = 4 * 3600;

/// A cached app token.
#[derive(Clone, Debug)]
pub(super) struct AppToken {
    pub(super) value: Arc<str>,
    /// When the cache must stop handing it out (expiry minus the refresh margin).
    fresh_for: Duration,
}

/// Each token leaves the cache when it stops being fresh, not after a fixed time.
pub(super) struct TokenExpiry;

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
    /// Forgets `failed` (Wix refused it) unless another caller has already replaced it: many
    /// calls can get a 401 for the same revoked token, and only the first replacement counts.
    pub(super) async fn drop_failed_token(&self, instance_id: &str, failed: &Arc<str>) {
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

    /// The app token for an instance: memory, then database, then Wix, one request per instance
    /// however many callers wait for it.
    pub(super) async fn app_token(&self, instance_id: &str) -> Result<Arc<str>, WixError> {
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
        let fresh = |stored: Option<(String, i64)>| match stored {
            Some((value, expires_at)) if expires_at - margin > now => Some(AppToken {
                value: value.into(),
                fresh_for: Duration::from_secs((expires_at - margin - now) as u64),
            }),
            _ => None,
        };
        let tokens = self.inner.store.app_tokens();
        match tokens.get(instance_id).await {
            Ok(stored) => {
                if let Some(token) = fresh(stored) {
                    return Ok(token);
                }
            }
            Err(err) => tracing::warn!(error = %err, "app token cache read failed; asking Wix"),
        }
        // Replicas (PostgreSQL): one fetches, the others wait and then read what it stored.
        let mut lock = match tokens.lock_for_fetch(instance_id).await {
            Ok(lock) => lock,
            Err(err) => {
                tracing::warn!(error = %err, "app token lock failed; asking Wix");
                None
            }
        };
        if let Some(lock) = lock.as_mut() {
            match lock.stored().await {
                Ok(stored) => {
                    if let Some(token) = fresh(stored) {
                        return Ok(token);
                    }
                }
                Err(err) => tracing::warn!(error = %err, "app token re-read failed; asking Wix"),
            }
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
        let expires_in = token.expires_in.unwrap_or(DEFAULT_EXPIRES_IN_SECS).max(1);
        let expires_at = now + expires_in;
        // Refresh early, but never keep a token for less than half its life.
        let margin = margin.min(expires_in / 2);
        // Not stored for an instance removed meanwhile (checked in the same statement).
        let stored = match lock {
            Some(lock) => lock.finish(&token.access_token, expires_at).await,
            None => {
                tokens
                    .put_unless_removed(instance_id, &token.access_token, expires_at)
                    .await
            }
        };
        if let Err(err) = stored {
            tracing::warn!(error = %err, "could not persist the app token");
        }
        tracing::debug!(expires_in, "fetched an app token");
        Ok(AppToken {
            value: token.access_token.into(),
            fresh_for: Duration::from_secs((expires_in - margin).max(1) as u64),
        })
    }
}
