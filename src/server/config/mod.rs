//! Configuration, read once from the environment (and `.env`) into a typed struct.
//!
//! Anything missing or malformed stops start-up with one line naming the variable, so a bad
//! deployment fails at boot instead of at the first request.
//!
//! This file holds [`Config`], its error, and `EnvRules`: the one place that decides every
//! difference between `APP_ENV=dev` and `APP_ENV=prod` (dev defaults, prod refusals). The
//! sub-configs, one file each, read their own variables and ask `EnvRules` whenever the
//! environment matters; `parse.rs` holds the helpers they share.

mod http;
mod outbox;
mod parse;
mod plans;
mod rate_limits;
mod store;
#[cfg(test)]
mod tests;
mod webhooks;
mod wix;

use crate::auth::{WebhookPublicKey, DEV_WEBHOOK_PUBLIC_KEY};
pub use crate::secret::Secret;
pub use http::{
    HttpConfig, DEFAULT_BODY_READ_TIMEOUT_SECS, DEFAULT_FRAME_ANCESTORS,
    DEFAULT_HEADER_READ_TIMEOUT_SECS, DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_REQUEST_TIMEOUT_SECS, DEFAULT_SHUTDOWN_GRACE_SECS,
};
pub use outbox::{
    OutboxConfig, DEFAULT_OUTBOX_MAX_AGE_HOURS, DEFAULT_OUTBOX_MAX_BACKOFF_SECS,
    DEFAULT_OUTBOX_MAX_PENDING_PER_SITE, DEFAULT_OUTBOX_POLL_SECS,
};
use parse::Vars;
pub use plans::{PlanConfig, DEFAULT_FREE_MONTHLY_SUBMISSIONS};
pub use rate_limits::{
    RateLimitConfig, DEFAULT_AUTH_FAILURES_PER_MINUTE, DEFAULT_SUBMIT_BURST,
    DEFAULT_SUBMIT_BURST_PER_ADDRESS, DEFAULT_SUBMIT_RATE_PER_ADDRESS_PER_MINUTE,
    DEFAULT_SUBMIT_RATE_PER_MINUTE,
};
pub use store::{
    StoreConfig, DEFAULT_DATABASE_URL, DEFAULT_DATA_RETENTION_DAYS, MAX_DATA_RETENTION_DAYS,
};
pub use webhooks::WebhookConfig;
pub use wix::{
    WixConfig, DEFAULT_INSTANCE_MAX_AGE_SECS, DEFAULT_TOKEN_INFO_CACHE_SECS,
    DEFAULT_TOKEN_INFO_PER_MINUTE, DEV_APP_ID, DEV_APP_SECRET,
};

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
    /// `APP_ENV`.
    pub env: AppEnv,
    /// `LOG_FORMAT`.
    pub log_format: LogFormat,
    /// The app's Wix credentials, `WIX_API_BASE`, instance and Token Info settings.
    pub wix: WixConfig,
    /// The key verifying `POST /webhooks/wix`.
    pub webhooks: WebhookConfig,
    /// `DATABASE_URL` and data retention.
    pub store: StoreConfig,
    /// CORS, `frame-ancestors`, trusted proxies, timeouts, concurrency and connections.
    pub http: HttpConfig,
    /// Submission and failed-authentication rate limits.
    pub rate_limits: RateLimitConfig,
    /// The contact-sync outbox.
    pub outbox: OutboxConfig,
    /// Premium plan ids and the free plan's limits.
    pub plans: PlanConfig,
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
        let vars = Vars::new(&get);
        let env = app_env(vars, unset_env)?;
        let rules = EnvRules { env };
        Ok(Self {
            env,
            wix: WixConfig::from_lookup(vars, rules)?,
            webhooks: WebhookConfig::from_lookup(vars, rules)?,
            store: StoreConfig::from_lookup(vars)?,
            http: HttpConfig::from_lookup(vars, rules)?,
            rate_limits: RateLimitConfig::from_lookup(vars)?,
            outbox: OutboxConfig::from_lookup(vars)?,
            plans: PlanConfig::from_lookup(vars)?,
            log_format: log_format(vars)?,
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
            && self.wix.uses_dev_credentials
            && self.wix.api_base.is_none()
    }

    /// What the store needs from the configuration.
    pub fn store_options(&self) -> crate::store::StoreOptions {
        crate::store::StoreOptions {
            outbox_max_pending_per_site: self.outbox.max_pending_per_site,
            pool_size: self.store.pool_size,
            outbox_lease: std::time::Duration::from_secs(self.store.outbox_lease_secs),
        }
    }

    /// The app's own Wix-hosted frontend origin.
    pub fn wix_run_origin(&self) -> String {
        format!("https://{}.wix.run", self.wix.app_id.to_ascii_lowercase())
    }
}

/// `APP_ENV`: `dev` or `prod`, any case; unset means `unset_env`. Set but empty is a mistake
/// (a template copied without filling it in), not "unset".
fn app_env(vars: Vars, unset_env: AppEnv) -> Result<AppEnv, ConfigError> {
    match vars
        .raw("APP_ENV")
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None => Ok(unset_env),
        Some("dev") => Ok(AppEnv::Dev),
        Some("prod") => Ok(AppEnv::Prod),
        Some(other) => Err(invalid(
            "APP_ENV",
            format!("expected dev or prod, got {other:?}"),
        )),
    }
}

/// `LOG_FORMAT`: `text` (the default) or `json`, any case.
fn log_format(vars: Vars) -> Result<LogFormat, ConfigError> {
    match vars
        .get("LOG_FORMAT")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("text") => Ok(LogFormat::Text),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => Err(invalid(
            "LOG_FORMAT",
            format!("expected text or json, got {other:?}"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Dev and prod: every difference, decided here.
// ---------------------------------------------------------------------------------------------

/// Every start-up difference between dev and prod. The sub-configs parse their variables and
/// hand the values that depend on the environment to one of these methods: in dev each supplies
/// a development default or allows a shortcut, in prod it refuses what would be unsafe there.
/// (At run time, [`Config::serves_fake_wix`] and [`Config::is_dev`] answer the rest.)
#[derive(Debug, Clone, Copy)]
struct EnvRules {
    env: AppEnv,
}

impl EnvRules {
    fn prod(self) -> bool {
        self.env == AppEnv::Prod
    }

    /// `WIX_APP_ID` and `WIX_APP_SECRET` (as set, trimmed) to `(id, secret, dev credentials?)`.
    /// Prod requires both and refuses the development values; dev uses the development app when
    /// both are unset and refuses half a set.
    fn credentials(
        self,
        id: Option<String>,
        secret: Option<String>,
    ) -> Result<(String, String, bool), ConfigError> {
        match (self.env, id, secret) {
            (_, Some(id), Some(secret)) => {
                let dev = id == DEV_APP_ID || secret == DEV_APP_SECRET;
                if self.prod() && dev {
                    let name = if id == DEV_APP_ID { "WIX_APP_ID" } else { "WIX_APP_SECRET" };
                    return Err(invalid(
                        name,
                        "this is the built-in development value; use your app's from the Wix Developers Center",
                    ));
                }
                Ok((id, secret, dev))
            }
            (AppEnv::Prod, None, _) => Err(ConfigError::Required("WIX_APP_ID")),
            (AppEnv::Prod, _, None) => Err(ConfigError::Required("WIX_APP_SECRET")),
            (AppEnv::Dev, None, None) => {
                Ok((DEV_APP_ID.to_owned(), DEV_APP_SECRET.to_owned(), true))
            }
            // Half of a real app's credentials with half of the dev ones fails every call.
            (AppEnv::Dev, Some(_), None) => Err(invalid(
                "WIX_APP_SECRET",
                "WIX_APP_ID is set, so WIX_APP_SECRET must be set too (or unset both for the development app)",
            )),
            (AppEnv::Dev, None, Some(_)) => Err(invalid(
                "WIX_APP_ID",
                "WIX_APP_SECRET is set, so WIX_APP_ID must be set too (or unset both for the development app)",
            )),
        }
    }

    /// `WIX_WEBHOOK_PUBLIC_KEY(_FILE)`, parsed, with the variable it came from, to `(key, dev
    /// key?)`. Prod requires one and refuses the committed development key (in any encoding);
    /// dev uses that key when none is set.
    fn webhook_key(
        self,
        configured: Option<(WebhookPublicKey, &'static str)>,
    ) -> Result<(WebhookPublicKey, bool), ConfigError> {
        match configured {
            Some((key, name)) => {
                if self.prod() && key.is_dev_key() {
                    return Err(invalid(
                        name,
                        "this is the committed development key; use the public key from your app's Webhooks page in the Wix dashboard",
                    ));
                }
                let is_dev = key.is_dev_key();
                Ok((key, is_dev))
            }
            None if self.prod() => Err(ConfigError::Required(webhooks::KEY)),
            None => {
                let key = WebhookPublicKey::from_pem(DEV_WEBHOOK_PUBLIC_KEY).map_err(|reason| {
                    invalid(webhooks::KEY, format!("built-in development key: {reason}"))
                })?;
                Ok((key, true))
            }
        }
    }

    /// `INSTANCE_MAX_AGE_SECS`: prod refuses 0 (no age check).
    fn instance_max_age(self, secs: u64) -> Result<u64, ConfigError> {
        if self.prod() && secs == 0 {
            return Err(invalid(
                "INSTANCE_MAX_AGE_SECS",
                "0 (no age check) is for development only; a leaked instance would work forever",
            ));
        }
        Ok(secs)
    }

    /// `WIX_API_BASE`, an `http(s)://` URL: prod refuses plain http except to a loopback address.
    fn wix_api_base(self, base: String) -> Result<String, ConfigError> {
        if self.prod() && base.starts_with("http://") && !is_loopback_url(&base) {
            return Err(invalid(
                "WIX_API_BASE",
                "plain http would send the app secret and tokens unencrypted; use https (http only to a loopback address)",
            ));
        }
        Ok(base)
    }

    /// `FRAME_ANCESTORS`, well-formed: prod refuses a `*` source; dev adds `'self'`, which the
    /// `/dev` host page needs to frame the app from its own origin.
    fn frame_ancestors(self, mut sources: String) -> Result<String, ConfigError> {
        let has = |wanted: &str| sources.split_whitespace().any(|s| s == wanted);
        match self.env {
            AppEnv::Prod if has("*") => Err(invalid(
                "FRAME_ANCESTORS",
                "'*' lets any site frame the app (clickjacking); list the Wix origins instead",
            )),
            AppEnv::Dev if !has("'self'") => {
                sources.push_str(" 'self'");
                Ok(sources)
            }
            _ => Ok(sources),
        }
    }
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
