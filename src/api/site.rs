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
}

/// `POST /api/site/summary` with `{}`: feedback counts for the owner's site.
#[server(prefix = "/api", endpoint = "site/summary", input = Json, client = AuthClient)]
pub async fn site_summary() -> Result<Summary, ApiError> {
    let caller = crate::api::context::Caller::authenticate().await?;
    let tenant = caller.identity.owner_tenant()?;
    let counts = caller.store().feedback().counts(tenant).await?;
    Ok(Summary {
        instance_id: tenant.as_str().to_owned(),
        open: counts.open,
        resolved: counts.resolved,
        total: counts.open + counts.resolved,
    })
}
