//! Feedback endpoints: visitors and members submit, the owner lists, resolves and deletes.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, AuthClient};
use crate::model::{FeedbackItem, FeedbackStatus, StatusFilter};

#[cfg(feature = "ssr")]
pub mod export;
#[cfg(feature = "ssr")]
pub(crate) mod parse;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SubmitFeedbackRequest {
    pub message: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub rating: Option<i64>,
    /// The widget's Wix `compId`; absent means `default`.
    #[serde(default)]
    pub comp_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Submitted {
    pub id: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListFeedbackRequest {
    #[serde(default)]
    pub status: Option<StatusFilter>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub cursor: Option<String>,
    /// Only this widget's feedback (a `compId`); absent for every widget.
    #[serde(default)]
    pub comp_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedbackPage {
    pub items: Vec<FeedbackItem>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetStatusRequest {
    pub id: String,
    pub status: FeedbackStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusChanged {
    pub id: String,
    pub status: FeedbackStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteFeedbackRequest {
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deleted {
    pub deleted: bool,
}

/// `POST /api/feedback/submit`: any verified caller leaves feedback for their site.
#[server(prefix = "/api", endpoint = "feedback/submit", input = Json, client = AuthClient)]
pub async fn submit_feedback(
    #[server(flatten)] req: SubmitFeedbackRequest,
) -> Result<Submitted, ApiError> {
    use crate::store::{Quota, StoreError};
    let caller = crate::api::context::Caller::authenticate().await?;
    let new = crate::store::NewFeedback::try_from(req)?;
    caller.limit_submission().await?;
    let feedback = caller.store().feedback();
    let insert = |quota: Quota| {
        feedback.insert(
            caller.identity.tenant(),
            caller.identity.role(),
            caller.identity.subject(),
            &new,
            quota,
        )
    };
    // A signed instance's plan costs one indexed read. An access token's needs Get App Instance,
    // so it is asked only when the free allowance is used up: premium is unlimited.
    let stored = if caller.identity.instance_plan().is_some() {
        insert(caller.quota_for(&caller.plan().await?)).await?
    } else {
        match insert(caller.free_quota()).await {
            Err(StoreError::PlanLimitReached) if caller.plan().await?.premium => {
                insert(Quota::default()).await?
            }
            other => other?,
        }
    };
    if new.email.is_some() {
        caller.wake_contact_sync();
    }
    Ok(Submitted {
        id: stored.id,
        created_at: stored.created_at,
    })
}

/// `POST /api/feedback/list`: the owner pages through the site's feedback, newest first.
#[server(prefix = "/api", endpoint = "feedback/list", input = Json, client = AuthClient)]
pub async fn list_feedback(
    #[server(flatten)] req: ListFeedbackRequest,
) -> Result<FeedbackPage, ApiError> {
    let caller = crate::api::context::Caller::authenticate().await?;
    let tenant = caller.identity.owner_tenant()?;
    let query = crate::store::ListQuery::try_from(req)?;
    let page = caller.store().feedback().list(tenant, &query).await?;
    Ok(FeedbackPage {
        items: page.items,
        next_cursor: page.next_cursor,
    })
}

/// `POST /api/feedback/set_status`: the owner marks feedback resolved or open again.
#[server(prefix = "/api", endpoint = "feedback/set_status", input = Json, client = AuthClient)]
pub async fn set_feedback_status(
    #[server(flatten)] req: SetStatusRequest,
) -> Result<StatusChanged, ApiError> {
    let caller = crate::api::context::Caller::authenticate().await?;
    let tenant = caller.identity.owner_tenant()?;
    let found = caller
        .store()
        .feedback()
        .set_status(tenant, &req.id, req.status)
        .await?;
    if !found {
        return Err(ApiError::not_found());
    }
    Ok(StatusChanged {
        id: req.id,
        status: req.status,
    })
}

/// `POST /api/feedback/delete`: the owner deletes feedback for good.
#[server(prefix = "/api", endpoint = "feedback/delete", input = Json, client = AuthClient)]
pub async fn delete_feedback(
    #[server(flatten)] req: DeleteFeedbackRequest,
) -> Result<Deleted, ApiError> {
    let caller = crate::api::context::Caller::authenticate().await?;
    let tenant = caller.identity.owner_tenant()?;
    if !caller.store().feedback().delete(tenant, &req.id).await? {
        return Err(ApiError::not_found());
    }
    Ok(Deleted { deleted: true })
}
