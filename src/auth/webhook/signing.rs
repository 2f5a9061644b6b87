//! Signing webhook events like Wix does: development and test tooling only.
//!
//! Real events are signed by Wix; the app only verifies them (`verify.rs`). Signing exists for
//! the `sign-webhook` CLI, the `/dev` page's lifecycle panel and the tests, so it compiles only
//! with the `dev-tools` feature (or in the crate's own unit tests), and the committed development
//! private key never reaches a production binary.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;

/// DEVELOPMENT ONLY. The private half of `dev/`'s key pair: signs events for `wix-app
/// sign-webhook` and the `/dev` page. It is public, so production refuses its public half.
pub const DEV_WEBHOOK_PRIVATE_KEY: &str = include_str!("../../../dev/webhook-dev-private.pem");

/// Signs an event the way Wix's webhook testkit does:
/// `{data: JSON.stringify({instanceId, eventType, data: JSON.stringify(body)}), iat}`, RS256.
/// For the `sign-webhook` CLI, the `/dev` page and tests; real events are signed by Wix.
pub fn sign_webhook(
    private_key_pem: &str,
    event_type: &str,
    instance_id: &str,
    body: &Value,
    issued_at: DateTime<Utc>,
) -> Result<String, String> {
    let envelope = serde_json::json!({
        "instanceId": instance_id,
        "eventType": event_type,
        "data": body.to_string(),
    });
    let claims = serde_json::json!({
        "data": envelope.to_string(),
        "iat": issued_at.timestamp(),
    });
    let key = EncodingKey::from_rsa_pem(private_key_pem.replace("\\n", "\n").as_bytes())
        .map_err(|_| "expected an RSA private key in PEM format".to_owned())?;
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key)
        .map_err(|e| format!("signing failed: {e}"))
}
