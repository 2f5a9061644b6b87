//! The verified caller and the tenant key that scopes every query.

use super::AuthError;
use crate::model::Role;

/// A Wix `instanceId` that came out of a verified credential.
///
/// The field is private and the only constructor is `pub(super)`: code outside `auth` can read a
/// tenant id but cannot make one, so an unscoped or client-chosen query does not type-check.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantId(String);

impl TenantId {
    pub(super) fn verified(instance_id: String) -> Self {
        Self(instance_id)
    }

    /// For background jobs acting on rows the store wrote under a verified tenant (the row's
    /// `instance_id` came out of a verifier when it was inserted). Never for request input.
    pub(crate) fn from_stored_row(instance_id: String) -> Self {
        Self(instance_id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who is calling, as established by the verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    tenant: TenantId,
    role: Role,
    /// `uid` for owners and members, `aid` for anonymous visitors.
    subject: Option<String>,
    /// A duplicated site's `originInstanceId` (signed, so as trustworthy as the tenant).
    origin: Option<TenantId>,
}

impl VerifiedIdentity {
    pub(super) fn new(tenant: TenantId, role: Role, subject: Option<String>) -> Self {
        Self {
            tenant,
            role,
            subject,
            origin: None,
        }
    }

    pub(super) fn with_origin(mut self, origin: Option<TenantId>) -> Self {
        self.origin = origin;
        self
    }

    /// The site this one was duplicated from (`originInstanceId` of a signed instance); `None`
    /// for sites that are not copies and for access tokens.
    pub fn origin_instance_id(&self) -> Option<&TenantId> {
        self.origin.as_ref()
    }

    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// The tenant, if and only if the caller is its owner; 403 otherwise.
    pub fn owner_tenant(&self) -> Result<&TenantId, AuthError> {
        match self.role {
            Role::Owner => Ok(&self.tenant),
            Role::Member | Role::Visitor => Err(AuthError::NotOwner),
        }
    }
}
