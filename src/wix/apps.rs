//! Typed calls to the Wix APIs this app uses, on top of [`WixClient`].

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::{WixClient, WixError};
use crate::auth::TenantId;

/// What the dashboard shows from Get App Instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteInfo {
    pub site_name: Option<String>,
}

#[derive(Deserialize)]
struct AppInstanceResponse {
    #[serde(default)]
    site: Option<SiteField>,
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
                self.site_info_cache().insert(key, info.clone()).await;
                Some(info)
            }
            Err(err) => {
                tracing::warn!(error = %err, "site info unavailable; answering without it");
                None
            }
        }
    }

    /// `GET /apps/v1/instance`: the site's display name, within `deadline`.
    pub async fn site_info(
        &self,
        tenant: &TenantId,
        deadline: Duration,
    ) -> Result<SiteInfo, WixError> {
        let res: AppInstanceResponse = self
            .call_with_deadline(tenant, Method::GET, "/apps/v1/instance", None, deadline)
            .await?;
        Ok(SiteInfo {
            site_name: res
                .site
                .and_then(|s| s.site_display_name)
                .filter(|n| !n.is_empty()),
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
