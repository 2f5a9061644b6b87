//! One logical request on the wire: throttled per instance to Wix's rate limit, retried on 429,
//! 5xx and transport errors with exponential backoff and jitter (or the server's `Retry-After`),
//! bounded by an attempt budget and an overall deadline, and stopped as soon as the site removes
//! the app.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::{WixClient, WixClientOptions, WixError};

/// The longest `Retry-After` honoured; a larger one is cut to this.
const MAX_RETRY_AFTER_SECS: u64 = 120;

impl WixClient {
    /// One logical request: throttled, retried on 429/5xx/transport errors with backoff and
    /// jitter (or `Retry-After`), bounded by attempts and `deadline`.
    pub(super) async fn send_with_retries(
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
    Some(Duration::from_secs(secs.min(MAX_RETRY_AFTER_SECS)))
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
