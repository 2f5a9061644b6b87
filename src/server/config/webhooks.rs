//! `WebhookConfig`: the key that `POST /webhooks/wix` is verified with.
//!
//! Its own file because the key comes from one of two variables (the PEM text, or a path to it)
//! and is read and parsed here, apart from the dev/prod rule about which key is acceptable
//! (`EnvRules::webhook_key` in `mod.rs`).

use super::parse::Vars;
use super::{invalid, ConfigError, EnvRules};
use crate::auth::WebhookPublicKey;

/// The webhook public key as PEM text; `\n`-escaped newlines are accepted.
pub(super) const KEY: &str = "WIX_WEBHOOK_PUBLIC_KEY";
/// Instead of [`KEY`]: a path to the PEM file.
pub(super) const KEY_FILE: &str = "WIX_WEBHOOK_PUBLIC_KEY_FILE";

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Verifies `POST /webhooks/wix` (RS256). In dev, the committed dev key when none is set.
    pub public_key: WebhookPublicKey,
    /// True when `public_key` is the committed development key.
    pub uses_dev_key: bool,
}

impl WebhookConfig {
    pub(super) fn from_lookup(vars: Vars, rules: EnvRules) -> Result<Self, ConfigError> {
        let pem = match (vars.get(KEY), vars.get(KEY_FILE)) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    KEY_FILE,
                    format!("set either {KEY} or {KEY_FILE}, not both"),
                ))
            }
            (Some(pem), None) => Some((pem, KEY)),
            (None, Some(path)) => {
                let pem = std::fs::read_to_string(&path)
                    .map_err(|e| invalid(KEY_FILE, format!("cannot read {path:?}: {e}")))?;
                Some((pem, KEY_FILE))
            }
            (None, None) => None,
        };
        let configured = pem
            .map(|(pem, name)| {
                WebhookPublicKey::from_pem(&pem)
                    .map(|key| (key, name))
                    .map_err(|reason| invalid(name, reason))
            })
            .transpose()?;
        let (public_key, uses_dev_key) = rules.webhook_key(configured)?;
        Ok(Self {
            public_key,
            uses_dev_key,
        })
    }
}
