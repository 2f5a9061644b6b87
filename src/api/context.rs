//! The one path from an incoming server-function request to a verified caller.
//!
//! Server functions run inside leptos_axum's reactive owner, which carries the request `Parts`
//! and the [`AppState`] provided at router construction. Reading them here, once, keeps every
//! function's first line the same: `Caller::authenticate().await?`. A verified caller whose site
//! removed the app (as told by a webhook) is refused with 403 `instance_removed`.

use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use leptos::prelude::use_context;

use crate::api::ApiError;
use crate::auth::VerifiedIdentity;
use crate::model::Plan;
use crate::server::{AppState, ClientAddr};
use crate::store::{Quota, Store};
use crate::wix::WixClient;

/// The site's plan as it stands for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitePlan {
    /// The vendor product id; `None` on the free plan.
    pub id: Option<String>,
    /// Whether `PREMIUM_PLAN_IDS` counts `id` as premium.
    pub premium: bool,
}

impl SitePlan {
    pub fn plan(&self) -> Plan {
        if self.premium {
            Plan::Premium
        } else {
            Plan::Free
        }
    }
}

/// A request whose `Authorization` header has been verified.
pub struct Caller {
    state: AppState,
    pub identity: VerifiedIdentity,
    client: Option<ClientAddr>,
}

impl Caller {
    /// Verifies the current request's `Authorization` header; fails with the 401 code that says
    /// why, or 403 `instance_removed` when the site uninstalled the app and has not reinstalled it.
    pub async fn authenticate() -> Result<Self, ApiError> {
        let state = use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server-function context");
            ApiError::internal()
        })?;
        let parts = use_context::<Parts>().ok_or_else(|| {
            tracing::error!("request parts missing from the server-function context");
            ApiError::internal()
        })?;
        Self::from_parts(state, &parts).await
    }

    /// [`Self::authenticate`] for a plain axum handler, which has the state and the request
    /// parts in hand rather than in the server-function context.
    pub async fn from_parts(state: AppState, parts: &Parts) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).map(|v| v.as_bytes());
        // Resolved once per request by `server::client_addr::resolve_client`.
        let client = parts.extensions.get::<ClientAddr>().copied();
        let identity = match state
            .auth
            .authenticate(header, client.map(ClientAddr::limit_key))
            .await
        {
            Ok(identity) => identity,
            Err(err) => {
                // The code only: the header itself is a credential and never reaches a log.
                tracing::info!(code = crate::api::error::auth_code(&err).as_str(), path = %parts.uri.path(), "rejected authorization");
                let error = ApiError::from(err);
                // Only the client's failures count towards its limit, not our 503s.
                if error.status() != 401 {
                    return Err(error);
                }
                return Err(state.rate_limits.auth_failure(client, error));
            }
        };
        // Shown on the request's log span (see server::http::request_span::trace_layer).
        let span = tracing::Span::current();
        span.record("instance_id", identity.tenant().as_str());
        span.record("role", identity.role().as_str());
        if state.store.instances().is_removed(identity.tenant()) {
            tracing::info!(instance_id = identity.tenant().as_str(), path = %parts.uri.path(), "request from a removed instance");
            return Err(ApiError::instance_removed());
        }
        Ok(Self {
            state,
            identity,
            client,
        })
    }

    /// The site's plan: what the credential says (a signed instance's `vendorProductId` as of
    /// its `signDate`; for an access token, Get App Instance's `billing.packageName`, cached,
    /// or the last one known while Wix cannot be reached, else free), unless a billing webhook
    /// stored a plan after that, which then wins.
    pub async fn plan(&self) -> Result<SitePlan, ApiError> {
        let tenant = self.identity.tenant();
        let stored = self.state.store.instances().plan(tenant).await?;
        let id = match self.identity.instance_plan() {
            Some(claim) => match stored {
                Some(stored) if claim.signed_at.is_none_or(|signed| stored.at > signed) => {
                    stored.plan_id
                }
                _ => claim.id.clone(),
            },
            None => match (self.state.wix.plan_cached(tenant).await, stored) {
                (Some(known), Some(stored)) if stored.at > known.fetched_at => stored.plan_id,
                (Some(known), _) => known.plan_id,
                (None, Some(stored)) => stored.plan_id,
                (None, None) => None,
            },
        };
        Ok(SitePlan {
            premium: self.state.config.plans.is_premium(id.as_deref()),
            id,
        })
    }

    /// The declared guard of a server function that needs a plan: 402 `plan_required` when
    /// the site's plan is below `needed`.
    pub async fn require_plan(&self, needed: Plan) -> Result<SitePlan, ApiError> {
        let plan = self.plan().await?;
        if needed == Plan::Premium && !plan.premium {
            return Err(ApiError::plan_required());
        }
        Ok(plan)
    }

    /// The monthly allowance of new feedback a site on `plan` has.
    pub fn quota_for(&self, plan: &SitePlan) -> Quota {
        Quota {
            monthly_limit: (!plan.premium)
                .then_some(self.state.config.plans.free_monthly_submissions),
        }
    }

    /// The free plan's allowance, whatever the site's plan (see `submit_feedback`).
    pub fn free_quota(&self) -> Quota {
        Quota {
            monthly_limit: Some(self.state.config.plans.free_monthly_submissions),
        }
    }

    /// The app's Wix app id, for the upgrade link.
    pub fn app_id(&self) -> &str {
        &self.state.config.wix.app_id
    }

    /// Applies the per-visitor submission rate limit (shared by all replicas on PostgreSQL).
    pub async fn limit_submission(&self) -> Result<(), ApiError> {
        self.state
            .rate_limits
            .submission(&self.state.store, &self.identity, self.client)
            .await
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    pub fn wix(&self) -> &WixClient {
        &self.state.wix
    }

    /// Wakes the contact-sync worker after an outbox row was written.
    pub fn wake_contact_sync(&self) {
        self.state.contact_sync.wake();
    }
}
