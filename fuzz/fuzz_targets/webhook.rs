//! Webhook bodies: any bytes through `WebhookVerifier::verify_at` (header, base64, JWT and
//! signature checks), and the same bytes as already-verified claims (time claims and the
//! nested-JSON `data` parsing behind the signature).
#![no_main]

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use wix_app::auth::fuzzing::webhook_claims;
use wix_app::auth::{WebhookPublicKey, WebhookVerifier, DEV_WEBHOOK_PUBLIC_KEY};

static VERIFIER: LazyLock<WebhookVerifier> = LazyLock::new(|| {
    WebhookVerifier::new(
        WebhookPublicKey::from_pem(DEV_WEBHOOK_PUBLIC_KEY).unwrap(),
        "app-1",
    )
});

fuzz_target!(|data: &[u8]| {
    let now = DateTime::<Utc>::from_timestamp(1_767_323_045, 0).unwrap();
    let _ = VERIFIER.verify_at(data, now);
    if let Ok(event) = webhook_claims(data, now) {
        assert!(!event.event_type.is_empty());
        if let Some(tenant) = &event.tenant {
            assert!(!tenant.as_str().is_empty() && tenant.as_str().len() <= 200);
        }
    }
});
