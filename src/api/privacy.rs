//! Privacy requests: the site owner answers a customer's request for access to, or erasure of,
//! the feedback they left, found by email (ASCII case-insensitive). Scoped to the owner's site.
//!
//! Erasure deletes the feedback items and their contact-sync rows. The Wix contact made from
//! the email stays: it is the site's CRM record, which the owner manages in Wix.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, AuthClient};
use crate::model::FeedbackItem;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PrivacyRequest {
    pub email: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PrivacyItems {
    pub items: Vec<FeedbackItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Erased {
    pub erased: u64,
}

/// Most items one export returns (a person's feedback on one site; far above any real case).
#[cfg(feature = "ssr")]
const MAX_EXPORT_ITEMS: usize = 10_000;

#[cfg(feature = "ssr")]
fn email_of(req: &PrivacyRequest) -> Result<&str, ApiError> {
    let email = req.email.trim();
    if email.is_empty() || email.chars().count() > crate::model::EMAIL_MAX_CHARS {
        return Err(ApiError::invalid_input(
            "email: give the address the customer asked about.",
        ));
    }
    Ok(email)
}

/// `POST /api/privacy/export {email}` → `{items}`: every feedback item of the owner's site
/// with this email, newest first, in `list`'s item shape.
#[server(prefix = "/api", endpoint = "privacy/export", input = Json, client = AuthClient)]
pub async fn privacy_export(
    #[server(flatten)] req: PrivacyRequest,
) -> Result<PrivacyItems, ApiError> {
    use crate::model::{StatusFilter, LIST_MAX_LIMIT};
    use crate::store::{ListQuery, PageCursor};
    let caller = crate::api::context::Caller::authenticate().await?;
    let tenant = caller.identity.owner_tenant()?;
    let email = email_of(&req)?;
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let query = ListQuery {
            filter: StatusFilter::All,
            limit: LIST_MAX_LIMIT,
            cursor,
            comp_id: None,
        };
        let page = caller
            .store()
            .feedback()
            .list_by_email(tenant, &query, email)
            .await?;
        items.extend(page.items);
        cursor = page.next_cursor.as_deref().and_then(PageCursor::decode);
        if cursor.is_none() || items.len() >= MAX_EXPORT_ITEMS {
            break;
        }
    }
    Ok(PrivacyItems { items })
}

/// `POST /api/privacy/erase {email}` → `{erased: n}`: deletes the owner's site's feedback with
/// this email and its contact-sync rows (not the Wix contact).
#[server(prefix = "/api", endpoint = "privacy/erase", input = Json, client = AuthClient)]
pub async fn privacy_erase(#[server(flatten)] req: PrivacyRequest) -> Result<Erased, ApiError> {
    let caller = crate::api::context::Caller::authenticate().await?;
    let tenant = caller.identity.owner_tenant()?;
    let email = email_of(&req)?;
    let erased = caller
        .store()
        .feedback()
        .erase_by_email(tenant, email)
        .await?;
    tracing::info!(instance_id = tenant.as_str(), erased, "privacy erasure");
    Ok(Erased { erased })
}
