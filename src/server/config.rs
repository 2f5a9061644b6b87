//! Configuration, read once from the environment (and `.env`) into a typed struct.
//!
//! Anything missing or malformed stops start-up with one line naming the variable, so a bad
//! deployment fails at boot instead of at the first request.

use std::fmt;

use crate::auth::{WebhookPublicKey, DEV_WEBHOOK_PUBLIC_KEY};

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

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
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
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required when APP_ENV=prod (set it in the environment or in .env)")]
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

    /// Builds the config from any variable source (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let env = match var("APP_ENV")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("dev") => AppEnv::Dev,
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
                (_, Some(id), Some(secret)) => (id, secret, false),
                (AppEnv::Prod, None, _) => return Err(ConfigError::Required("WIX_APP_ID")),
                (AppEnv::Prod, _, None) => return Err(ConfigError::Required("WIX_APP_SECRET")),
                (AppEnv::Dev, id, secret) => (
                    id.unwrap_or_else(|| DEV_APP_ID.to_owned()),
                    secret.unwrap_or_else(|| DEV_APP_SECRET.to_owned()),
                    true,
                ),
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
        if !database_url.starts_with("sqlite:") {
            return Err(invalid(
                "DATABASE_URL",
                "only sqlite: URLs are supported, e.g. sqlite://data/app.db",
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

        let wix_api_base = var("WIX_API_BASE")
            .map(|base| {
                let base = base.trim_end_matches('/').to_owned();
                if base.starts_with("https://") || base.starts_with("http://") {
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
        })
    }

    pub fn is_dev(&self) -> bool {
        self.env == AppEnv::Dev
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
            ("DATABASE_URL", "postgres://x"),
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
