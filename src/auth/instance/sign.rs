//! Signing instances the way Wix does, and [`InstanceClaims`], a payload shaped like Wix's for a
//! given role.
//!
//! Production instances are signed by Wix; the app signs its own only for the `/dev` host page,
//! the `sign-instance` CLI, the benchmarks and the tests. Kept out of the verifier's file so that
//! reading the verifier is reading exactly what decides who a caller is.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::Mac;
use serde::Serialize;

use super::keyed_mac;
use crate::model::Role;

/// Signs `payload_json` the way Wix does (unpadded base64url on both parts). For the dev host
/// page, the `sign-instance` CLI and tests; production instances are signed by Wix.
pub fn sign_instance(app_secret: &[u8], payload_json: &str) -> String {
    let data = URL_SAFE_NO_PAD.encode(payload_json.as_bytes());
    let mut mac = keyed_mac(app_secret);
    mac.update(data.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signature}.{data}")
}

/// A payload shaped like the ones Wix sends, for a given role. Used to mint development instances.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceClaims {
    pub instance_id: String,
    pub app_def_id: String,
    pub sign_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    pub permissions: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aid: Option<String>,
    pub site_owner_id: String,
    pub vendor_product_id: Option<String>,
    pub demo_mode: bool,
}

impl InstanceClaims {
    pub fn for_role(
        instance_id: &str,
        app_id: &str,
        role: Role,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Self {
        let (uid, permissions, aid) = match role {
            Role::Owner => (Some(subject.to_owned()), Some("OWNER".to_owned()), None),
            Role::Member => (Some(subject.to_owned()), None, None),
            Role::Visitor => (None, None, Some(subject.to_owned())),
        };
        Self {
            instance_id: instance_id.to_owned(),
            app_def_id: app_id.to_owned(),
            sign_date: now.to_rfc3339_opts(SecondsFormat::Millis, true),
            uid,
            permissions,
            aid,
            site_owner_id: format!("owner-of-{instance_id}"),
            vendor_product_id: None,
            demo_mode: false,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("claims are plain strings and serialize")
    }

    pub fn sign(&self, app_secret: &[u8]) -> String {
        sign_instance(app_secret, &self.to_json())
    }
}
