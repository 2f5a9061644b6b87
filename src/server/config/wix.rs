//! `WixConfig`: who the app is to Wix and how Wix is called and believed.
//!
//! Its own file because these are the values every Wix-facing part is built from (the instance
//! and access-token verifiers, the Wix client, the fake Wix), read together: the app's
//! credentials, `WIX_API_BASE`, the signed-instance age limit and the Token Info cache and budget.

use super::parse::{Vars, SECONDS};
use super::{invalid, ConfigError, EnvRules, Secret};

/// Development credentials: public on purpose, accepted only with `APP_ENV=dev`.
pub const DEV_APP_ID: &str = "00000000-0000-4000-8000-00000000de00";
pub const DEV_APP_SECRET: &str = "dev-only-secret-never-use-in-production";
pub const DEFAULT_INSTANCE_MAX_AGE_SECS: u64 = 86_400;
pub const DEFAULT_TOKEN_INFO_CACHE_SECS: u64 = 300;
pub const DEFAULT_TOKEN_INFO_PER_MINUTE: u64 = 600;

#[derive(Debug, Clone)]
pub struct WixConfig {
    /// `WIX_APP_ID`.
    pub app_id: String,
    /// `WIX_APP_SECRET`.
    pub app_secret: Secret,
    /// True when `app_id`/`app_secret` are the built-in development values.
    pub uses_dev_credentials: bool,
    /// `WIX_API_BASE`, without a trailing `/`; `None` means the default: the in-process fake in
    /// dev, Wix in prod.
    pub api_base: Option<String>,
    /// `INSTANCE_MAX_AGE_SECS`; 0 disables the age check.
    pub instance_max_age_secs: u64,
    /// `TOKEN_INFO_CACHE_SECS`: longest a positive Token Info answer is cached.
    pub token_info_cache_secs: u64,
    /// `TOKEN_INFO_PER_MINUTE`: Token Info look-ups (access-token cache misses) per minute, for
    /// the whole process.
    pub token_info_per_minute: u32,
}

impl WixConfig {
    pub(super) fn from_lookup(vars: Vars, rules: EnvRules) -> Result<Self, ConfigError> {
        let (app_id, app_secret, uses_dev_credentials) =
            rules.credentials(vars.get("WIX_APP_ID"), vars.get("WIX_APP_SECRET"))?;
        if !app_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(invalid(
                "WIX_APP_ID",
                "expected the app id from the Wix app dashboard (letters, digits, '-')",
            ));
        }
        let instance_max_age_secs = rules.instance_max_age(vars.whole(
            "INSTANCE_MAX_AGE_SECS",
            DEFAULT_INSTANCE_MAX_AGE_SECS,
            SECONDS,
        )?)?;
        let api_base = vars
            .get("WIX_API_BASE")
            .map(|base| {
                let base = base.trim_end_matches('/').to_owned();
                if !base.starts_with("https://") && !base.starts_with("http://") {
                    return Err(invalid(
                        "WIX_API_BASE",
                        "expected an http(s) URL, e.g. https://www.wixapis.com",
                    ));
                }
                rules.wix_api_base(base)
            })
            .transpose()?;
        Ok(Self {
            app_id,
            app_secret: Secret::new(app_secret),
            uses_dev_credentials,
            api_base,
            instance_max_age_secs,
            token_info_cache_secs: vars.whole(
                "TOKEN_INFO_CACHE_SECS",
                DEFAULT_TOKEN_INFO_CACHE_SECS,
                SECONDS,
            )?,
            token_info_per_minute: vars.positive(
                "TOKEN_INFO_PER_MINUTE",
                DEFAULT_TOKEN_INFO_PER_MINUTE,
                "a whole number of look-ups per minute",
            )?,
        })
    }
}
