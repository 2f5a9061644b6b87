//! Who is calling: turns an `Authorization` header into a [`VerifiedIdentity`], and a Wix
//! webhook body into a verified [`WebhookEvent`].
//!
//! Two credentials are accepted. A value shaped like a signed instance (`<signature>.<data>`,
//! exactly one `.`) is checked locally with the app secret and never leaves the process; anything
//! else is treated as a Wix access token and checked with Token Info. The only way to obtain a
//! [`TenantId`] (and so the only way to query the store) is to pass a credential through here.

mod access_token;
mod error;
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod fuzzing;
mod identity;
mod instance;
mod webhook;

use std::net::IpAddr;

pub use access_token::{AccessTokenOptions, AccessTokenVerifier};
pub use error::AuthError;
pub use identity::{InstancePlan, TenantId, VerifiedIdentity};
pub use instance::{sign_instance, InstanceClaims, InstanceVerifier, MAX_AUTHORIZATION_LEN};
#[cfg(any(test, feature = "dev-tools"))]
pub use webhook::{sign_webhook, DEV_WEBHOOK_PRIVATE_KEY};
pub use webhook::{
    WebhookError, WebhookEvent, WebhookPublicKey, WebhookVerifier, APP_INSTALLED, APP_REMOVED,
    DEV_WEBHOOK_PUBLIC_KEY, WEBHOOK_LEEWAY_SECS, WIX_ISSUER,
};

/// Both verifiers behind one call.
#[derive(Clone)]
pub struct Authenticator {
    instances: InstanceVerifier,
    access_tokens: AccessTokenVerifier,
}

impl Authenticator {
    pub fn new(instances: InstanceVerifier, access_tokens: AccessTokenVerifier) -> Self {
        Self {
            instances,
            access_tokens,
        }
    }

    /// The local verifier alone, for code that mints and checks its own instances (`/dev`).
    pub fn instances(&self) -> &InstanceVerifier {
        &self.instances
    }

    /// Verifies an `Authorization` header. `client` is the caller's address, used only to
    /// rate-limit Token Info look-ups.
    pub async fn authenticate(
        &self,
        header: Option<&[u8]>,
        client: Option<IpAddr>,
    ) -> Result<VerifiedIdentity, AuthError> {
        let credential = credential_from_header(header)?;
        if is_instance_shaped(credential) {
            self.instances.verify_at(credential, chrono::Utc::now())
        } else {
            self.access_tokens.verify(credential, client).await
        }
    }
}

/// A signed instance has exactly one `.`; Wix access tokens (JWS-based) have several or none.
fn is_instance_shaped(credential: &str) -> bool {
    credential.bytes().filter(|b| *b == b'.').count() == 1
}

/// The credential inside an `Authorization` header: present, at most
/// [`MAX_AUTHORIZATION_LEN`] bytes (checked before anything else), text, trimmed, with an
/// optional `Bearer ` prefix removed.
fn credential_from_header(header: Option<&[u8]>) -> Result<&str, AuthError> {
    let raw = header.ok_or(AuthError::Missing)?;
    if raw.len() > MAX_AUTHORIZATION_LEN {
        return Err(AuthError::TooLong);
    }
    let raw = std::str::from_utf8(raw)
        .map_err(|_| AuthError::Malformed("the header is not text"))?
        .trim();
    let raw = match (raw.get(..6), raw.get(6..)) {
        (Some(scheme), Some(rest))
            if scheme.eq_ignore_ascii_case("bearer")
                && (rest.is_empty() || rest.starts_with(char::is_whitespace)) =>
        {
            rest.trim_start()
        }
        _ => raw,
    };
    if raw.is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(raw)
}

/// Longest origin instance id taken from a signed payload or webhook.
const MAX_ORIGIN_ID_LEN: usize = 200;

/// Whether a signed `originInstanceId` looks like an instance id worth acting on (non-empty,
/// bounded, no control characters). It is signed, so this is about sane storage, not trust.
fn is_plausible_instance_id(id: &str) -> bool {
    !id.trim().is_empty() && id.len() <= MAX_ORIGIN_ID_LEN && !id.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_decides_the_verifier() {
        assert!(is_instance_shaped("abc.def"));
        assert!(is_instance_shaped("."));
        assert!(!is_instance_shaped("OauthNG.JWS.a.b.c"));
        assert!(!is_instance_shaped("opaque-token"));
    }

    #[test]
    fn header_credential() {
        assert_eq!(credential_from_header(None), Err(AuthError::Missing));
        assert_eq!(credential_from_header(Some(b"  ")), Err(AuthError::Missing));
        assert_eq!(credential_from_header(Some(b"Bearer  x.y ")), Ok("x.y"));
        assert_eq!(
            credential_from_header(Some(b"bearer ")),
            Err(AuthError::Missing)
        );
        let long = vec![b'a'; MAX_AUTHORIZATION_LEN + 1];
        assert_eq!(credential_from_header(Some(&long)), Err(AuthError::TooLong));
    }
}
