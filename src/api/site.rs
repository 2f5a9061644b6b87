//! Site-level endpoints for the dashboard.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, AuthClient};
use crate::model::PlanInfo;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub instance_id: String,
    pub open: i64,
    pub resolved: i64,
    pub total: i64,
    /// From Wix (Get App Instance); `null` when Wix cannot be reached.
    pub site_name: Option<String>,
    /// The site's plan and this month's usage.
    pub plan: PlanInfo,
    /// Wix's upgrade page for this app and site; open it in a new top-level tab.
    pub upgrade_url: String,
}

/// Wix's page where the owner buys or changes the app's plan for the site.
pub fn upgrade_url(app_id: &str, instance_id: &str) -> String {
    let enc = |text: &str| crate::api::percent_encode(text, b"");
    format!(
        "https://www.wix.com/apps/upgrade/{}?appInstanceId={}",
        enc(app_id),
        enc(instance_id)
    )
}

/// `POST /api/site/summary` with `{}`: feedback counts and the site's name for the owner.
#[server(prefix = "/api", endpoint = "site/summary", input = Json, client = AuthClient)]
pub async fn site_summary() -> Result<Summary, ApiError> {
    let caller = crate::api::context::Caller::authenticate().await?;
    let tenant = caller.identity.owner_tenant()?;
    let store = caller.store().feedback();
    let (counts, site, plan, month) = futures::join!(
        store.counts(tenant),
        caller.wix().site_info_cached(tenant),
        caller.plan(),
        store.month_submissions(tenant, chrono::Utc::now()),
    );
    let (counts, plan, month) = (counts?, plan?, month?);
    let quota = caller.quota_for(&plan);
    Ok(Summary {
        instance_id: tenant.as_str().to_owned(),
        open: counts.open,
        resolved: counts.resolved,
        total: counts.open + counts.resolved,
        site_name: site.and_then(|s| s.site_name),
        plan: PlanInfo {
            id: plan.id,
            premium: plan.premium,
            month_submissions: month,
            monthly_limit: quota.monthly_limit.map(i64::from),
        },
        upgrade_url: upgrade_url(caller.app_id(), tenant.as_str()),
    })
}
