//! What a signed webhook token says: the time claims, then the `data` claim's nested JSON, read
//! into a [`WebhookEvent`].
//!
//! Separate from the signature check (`verify.rs`) so the fuzzers and property tests can reach
//! everything that follows it without signing every input (see `event_from_claims_json`).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{WebhookError, APP_INSTALLED, APP_REMOVED, WEBHOOK_LEEWAY_SECS};
use crate::auth::TenantId;

/// Longest `instanceId` taken from a webhook.
const MAX_INSTANCE_ID_LEN: usize = 200;

/// A verified, parsed webhook event.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    pub event_type: String,
    /// The instance the event is about; `None` only for event types that carry none.
    pub tenant: Option<TenantId>,
    /// When Wix issued the event (`iat`), or `None` when the token has no `iat`.
    pub issued_at: Option<DateTime<Utc>>,
    /// `identity` parsed from its JSON string (who triggered the event), if any.
    pub identity: Option<Value>,
    /// The event body parsed from its JSON string, e.g. `{appId, originInstanceId}`.
    pub body: Value,
    /// Hex SHA-256 of the token as received: the same delivery twice has the same key.
    pub key: String,
    /// `originInstanceId` of an `AppInstalled` body: the site this one was duplicated from.
    pub origin: Option<TenantId>,
}

/// The claims read from a verified token; `jsonwebtoken` checks `iss`/`aud` itself.
#[derive(Deserialize)]
pub(super) struct Claims {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    iat: Option<Value>,
    #[serde(default)]
    exp: Option<Value>,
    #[serde(default)]
    nbf: Option<Value>,
}

/// The JSON inside the `data` claim.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "eventType", default)]
    event_type: Option<String>,
    #[serde(rename = "instanceId", default)]
    instance_id: Option<String>,
    #[serde(default)]
    identity: Option<Value>,
    #[serde(default)]
    data: Option<Value>,
}

/// Everything after the signature check: the time claims, then the nested `data` JSON.
pub(super) fn event_from_claims(
    claims: Claims,
    token: &str,
    now: DateTime<Utc>,
) -> Result<WebhookEvent, WebhookError> {
    let issued_at = check_times(&claims, now)?;
    let envelope = parse_envelope(claims.data)?;

    let event_type = envelope
        .event_type
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or(WebhookError::Malformed("eventType is missing"))?;
    let instance_id = envelope
        .instance_id
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty());
    if instance_id.is_none() && (event_type == APP_INSTALLED || event_type == APP_REMOVED) {
        return Err(WebhookError::Malformed("instanceId is missing"));
    }
    if instance_id
        .as_ref()
        .is_some_and(|id| id.len() > MAX_INSTANCE_ID_LEN || id.chars().any(char::is_control))
    {
        return Err(WebhookError::Malformed("instanceId is not an instance id"));
    }
    let identity = nested_json(envelope.identity, "identity is not a JSON string")?;
    let body =
        nested_json(envelope.data, "the event data is not a JSON string")?.unwrap_or(Value::Null);

    let origin = body
        .get("originInstanceId")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|id| {
            event_type == APP_INSTALLED
                && crate::auth::is_plausible_instance_id(id)
                && Some(*id) != instance_id.as_deref()
        })
        .map(|id| TenantId::verified(id.to_owned()));
    Ok(WebhookEvent {
        event_type,
        origin,
        tenant: instance_id.map(TenantId::verified),
        issued_at,
        identity,
        body,
        key: hex_sha256(token.as_bytes()),
    })
}

/// [`event_from_claims`] on a claims JSON body (as `jsonwebtoken` would deserialize it) whose
/// signature is taken as checked. Test and fuzzing builds only: it mints tenants from input.
#[cfg(any(test, fuzzing))]
pub(crate) fn event_from_claims_json(
    claims_json: &[u8],
    now: DateTime<Utc>,
) -> Result<WebhookEvent, WebhookError> {
    let claims: Claims = serde_json::from_slice(claims_json)
        .map_err(|_| WebhookError::Malformed("the token claims are not JSON"))?;
    event_from_claims(claims, "unsigned", now)
}

fn numeric_claim(value: Option<&Value>, name: &'static str) -> Result<Option<i64>, WebhookError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or(WebhookError::Claim(name)),
    }
}

/// `exp` (if any) not past, `nbf`/`iat` (if any) not in the future, each with the leeway.
/// Returns `iat` as the event time.
fn check_times(claims: &Claims, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, WebhookError> {
    let now_secs = now.timestamp();
    if let Some(exp) = numeric_claim(claims.exp.as_ref(), "exp")? {
        if exp.saturating_add(WEBHOOK_LEEWAY_SECS) < now_secs {
            return Err(WebhookError::Expired);
        }
    }
    if let Some(nbf) = numeric_claim(claims.nbf.as_ref(), "nbf")? {
        if nbf > now_secs.saturating_add(WEBHOOK_LEEWAY_SECS) {
            return Err(WebhookError::NotYetValid);
        }
    }
    let iat = numeric_claim(claims.iat.as_ref(), "iat")?;
    if let Some(iat) = iat {
        if iat > now_secs.saturating_add(WEBHOOK_LEEWAY_SECS) {
            return Err(WebhookError::NotYetValid);
        }
    }
    Ok(iat.and_then(|s| DateTime::<Utc>::from_timestamp(s, 0)))
}

/// The `data` claim: a JSON string holding an object (an object as such is tolerated).
fn parse_envelope(data: Option<Value>) -> Result<Envelope, WebhookError> {
    let value = nested_json(data, "the data claim is not a JSON string")?
        .ok_or(WebhookError::Malformed("the data claim is missing"))?;
    if !value.is_object() {
        return Err(WebhookError::Malformed(
            "the data claim is not a JSON object",
        ));
    }
    serde_json::from_value(value)
        .map_err(|_| WebhookError::Malformed("the data claim has fields of the wrong type"))
}

/// Wix nests JSON as strings. `None`/`null`/`""` → `None`; a string → its parsed JSON; an
/// object or array as such is tolerated; anything else is malformed.
fn nested_json(value: Option<Value>, error: &'static str) -> Result<Option<Value>, WebhookError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(&s)
            .map(Some)
            .map_err(|_| WebhookError::Malformed(error)),
        Some(v @ (Value::Object(_) | Value::Array(_))) => Ok(Some(v)),
        Some(_) => Err(WebhookError::Malformed(error)),
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
