//! The verified caller and the tenant key that scopes every query.

use chrono::{DateTime, Utc};

use super::AuthError;
use crate::model::Role;

/// The plan a signed instance states: `vendorProductId` (`None` = free) as of its `signDate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstancePlan {
    pub id: Option<String>,
    /// `None` only when the verifier has no maximum age and the payload has no `signDate`.
    pub signed_at: Option<DateTime<Utc>>,
}

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
    /// What a signed instance says of the plan; `None` for access tokens, whose plan comes
    /// from Get App Instance (see `api::context::Caller::plan`).
    instance_plan: Option<InstancePlan>,
    /// A duplicated site's `originInstanceId` (signed, so as trustworthy as the tenant).
    origin: Option<TenantId>,
}

impl VerifiedIdentity {
    pub(super) fn new(tenant: TenantId, role: Role, subject: Option<String>) -> Self {
        Self {
            tenant,
            role,
            subject,
            instance_plan: None,
            origin: None,
        }
    }

    pub(super) fn with_instance_plan(mut self, plan: InstancePlan) -> Self {
        self.instance_plan = Some(plan);
        self
    }

    /// The plan the signed instance carried; `None` for an access token.
    pub fn instance_plan(&self) -> Option<&InstancePlan> {
        self.instance_plan.as_ref()
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
