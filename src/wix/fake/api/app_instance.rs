//! `GET /apps/v1/instance` (Get App Instance): the app instance and its site, which is where the
//! dashboard's site name comes from.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::json;

use super::super::FakeWix;
use super::{WixResult, INSTANCE};

/// Permissions Get App Instance reports for this app.
const PERMISSIONS: [&str; 2] = [
    "SCOPE.DC-CONTACTS.MANAGE-CONTACTS",
    "SCOPE.DC-APPS.MANAGE-APP-INSTANCE",
];

/// `GET /apps/v1/instance`: the app instance and its site.
pub(in crate::wix::fake) async fn instance(
    State(fake): State<FakeWix>,
    headers: HeaderMap,
) -> WixResult {
    fake.gate(INSTANCE).await?;
    let token = fake.authenticate(&headers)?;
    let mut state = fake.lock();
    let site = state.site(&token.instance_id);
    let slug: String = token.instance_id.chars().take(8).collect();
    let mut instance = json!({
        "instanceId": token.instance_id,
        "appName": super::super::APP_NAME,
        "appVersion": "1.0.0",
        "isFree": site.plan.is_none(),
        "permissions": PERMISSIONS,
    });
    if let Some(plan) = &site.plan {
        // Wix's shape for a paid instance: the package is the plan's vendor product id.
        instance["billing"] = json!({
            "packageName": plan,
            "billingCycle": "MONTHLY",
            "timeStamp": chrono::Utc::now().to_rfc3339(),
            "expirationDate": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
            "autoRenewing": true,
        });
    }
    Ok(Json(json!({
        "instance": instance,
        "site": {
            "siteDisplayName": site.name,
            "locale": "en",
            "paymentCurrency": "USD",
            "url": format!("https://demo.wixsite.com/site-{slug}"),
            "siteId": site.site_id,
        },
    })))
}
