//! Typed calls to the Wix APIs this app uses, on top of [`WixClient`].

use std::time::Duration;

use chrono::{DateTime, Utc};

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::{WixClient, WixError};
use crate::auth::TenantId;

/// What the app reads from Get App Instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteInfo {
    pub site_name: Option<String>,
    /// `instance.billing.packageName`: the paid plan's id (the signed instance's
    /// `vendorProductId`); `None` on the free plan.
    pub plan_id: Option<String>,
    /// When Wix said so.
    pub fetched_at: DateTime<Utc>,
}

/// The plan Get App Instance last reported for an instance, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownPlan {
    pub plan_id: Option<String>,
    pub fetched_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct AppInstanceResponse {
    #[serde(default)]
    site: Option<SiteField>,
    #[serde(default)]
    instance: Option<InstanceField>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstanceField {
    #[serde(default)]
    is_free: Option<bool>,
    #[serde(default)]
    billing: Option<BillingField>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BillingField {
    #[serde(default)]
    package_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SiteField {
    #[serde(default)]
    site_display_name: Option<String>,
}

#[derive(Deserialize)]
struct ContactEnvelope {
    contact: ContactId,
}

#[derive(Deserialize)]
struct ContactId {
    id: String,
}

#[derive(Deserialize)]
struct ContactList {
    #[serde(default)]
    contacts: Vec<ContactId>,
}

/// The dashboard must answer quickly even when Wix does not.
const SITE_INFO_DEADLINE: Duration = Duration::from_secs(3);

impl WixClient {
    /// The site's info, cached per instance for a few minutes; `None` when Wix cannot be reached
    /// (the caller degrades instead of failing).
    pub async fn site_info_cached(&self, tenant: &TenantId) -> Option<SiteInfo> {
        let key = tenant.as_str().to_owned();
        if let Some(info) = self.site_info_cache().get(&key).await {
            return Some(info);
        }
        match self.site_info(tenant, SITE_INFO_DEADLINE).await {
            Ok(info) => {
                let known = KnownPlan {
                    plan_id: info.plan_id.clone(),
                    fetched_at: info.fetched_at,
                };
                self.last_plan_cache().insert(key.clone(), known).await;
                self.site_info_cache().insert(key, info.clone()).await;
                Some(info)
            }
            Err(err) => {
                tracing::warn!(error = %err, "site info unavailable; answering without it");
                None
            }
        }
    }

    /// The site's plan from Get App Instance (cached like the site info); while Wix cannot be
    /// reached, the last plan it reported; `None` when it never answered.
    pub async fn plan_cached(&self, tenant: &TenantId) -> Option<KnownPlan> {
        if let Some(info) = self.site_info_cached(tenant).await {
            return Some(KnownPlan {
                plan_id: info.plan_id,
                fetched_at: info.fetched_at,
            });
        }
        self.last_plan_cache().get(tenant.as_str()).await
    }

    /// `GET /apps/v1/instance`: the site's display name and plan, within `deadline`.
    pub async fn site_info(
        &self,
        tenant: &TenantId,
        deadline: Duration,
    ) -> Result<SiteInfo, WixError> {
        let res: AppInstanceResponse = self
            .call_with_deadline(tenant, Method::GET, "/apps/v1/instance", None, deadline)
            .await?;
        // `isFree: true` wins over a leftover package name; a paid site whose cycle ended but
        // is not free yet keeps its package (Wix: a billing problem, stay on paid).
        let plan_id = res.instance.and_then(|i| {
            if i.is_free == Some(true) {
                return None;
            }
            i.billing
                .and_then(|b| b.package_name)
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
        });
        Ok(SiteInfo {
            site_name: res
                .site
                .and_then(|s| s.site_display_name)
                .filter(|n| !n.is_empty()),
            plan_id,
            fetched_at: Utc::now(),
        })
    }

    /// Creates the contact for `email`, or finds the existing one when Wix answers 409: the
    /// contact is linked, never duplicated. Returns the contact id.
    pub async fn find_or_create_contact(
        &self,
        tenant: &TenantId,
        email: &str,
    ) -> Result<String, WixError> {
        let body = json!({
            "info": { "emails": { "items": [{ "tag": "MAIN", "email": email }] } },
            "allowDuplicates": false,
        });
        match self
            .call::<ContactEnvelope>(tenant, Method::POST, "/contacts/v4/contacts", Some(&body))
            .await
        {
            Ok(created) => Ok(created.contact.id),
            Err(err) if err.status() == Some(409) => {
                self.find_contact(tenant, email).await?.ok_or(err)
            }
            Err(err) => Err(err),
        }
    }

    async fn find_contact(
        &self,
        tenant: &TenantId,
        email: &str,
    ) -> Result<Option<String>, WixError> {
        let body = json!({
            "query": { "filter": { "info.emails.email": email }, "paging": { "limit": 1 } }
        });
        let list: ContactList = self
            .call(
                tenant,
                Method::POST,
                "/contacts/v4/contacts/query",
                Some(&body),
            )
            .await?;
        Ok(list.contacts.into_iter().next().map(|c| c.id))
    }
}
