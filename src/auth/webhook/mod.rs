//! Wix webhooks: the request body is a JWT signed RS256 with the app's key.
//!
//! This lives in `auth` because a verified webhook is the second (and only other) place a
//! [`TenantId`](super::TenantId) may come from: the `instanceId` inside a token whose signature
//! checked out against the configured public key. Nothing else in the server can turn webhook
//! input into a tenant.
//!
//! What is accepted is exactly what Wix sends (wix-platform.md, "Webhooks"): header `alg` RS256
//! and nothing else (not `none`, not HS256 even when keyed with the public key's bytes); claims
//! `{data, iat}` at minimum, where `data` is a JSON *string* holding
//! `{eventType, instanceId, identity?, data?}`, and the inner `identity` and `data` are JSON
//! strings too. `exp`, `nbf`, `iat` are checked with a small leeway when present; `iss` and `aud`
//! must be `wix.com` and the app id when present.
//!
//! One concept per file:
//! - `key.rs`: the configured public key (its spellings, and recognising the development key);
//! - `verify.rs`: [`WebhookVerifier`], the token as such (header `alg`, signature, `iss`/`aud`);
//! - `event.rs`: what a signed token says, [`WebhookEvent`] (time claims, nested `data` JSON);
//! - `signing.rs`: signing events like Wix does, for dev tools and tests only.

mod event;
mod key;
#[cfg(any(test, feature = "dev-tools"))]
mod signing;
mod verify;

#[cfg(any(test, fuzzing))]
pub(crate) use event::event_from_claims_json;
pub use event::WebhookEvent;
pub use key::{WebhookPublicKey, DEV_WEBHOOK_PUBLIC_KEY};
#[cfg(any(test, feature = "dev-tools"))]
pub use signing::{sign_webhook, DEV_WEBHOOK_PRIVATE_KEY};
pub use verify::WebhookVerifier;

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const WEBHOOK_LEEWAY_SECS: i64 = 60;
/// The issuer Wix puts in `iss` (when it sends one).
pub const WIX_ISSUER: &str = "wix.com";
/// Event types this app acts on. Others are acknowledged and logged.
pub const APP_INSTALLED: &str = "AppInstalled";
pub const APP_REMOVED: &str = "AppRemoved";

/// Why a webhook was refused. `Malformed` is a 400, every other variant a 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("The webhook body is not a valid Wix webhook: {0}.")]
    Malformed(&'static str),
    #[error("The webhook token's algorithm is not RS256.")]
    Algorithm,
    #[error("The webhook signature does not match the configured public key.")]
    Signature,
    #[error("The webhook token has expired.")]
    Expired,
    #[error("The webhook token is not valid yet (iat or nbf in the future).")]
    NotYetValid,
    #[error("The webhook token's {0} claim does not match this app.")]
    Claim(&'static str),
}
