//! Configuration, read once from the environment (and `.env`) into a typed struct.
//!
//! Anything missing or malformed stops start-up with one line naming the variable, so a bad
//! deployment fails at boot instead of at the first request.

use crate::auth::{WebhookPublicKey, DEV_WEBHOOK_PUBLIC_KEY};
pub use crate::secret::Secret;

/// Development credentials: public on purpose, accepted only with `APP_ENV=dev`.
pub const DEV_APP_ID: &str = "00000000-0000-4000-8000-00000000de00";
pub const DEV_APP_SECRET: &str = "dev-only-secret-never-use-in-production";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/app.db";
pub const DEFAULT_FRAME_ANCESTORS: &str =
    "https://manage.wix.com https://*.wix.com https://*.wixsite.com";
pub const DEFAULT_INSTANCE_MAX_AGE_SECS: u64 = 86_400;
pub const DEFAULT_TOKEN_INFO_CACHE_SECS: u64 = 300;
pub const DEFAULT_OUTBOX_MAX_BACKOFF_SECS: u64 = 60;
pub const DEFAULT_DATA_RETENTION_DAYS: u32 = 30;
pub const DEFAULT_SUBMIT_RATE_PER_MINUTE: u64 = 5;
pub const DEFAULT_SUBMIT_BURST: u64 = 2;
pub const DEFAULT_AUTH_FAILURES_PER_MINUTE: u64 = 30;
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: u64 = 512;
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_BODY_READ_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_MAX_CONNECTIONS: u64 = 10_000;
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 10;
pub const DEFAULT_TOKEN_INFO_PER_MINUTE: u64 = 600;
pub const DEFAULT_SUBMIT_RATE_PER_ADDRESS_PER_MINUTE: u64 = 20;
pub const DEFAULT_SUBMIT_BURST_PER_ADDRESS: u64 = 5;
pub const DEFAULT_OUTBOX_MAX_PENDING_PER_SITE: u64 = 1000;
pub const DEFAULT_OUTBOX_MAX_AGE_HOURS: u64 = 72;
pub const DEFAULT_OUTBOX_POLL_SECS: u64 = 1;
/// A hundred years: larger values are certainly a typo.
pub const MAX_DATA_RETENTION_DAYS: u32 = 36_500;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (default).
    Text,
    /// One JSON object per line, for production log pipelines.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Dev,
    Prod,
}

impl AppEnv {
    /// What an unset `APP_ENV` means: debug builds (`cargo leptos watch`, `make dev`, the test
    /// suite) run as dev, release builds (what gets deployed) as prod. So a release binary
    /// started with no configuration refuses to start instead of serving the dev tools.
    pub fn build_default() -> Self {
        if cfg!(debug_assertions) {
            AppEnv::Dev
        } else {
            AppEnv::Prod
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub env: AppEnv,
    pub app_id: String,
    pub app_secret: Secret,
    /// True when `app_id`/`app_secret` are the built-in development values.
    pub uses_dev_credentials: bool,
    pub database_url: String,
    /// Exact origins (`scheme://host[:port]`) allowed by CORS besides `https://<app id>.wix.run`.
    pub allowed_origins: Vec<String>,
    /// Sources for `Content-Security-Policy: frame-ancestors`.
    pub frame_ancestors: String,
    /// 0 disables the age check.
    pub instance_max_age_secs: u64,
    /// `WIX_API_BASE`; `None` means the default: the in-process fake in dev, Wix in prod.
    pub wix_api_base: Option<String>,
    /// Longest a positive Token Info answer is cached.
    pub token_info_cache_secs: u64,
    /// Cap of the contact-sync retry backoff.
    pub outbox_max_backoff_secs: u64,
    /// Verifies `POST /webhooks/wix` (RS256). In dev, the committed dev key when none is set.
    pub webhook_public_key: WebhookPublicKey,
    /// True when `webhook_public_key` is the committed development key.
    pub uses_dev_webhook_key: bool,
    /// Days between an uninstall and the deletion of the site's data; 0 deletes at once.
    pub data_retention_days: u32,
    /// Feedback submissions per (site, visitor) per minute, and the burst above that rate.
    pub submit_rate_per_minute: u32,
    pub submit_burst: u32,
    /// Failed authentications per client address per minute before answering 429.
    pub auth_failures_per_minute: u32,
    pub request_timeout_secs: u64,
    /// Requests handled at once; more are shed with 503 instead of queueing.
    pub max_concurrent_requests: usize,
    pub log_format: LogFormat,
    /// Proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`); empty: none.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// A connection that has not sent its request headers by then is closed.
    pub header_read_timeout_secs: u64,
    /// A request body not fully received by then is answered 408 `request_timeout`.
    pub body_read_timeout_secs: u64,
    /// Open connections at most; more wait in the listen backlog.
    pub max_connections: usize,
    /// On SIGTERM, in-flight requests get this long before connections are closed.
    pub shutdown_grace_secs: u64,
    /// Token Info look-ups (access-token cache misses) per minute, for the whole process.
    pub token_info_per_minute: u32,
    /// PostgreSQL connections per replica (`DATABASE_POOL_SIZE`).
    pub database_pool_size: u32,
    /// How long a worker owns the outbox rows it claimed (`OUTBOX_LEASE_SECS`).
    pub outbox_lease_secs: u64,
    /// Replicas sharing the per-process budgets (`REPLICAS`): Wix's 200 requests per minute per
    /// instance and `TOKEN_INFO_PER_MINUTE` are divided by it.
    pub replicas: u32,
    /// Feedback submissions per (site, client address) per minute, and the burst above it.
    pub submit_rate_per_address_per_minute: u32,
    pub submit_burst_per_address: u32,
    /// Pending contact syncs per site; past it, new feedback's sync is `skipped`.
    pub outbox_max_pending_per_site: u32,
    /// A contact sync still not done after this many hours is given up (`failed`).
    pub outbox_max_age_hours: u32,
    /// How often the contact-sync worker looks for due rows when no submission wakes it.
    pub outbox_poll_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required when APP_ENV=prod, the default of release builds (set it in the environment or in .env)")]
    Required(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

fn invalid(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        reason: reason.into(),
    }
}

impl Config {
    /// Reads the process environment. Call `dotenvy::dotenv()` first to include `.env`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the config from any variable source (tests pass a map), with an unset `APP_ENV`
    /// meaning what it means for this build ([`AppEnv::build_default`]).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::from_lookup_for(AppEnv::build_default(), get)
    }

    /// [`Self::from_lookup`] with the unset-`APP_ENV` default given: tests check how a release
    /// build (default prod) reads a configuration.
    pub fn from_lookup_for(
        unset_env: AppEnv,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        // Set but empty is a mistake (a template copied without filling it in), not "unset".
        let env = match get("APP_ENV")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None => unset_env,
            Some("dev") => AppEnv::Dev,
            Some("prod") => AppEnv::Prod,
            Some(other) => {
                return Err(invalid(
                    "APP_ENV",
                    format!("expected dev or prod, got {other:?}"),
                ))
            }
        };

        let (app_id, secret, uses_dev_credentials) =
            match (env, var("WIX_APP_ID"), var("WIX_APP_SECRET")) {
                (_, Some(id), Some(secret)) => {
                    let dev = id == DEV_APP_ID || secret == DEV_APP_SECRET;
                    if env == AppEnv::Prod && dev {
                        let name = if id == DEV_APP_ID { "WIX_APP_ID" } else { "WIX_APP_SECRET" };
                        return Err(invalid(
                            name,
                            "this is the built-in development value; use your app's from the Wix Developers Center",
                        ));
                    }
                    (id, secret, dev)
                }
                (AppEnv::Prod, None, _) => return Err(ConfigError::Required("WIX_APP_ID")),
                (AppEnv::Prod, _, None) => return Err(ConfigError::Required("WIX_APP_SECRET")),
                (AppEnv::Dev, None, None) => {
                    (DEV_APP_ID.to_owned(), DEV_APP_SECRET.to_owned(), true)
                }
                // Half of a real app's credentials with half of the dev ones fails every call.
                (AppEnv::Dev, Some(_), None) => {
                    return Err(invalid(
                        "WIX_APP_SECRET",
                        "WIX_APP_ID is set, so WIX_APP_SECRET must be set too (or unset both for the development app)",
                    ))
                }
                (AppEnv::Dev, None, Some(_)) => {
                    return Err(invalid(
                        "WIX_APP_ID",
                        "WIX_APP_SECRET is set, so WIX_APP_ID must be set too (or unset both for the development app)",
                    ))
                }
            };
        if !app_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(invalid(
                "WIX_APP_ID",
                "expected the app id from the Wix app dashboard (letters, digits, '-')",
            ));
        }

        let database_url = var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if crate::store::Engine::of_url(&database_url).is_none() {
            return Err(invalid(
                "DATABASE_URL",
                "expected a sqlite:// URL (e.g. sqlite://data/app.db) or a postgres:// URL",
            ));
        }

        let allowed_origins = var("ALLOWED_ORIGINS")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(|o| parse_origin(o).map_err(|reason| invalid("ALLOWED_ORIGINS", reason)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();

        let mut frame_ancestors =
            var("FRAME_ANCESTORS").unwrap_or_else(|| DEFAULT_FRAME_ANCESTORS.to_owned());
        if frame_ancestors.contains([';', ',', '\r', '\n']) || !frame_ancestors.is_ascii() {
            return Err(invalid(
                "FRAME_ANCESTORS",
                "expected space-separated CSP sources, e.g. https://manage.wix.com",
            ));
        }
        if env == AppEnv::Prod && frame_ancestors.split_whitespace().any(|s| s == "*") {
            return Err(invalid(
                "FRAME_ANCESTORS",
                "'*' lets any site frame the app (clickjacking); list the Wix origins instead",
            ));
        }
        if env == AppEnv::Dev && !frame_ancestors.split_whitespace().any(|s| s == "'self'") {
            // The /dev host page frames the app from its own origin.
            frame_ancestors.push_str(" 'self'");
        }

        let instance_max_age_secs = match var("INSTANCE_MAX_AGE_SECS") {
            None => DEFAULT_INSTANCE_MAX_AGE_SECS,
            Some(v) => v.parse().map_err(|_| {
                invalid(
                    "INSTANCE_MAX_AGE_SECS",
                    format!("expected whole seconds, got {v:?}"),
                )
            })?,
        };
        if env == AppEnv::Prod && instance_max_age_secs == 0 {
            return Err(invalid(
                "INSTANCE_MAX_AGE_SECS",
                "0 (no age check) is for development only; a leaked instance would work forever",
            ));
        }

        let wix_api_base = var("WIX_API_BASE")
            .map(|base| {
                let base = base.trim_end_matches('/').to_owned();
                if base.starts_with("https://") {
                    Ok(base)
                } else if base.starts_with("http://") {
                    if env == AppEnv::Prod && !is_loopback_url(&base) {
                        return Err(invalid(
                            "WIX_API_BASE",
                            "plain http would send the app secret and tokens unencrypted; use https (http only to a loopback address)",
                        ));
                    }
                    Ok(base)
                } else {
                    Err(invalid(
                        "WIX_API_BASE",
                        "expected an http(s) URL, e.g. https://www.wixapis.com",
                    ))
                }
            })
            .transpose()?;
        let token_info_cache_secs =
            seconds(&var, "TOKEN_INFO_CACHE_SECS", DEFAULT_TOKEN_INFO_CACHE_SECS)?;
        let outbox_max_backoff_secs = seconds(
            &var,
            "OUTBOX_MAX_BACKOFF_SECS",
            DEFAULT_OUTBOX_MAX_BACKOFF_SECS,
        )?
        .max(1);
        let (webhook_public_key, uses_dev_webhook_key) = webhook_key(env, &var)?;

        let data_retention_days = match var("DATA_RETENTION_DAYS") {
            None => DEFAULT_DATA_RETENTION_DAYS,
            Some(v) => v
                .parse()
                .ok()
                .filter(|d| *d <= MAX_DATA_RETENTION_DAYS)
                .ok_or_else(|| {
                    invalid(
                        "DATA_RETENTION_DAYS",
                        format!(
                            "expected whole days from 0 to {MAX_DATA_RETENTION_DAYS}, got {v:?}"
                        ),
                    )
                })?,
        };

        let positive = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            let n = seconds(&var, name, default)?;
            if n == 0 {
                return Err(invalid(name, "must be at least 1"));
            }
            Ok(n)
        };
        let small = |name: &'static str, default: u64| -> Result<u32, ConfigError> {
            u32::try_from(positive(name, default)?).map_err(|_| invalid(name, "is too large"))
        };
        let submit_rate_per_minute =
            small("SUBMIT_RATE_PER_MINUTE", DEFAULT_SUBMIT_RATE_PER_MINUTE)?;
        let submit_burst = small("SUBMIT_BURST", DEFAULT_SUBMIT_BURST)?;
        let auth_failures_per_minute =
            small("AUTH_FAILURES_PER_MINUTE", DEFAULT_AUTH_FAILURES_PER_MINUTE)?;
        let request_timeout_secs = positive("REQUEST_TIMEOUT_SECS", DEFAULT_REQUEST_TIMEOUT_SECS)?;
        let max_concurrent_requests = usize::try_from(positive(
            "MAX_CONCURRENT_REQUESTS",
            DEFAULT_MAX_CONCURRENT_REQUESTS,
        )?)
        .map_err(|_| invalid("MAX_CONCURRENT_REQUESTS", "is too large"))?;
        let whole = |name: &'static str, default: u64, what: &str| -> Result<u64, ConfigError> {
            let n = match var(name) {
                None => default,
                Some(v) => v
                    .parse()
                    .map_err(|_| invalid(name, format!("expected {what}, got {v:?}")))?,
            };
            if n == 0 {
                return Err(invalid(name, "must be at least 1"));
            }
            Ok(n)
        };
        let whole_u32 = |name: &'static str, default: u64, what: &str| {
            u32::try_from(whole(name, default, what)?).map_err(|_| invalid(name, "is too large"))
        };
        let header_read_timeout_secs = whole(
            "HEADER_READ_TIMEOUT_SECS",
            DEFAULT_HEADER_READ_TIMEOUT_SECS,
            "whole seconds",
        )?;
        let body_read_timeout_secs = whole(
            "BODY_READ_TIMEOUT_SECS",
            DEFAULT_BODY_READ_TIMEOUT_SECS,
            "whole seconds",
        )?;
        let max_connections = usize::try_from(whole(
            "MAX_CONNECTIONS",
            DEFAULT_MAX_CONNECTIONS,
            "a whole number of connections",
        )?)
        .map_err(|_| invalid("MAX_CONNECTIONS", "is too large"))?;
        let shutdown_grace_secs = whole(
            "SHUTDOWN_GRACE_SECS",
            DEFAULT_SHUTDOWN_GRACE_SECS,
            "whole seconds",
        )?;
        let token_info_per_minute = whole_u32(
            "TOKEN_INFO_PER_MINUTE",
            DEFAULT_TOKEN_INFO_PER_MINUTE,
            "a whole number of look-ups per minute",
        )?;
        let submit_rate_per_address_per_minute = whole_u32(
            "SUBMIT_RATE_PER_ADDRESS_PER_MINUTE",
            DEFAULT_SUBMIT_RATE_PER_ADDRESS_PER_MINUTE,
            "a whole number of submissions per minute",
        )?;
        let submit_burst_per_address = whole_u32(
            "SUBMIT_BURST_PER_ADDRESS",
            DEFAULT_SUBMIT_BURST_PER_ADDRESS,
            "a whole number of submissions",
        )?;
        let database_pool_size =
            whole_u32("DATABASE_POOL_SIZE", 10, "a whole number of connections")?;
        if database_pool_size == 0 {
            return Err(invalid("DATABASE_POOL_SIZE", "must be at least 1"));
        }
        let outbox_lease_secs = whole("OUTBOX_LEASE_SECS", 60, "whole seconds")?;
        if outbox_lease_secs == 0 {
            return Err(invalid("OUTBOX_LEASE_SECS", "must be at least 1"));
        }
        let replicas = whole_u32("REPLICAS", 1, "a whole number of replicas")?;
        if replicas == 0 {
            return Err(invalid("REPLICAS", "must be at least 1"));
        }
        let outbox_max_pending_per_site = whole_u32(
            "OUTBOX_MAX_PENDING_PER_SITE",
            DEFAULT_OUTBOX_MAX_PENDING_PER_SITE,
            "a whole number of rows",
        )?;
        let outbox_max_age_hours = whole_u32(
            "OUTBOX_MAX_AGE_HOURS",
            DEFAULT_OUTBOX_MAX_AGE_HOURS,
            "whole hours",
        )?;
        let outbox_poll_secs = whole(
            "OUTBOX_POLL_SECS",
            DEFAULT_OUTBOX_POLL_SECS,
            "whole seconds",
        )?;
        let trusted_proxies = var("TRUSTED_PROXIES")
            .map(|list| parse_trusted_proxies(&list))
            .transpose()?
            .unwrap_or_default();

        let log_format = match var("LOG_FORMAT")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "LOG_FORMAT",
                    format!("expected text or json, got {other:?}"),
                ))
            }
        };

        Ok(Self {
            env,
            app_id,
            app_secret: Secret::new(secret),
            uses_dev_credentials,
            database_url,
            allowed_origins,
            frame_ancestors,
            instance_max_age_secs,
            wix_api_base,
            token_info_cache_secs,
            outbox_max_backoff_secs,
            webhook_public_key,
            uses_dev_webhook_key,
            data_retention_days,
            submit_rate_per_minute,
            submit_burst,
            auth_failures_per_minute,
            request_timeout_secs,
            max_concurrent_requests,
            log_format,
            trusted_proxies,
            header_read_timeout_secs,
            body_read_timeout_secs,
            max_connections,
            shutdown_grace_secs,
            token_info_per_minute,
            database_pool_size,
            outbox_lease_secs,
            replicas,
            submit_rate_per_address_per_minute,
            submit_burst_per_address,
            outbox_max_pending_per_site,
            outbox_max_age_hours,
            outbox_poll_secs,
        })
    }

    pub fn is_dev(&self) -> bool {
        self.env == AppEnv::Dev
    }

    /// The one rule for the in-process fake Wix (and every endpoint of it that mints
    /// credentials): dev mode, the built-in development app, and no `WIX_API_BASE`. A developer
    /// who sets their own app id and secret talks to real Wix, in dev as in prod.
    /// Builds without the `dev-tools` feature (the production release) have no fake at all.
    pub fn serves_fake_wix(&self) -> bool {
        cfg!(feature = "dev-tools")
            && self.is_dev()
            && self.uses_dev_credentials
            && self.wix_api_base.is_none()
    }

    /// What the store needs from the configuration.
    pub fn store_options(&self) -> crate::store::StoreOptions {
        crate::store::StoreOptions {
            outbox_max_pending_per_site: self.outbox_max_pending_per_site,
            pool_size: self.database_pool_size,
            outbox_lease: std::time::Duration::from_secs(self.outbox_lease_secs),
        }
    }

    /// The app's own Wix-hosted frontend origin.
    pub fn wix_run_origin(&self) -> String {
        format!("https://{}.wix.run", self.app_id.to_ascii_lowercase())
    }
}

/// A whole number of seconds from `name`, or `default` when unset.
fn seconds(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| invalid(name, format!("expected whole seconds, got {v:?}"))),
    }
}

/// `WIX_WEBHOOK_PUBLIC_KEY` (PEM text) or `WIX_WEBHOOK_PUBLIC_KEY_FILE` (a path to it); required
/// in prod, where the committed development key is refused; the development key otherwise.
fn webhook_key(
    env: AppEnv,
    var: &impl Fn(&str) -> Option<String>,
) -> Result<(WebhookPublicKey, bool), ConfigError> {
    const TEXT: &str = "WIX_WEBHOOK_PUBLIC_KEY";
    const FILE: &str = "WIX_WEBHOOK_PUBLIC_KEY_FILE";
    let configured = match (var(TEXT), var(FILE)) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                FILE,
                format!("set either {TEXT} or {FILE}, not both"),
            ))
        }
        (Some(pem), None) => Some((pem, TEXT)),
        (None, Some(path)) => {
            let pem = std::fs::read_to_string(&path)
                .map_err(|e| invalid(FILE, format!("cannot read {path:?}: {e}")))?;
            Some((pem, FILE))
        }
        (None, None) => None,
    };
    match (env, configured) {
        (_, Some((pem, name))) => {
            let key = WebhookPublicKey::from_pem(&pem).map_err(|reason| invalid(name, reason))?;
            if env == AppEnv::Prod && key.is_dev_key() {
                return Err(invalid(
                    name,
                    "this is the committed development key; use the public key from your app's Webhooks page in the Wix dashboard",
                ));
            }
            let is_dev = key.is_dev_key();
            Ok((key, is_dev))
        }
        (AppEnv::Prod, None) => Err(ConfigError::Required(TEXT)),
        (AppEnv::Dev, None) => {
            let key = WebhookPublicKey::from_pem(DEV_WEBHOOK_PUBLIC_KEY)
                .map_err(|reason| invalid(TEXT, format!("built-in development key: {reason}")))?;
            Ok((key, true))
        }
    }
}

/// `TRUSTED_PROXIES`: comma-separated IPs or CIDRs, IPv4 or IPv6.
fn parse_trusted_proxies(list: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    invalid(
                        "TRUSTED_PROXIES",
                        format!("expected IP addresses or CIDRs like 10.0.0.0/8, got {p:?}"),
                    )
                })
        })
        .collect()
}

/// `http://localhost[:port]…`, `http://127.x.x.x…` or `http://[::1]…`.
fn is_loopback_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Accepts `scheme://host[:port]` and nothing else (no path, no trailing slash).
fn parse_origin(origin: &str) -> Result<String, String> {
    let (scheme, rest) = origin
        .split_once("://")
        .ok_or_else(|| format!("{origin:?} is not an origin like https://example.com"))?;
    let host_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !matches!(scheme, "http" | "https") || !host_ok {
        return Err(format!(
            "{origin:?} is not an origin like https://example.com (no path, no trailing slash)"
        ));
    }
    Ok(format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn dev_defaults() {
        let c = load(&[]).unwrap();
        assert_eq!(c.env, AppEnv::Dev);
        assert!(c.uses_dev_credentials);
        assert_eq!(c.app_id, DEV_APP_ID);
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.instance_max_age_secs, 86_400);
        assert!(c.frame_ancestors.ends_with("'self'"));
        assert!(!format!("{c:?}").contains(DEV_APP_SECRET));
    }

    const TEST_PUBLIC_KEY: &str = include_str!("../../tests/fixtures/webhook-test-public.pem");

    fn prod(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut vars = vec![
            ("APP_ENV", "prod"),
            ("WIX_APP_ID", "abc"),
            ("WIX_APP_SECRET", "s"),
        ];
        vars.extend_from_slice(extra);
        load(&vars)
    }

    #[test]
    fn webhook_key_and_retention() {
        let c = load(&[]).unwrap();
        assert!(c.uses_dev_webhook_key);
        assert!(c.webhook_public_key.is_dev_key());
        assert_eq!(c.data_retention_days, DEFAULT_DATA_RETENTION_DAYS);

        assert_eq!(
            prod(&[]).unwrap_err(),
            ConfigError::Required("WIX_WEBHOOK_PUBLIC_KEY")
        );
        let one_line = TEST_PUBLIC_KEY.trim().replace('\n', "\\n");
        let c = prod(&[
            ("WIX_WEBHOOK_PUBLIC_KEY", &one_line),
            ("DATA_RETENTION_DAYS", "0"),
        ])
        .unwrap();
        assert!(!c.uses_dev_webhook_key);
        assert_eq!(c.data_retention_days, 0);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, TEST_PUBLIC_KEY).unwrap();
        let path = path.display().to_string();
        assert!(prod(&[("WIX_WEBHOOK_PUBLIC_KEY_FILE", &path)]).is_ok());

        for (vars, name) in [
            (
                vec![("WIX_WEBHOOK_PUBLIC_KEY", DEV_WEBHOOK_PUBLIC_KEY)],
                "WIX_WEBHOOK_PUBLIC_KEY",
            ),
            (
                vec![("WIX_WEBHOOK_PUBLIC_KEY", "not a key")],
                "WIX_WEBHOOK_PUBLIC_KEY",
            ),
            (
                vec![("WIX_WEBHOOK_PUBLIC_KEY_FILE", "/nonexistent/key.pem")],
                "WIX_WEBHOOK_PUBLIC_KEY_FILE",
            ),
            (
                vec![
                    ("WIX_WEBHOOK_PUBLIC_KEY", TEST_PUBLIC_KEY),
                    ("WIX_WEBHOOK_PUBLIC_KEY_FILE", path.as_str()),
                ],
                "WIX_WEBHOOK_PUBLIC_KEY_FILE",
            ),
            (
                vec![
                    ("WIX_WEBHOOK_PUBLIC_KEY", TEST_PUBLIC_KEY),
                    ("DATA_RETENTION_DAYS", "-1"),
                ],
                "DATA_RETENTION_DAYS",
            ),
            (
                vec![
                    ("WIX_WEBHOOK_PUBLIC_KEY", TEST_PUBLIC_KEY),
                    ("DATA_RETENTION_DAYS", "36501"),
                ],
                "DATA_RETENTION_DAYS",
            ),
        ] {
            match prod(&vars) {
                Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name, "{vars:?}"),
                other => panic!("{vars:?}: {other:?}"),
            }
        }
        // The dev key is fine in dev, when named explicitly.
        assert!(load(&[("WIX_WEBHOOK_PUBLIC_KEY", DEV_WEBHOOK_PUBLIC_KEY)]).is_ok());
    }

    #[test]
    fn prod_requires_credentials() {
        assert_eq!(
            load(&[("APP_ENV", "prod")]).unwrap_err(),
            ConfigError::Required("WIX_APP_ID")
        );
        assert_eq!(
            load(&[("APP_ENV", "prod"), ("WIX_APP_ID", "abc")]).unwrap_err(),
            ConfigError::Required("WIX_APP_SECRET")
        );
        assert_eq!(
            load(&[
                ("APP_ENV", "prod"),
                ("WIX_APP_ID", "abc"),
                ("WIX_APP_SECRET", "s"),
            ])
            .unwrap_err(),
            ConfigError::Required("WIX_WEBHOOK_PUBLIC_KEY")
        );
        let c = prod(&[("WIX_WEBHOOK_PUBLIC_KEY", TEST_PUBLIC_KEY)]).unwrap();
        assert!(!c.uses_dev_credentials);
        assert_eq!(c.frame_ancestors, DEFAULT_FRAME_ANCESTORS);
    }

    #[test]
    fn bad_values_are_named() {
        for (name, value) in [
            ("APP_ENV", "staging"),
            (
                "ALLOWED_ORIGINS",
                "https://ok.example, https://bad.example/path",
            ),
            ("FRAME_ANCESTORS", "https://a; script-src *"),
            ("INSTANCE_MAX_AGE_SECS", "-1"),
            ("DATABASE_URL", "mysql://x"),
            ("WIX_API_BASE", "www.wixapis.com"),
            ("OUTBOX_MAX_BACKOFF_SECS", "soon"),
            ("TOKEN_INFO_CACHE_SECS", "1.5"),
            ("SUBMIT_RATE_PER_MINUTE", "0"),
            ("REQUEST_TIMEOUT_SECS", "x"),
            ("MAX_CONCURRENT_REQUESTS", "0"),
            ("LOG_FORMAT", "xml"),
        ] {
            match load(&[(name, value)]) {
                Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}={value}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_release_build_without_app_env_is_prod() {
        let none = |_: &str| None;
        assert_eq!(
            Config::from_lookup_for(AppEnv::Prod, none).unwrap_err(),
            ConfigError::Required("WIX_APP_ID")
        );
        let c = Config::from_lookup_for(AppEnv::Dev, none).unwrap();
        assert_eq!(c.env, AppEnv::Dev);
        // This test binary is a debug build: unset means dev here.
        assert_eq!(AppEnv::build_default(), AppEnv::Dev);
    }

    #[test]
    fn empty_or_unknown_app_env_is_an_error() {
        for value in ["", "  ", "production", "staging"] {
            match load(&[("APP_ENV", value)]) {
                Err(ConfigError::Invalid { name, .. }) => assert_eq!(name, "APP_ENV"),
                other => panic!("APP_ENV={value:?}: {other:?}"),
            }
        }
        assert_eq!(load(&[("APP_ENV", "DEV")]).unwrap().env, AppEnv::Dev);
    }

    #[test]
    fn the_fake_wix_needs_dev_mode_and_the_dev_app() {
        assert_eq!(
            load(&[]).unwrap().serves_fake_wix(),
            cfg!(feature = "dev-tools")
        );
        let own = [("WIX_APP_ID", "my-app"), ("WIX_APP_SECRET", "my-secret")];
        let c = load(&own).unwrap();
        assert!(!c.uses_dev_credentials && !c.serves_fake_wix());
        assert!(!load(&[("WIX_API_BASE", "http://127.0.0.1:9")])
            .unwrap()
            .serves_fake_wix());
        // Half a set of credentials is refused, naming the missing half.
        match load(&[("WIX_APP_ID", "my-app")]) {
            Err(ConfigError::Invalid { name, .. }) => assert_eq!(name, "WIX_APP_SECRET"),
            other => panic!("{other:?}"),
        }
        match load(&[("WIX_APP_SECRET", "s")]) {
            Err(ConfigError::Invalid { name, .. }) => assert_eq!(name, "WIX_APP_ID"),
            other => panic!("{other:?}"),
        }
        let key = [("WIX_WEBHOOK_PUBLIC_KEY", TEST_PUBLIC_KEY)];
        assert!(!prod(&key).unwrap().serves_fake_wix());
    }

    #[test]
    fn prod_refuses_unsafe_settings() {
        let key = ("WIX_WEBHOOK_PUBLIC_KEY", TEST_PUBLIC_KEY);
        for (name, value) in [
            ("INSTANCE_MAX_AGE_SECS", "0"),
            ("FRAME_ANCESTORS", "*"),
            ("FRAME_ANCESTORS", "https://manage.wix.com *"),
            ("WIX_API_BASE", "http://wix-proxy.internal"),
            ("WIX_API_BASE", "http://10.0.0.5:8080"),
            ("WIX_APP_ID", DEV_APP_ID),
            ("WIX_APP_SECRET", DEV_APP_SECRET),
        ] {
            match prod(&[key, (name, value)]) {
                Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name, "{value}"),
                other => panic!("{name}={value}: {other:?}"),
            }
            // Dev allows each of them.
            let dev = if name == "WIX_APP_ID" || name == "WIX_APP_SECRET" {
                load(&[])
            } else {
                load(&[(name, value)])
            };
            assert!(dev.is_ok(), "{name}={value} in dev: {dev:?}");
        }
        for base in [
            "http://127.0.0.1:9000",
            "http://localhost:8080/",
            "http://[::1]:80",
            "https://proxy.example",
        ] {
            let c = prod(&[key, ("WIX_API_BASE", base)]).unwrap();
            assert_eq!(c.wix_api_base.as_deref(), Some(base.trim_end_matches('/')));
        }
        assert_eq!(
            prod(&[key, ("FRAME_ANCESTORS", "https://*.wix.com")])
                .unwrap()
                .frame_ancestors,
            "https://*.wix.com"
        );
    }

    #[test]
    fn a_re_encoded_dev_key_is_still_refused_in_prod() {
        const PKCS1: &str = include_str!("../../tests/fixtures/webhook-dev-public-pkcs1.pem");
        let bare: String = DEV_WEBHOOK_PUBLIC_KEY
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        for copy in [
            PKCS1,
            bare.as_str(),
            &DEV_WEBHOOK_PUBLIC_KEY.replace('\n', "\\n"),
        ] {
            assert!(WebhookPublicKey::from_pem(copy).unwrap().is_dev_key());
            match prod(&[("WIX_WEBHOOK_PUBLIC_KEY", copy)]) {
                Err(ConfigError::Invalid { name, .. }) => {
                    assert_eq!(name, "WIX_WEBHOOK_PUBLIC_KEY")
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(!WebhookPublicKey::from_pem(TEST_PUBLIC_KEY)
            .unwrap()
            .is_dev_key());
    }

    #[test]
    fn trusted_proxies_and_serving_limits() {
        let c = load(&[("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7 ,::1, fd00::/8")]).unwrap();
        assert_eq!(c.trusted_proxies.len(), 4);
        assert!(c.trusted_proxies[1].contains(&"192.168.1.7".parse::<std::net::IpAddr>().unwrap()));
        let d = load(&[]).unwrap();
        assert!(d.trusted_proxies.is_empty());
        assert_eq!(
            (
                d.header_read_timeout_secs,
                d.body_read_timeout_secs,
                d.max_connections
            ),
            (10, 10, 10_000)
        );
        assert_eq!(
            (d.token_info_per_minute, d.outbox_max_pending_per_site),
            (600, 1000)
        );
        for (name, value) in [
            ("TRUSTED_PROXIES", "10.0.0.0/33"),
            ("TRUSTED_PROXIES", "proxy.internal"),
            ("MAX_CONNECTIONS", "0"),
            ("HEADER_READ_TIMEOUT_SECS", "ten"),
            ("TOKEN_INFO_PER_MINUTE", "1.5"),
            ("OUTBOX_MAX_AGE_HOURS", "0"),
        ] {
            match load(&[(name, value)]) {
                Err(ConfigError::Invalid { name: n, reason }) => {
                    assert_eq!(n, name);
                    assert!(
                        !reason.contains("whole seconds") || name.ends_with("_SECS"),
                        "{reason}"
                    );
                }
                other => panic!("{name}={value}: {other:?}"),
            }
        }
    }

    #[test]
    fn origins_are_normalised() {
        let c = load(&[(
            "ALLOWED_ORIGINS",
            "https://Shop.Example.com, http://localhost:8080",
        )])
        .unwrap();
        assert_eq!(
            c.allowed_origins,
            ["https://shop.example.com", "http://localhost:8080"]
        );
    }
}
