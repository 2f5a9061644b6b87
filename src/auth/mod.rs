//! Who is calling: turns an `Authorization` header into a [`VerifiedIdentity`], and a Wix
//! webhook body into a verified [`WebhookEvent`].
//!
//! The only way to obtain a [`TenantId`] (and so the only way to query the store) is to pass a
//! credential through this module. Everything else in the server takes identities as given.

mod error;
mod identity;
mod instance;
mod webhook;

pub use error::AuthError;
pub use identity::{TenantId, VerifiedIdentity};
pub use instance::{sign_instance, InstanceClaims, InstanceVerifier, MAX_AUTHORIZATION_LEN};
pub use webhook::{
    sign_webhook, WebhookError, WebhookEvent, WebhookPublicKey, WebhookVerifier, APP_INSTALLED,
    APP_REMOVED, DEV_WEBHOOK_PRIVATE_KEY, DEV_WEBHOOK_PUBLIC_KEY, WEBHOOK_LEEWAY_SECS, WIX_ISSUER,
};
