//! Who is calling: turns an `Authorization` header into a [`VerifiedIdentity`].
//!
//! The only way to obtain a [`TenantId`] (and so the only way to query the store) is to pass a
//! credential through this module. Everything else in the server takes identities as given.

mod error;
mod identity;
mod instance;

pub use error::AuthError;
pub use identity::{TenantId, VerifiedIdentity};
pub use instance::{sign_instance, InstanceClaims, InstanceVerifier, MAX_AUTHORIZATION_LEN};
