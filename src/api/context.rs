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
use crate::server::{AppState, ClientAddr};
use crate::store::Store;
use crate::wix::WixClient;

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
