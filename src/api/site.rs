//! Site-level endpoints for the dashboard.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, AuthClient};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub instance_id: String,
    pub open: i64,
    pub resolved: i64,
    pub total: i64,
    /// From Wix (Get App Instance); `null` when Wix cannot be reached.
    pub site_name: Option<String>,
}

/// `POST /api/site/summary` with `{}`: feedback counts and the site's name for the owner.
#[server(prefix = "/api", endpoint = "site/summary", input = Json, client = AuthClient)]
pub async fn site_summary() -> Result<Summary, ApiError> {
    let caller = crate::api::context::Caller::authenticate().await?;
    let tenant = caller.identity.owner_tenant()?;
    let store = caller.store().feedback();
    let (counts, site) =
        futures::join!(store.counts(tenant), caller.wix().site_info_cached(tenant));
    let counts = counts?;
    Ok(Summary {
        instance_id: tenant.as_str().to_owned(),
        open: counts.open,
        resolved: counts.resolved,
        total: counts.open + counts.resolved,
        site_name: site.and_then(|s| s.site_name),
    })
}
