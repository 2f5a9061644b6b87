//! The Wix endpoints themselves, and what every one of them does first.
//!
//! Every handler first goes through [`FakeWix::gate`] (count, latency, outage, injected faults),
//! then parses its body by hand from raw bytes so that every rejection, malformed JSON included,
//! is a Wix-shaped error rather than axum's plain-text one. The endpoints live beside this file,
//! one Wix API per file: `oauth.rs` (tokens and Token Info), `app_instance.rs` (Get App
//! Instance), `contacts.rs` (Create and Query Contacts) with their request bodies in
//! `contact_requests.rs`.

mod app_instance;
mod contact_requests;
mod contacts;
mod oauth;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::Json;
use serde_json::{Map, Value};

use super::error::FakeWixError;
use super::{now, FakeWix, Token};
pub(super) use app_instance::instance;
pub(super) use contacts::{create_contact, query_contacts};
pub(super) use oauth::{token, token_info};

pub(super) const TOKEN: &str = "/oauth2/token";
pub(super) const TOKEN_INFO: &str = "/oauth2/token-info";
pub(super) const INSTANCE: &str = "/apps/v1/instance";
pub(super) const CONTACTS: &str = "/contacts/v4/contacts";
pub(super) const CONTACTS_QUERY: &str = "/contacts/v4/contacts/query";

type WixResult = Result<Json<Value>, FakeWixError>;

/// Raw body → JSON value, or a Wix-shaped 400/413.
pub(super) fn parse_json(body: Result<Bytes, BytesRejection>) -> Result<Value, FakeWixError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            FakeWixError::payload_too_large()
        } else {
            FakeWixError::bad_body("The request body could not be read.")
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| FakeWixError::bad_body(format!("The request body is not valid JSON: {e}.")))
}

fn object(value: &Value) -> Result<&Map<String, Value>, FakeWixError> {
    value
        .as_object()
        .ok_or_else(|| FakeWixError::bad_body("The request body must be a JSON object."))
}

impl FakeWix {
    fn count(&self, path: &str) {
        *self
            .lock()
            .counters
            .requests
            .entry(path.to_owned())
            .or_default() += 1;
    }

    /// What every Wix endpoint does before its own logic: count the call, wait the configured
    /// latency, answer 503 while down, then consume one injected fault if any is pending.
    async fn gate(&self, path: &str) -> Result<(), FakeWixError> {
        self.count(path);
        let latency = self.lock().latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let mut state = self.lock();
        if state.down {
            return Err(FakeWixError::unavailable());
        }
        if let Some(fault) = state.faults.front_mut() {
            let injected = *fault;
            fault.remaining = fault.remaining.saturating_sub(1);
            if fault.remaining == 0 {
                state.faults.pop_front();
            }
            return Err(FakeWixError::injected(
                injected.status,
                injected.retry_after_secs,
            ));
        }
        Ok(())
    }

    /// The caller's token, which must be active and allowed to call app APIs: an app token or a
    /// site owner's (USER) token issued to this app. Visitors, members and other apps get 403.
    fn authenticate(&self, headers: &HeaderMap) -> Result<Token, FakeWixError> {
        let raw = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .unwrap_or("");
        let raw = raw
            .strip_prefix("Bearer ")
            .or_else(|| raw.strip_prefix("bearer "))
            .unwrap_or(raw)
            .trim();
        if raw.is_empty() {
            return Err(FakeWixError::unauthenticated(
                "Missing access token in the Authorization header.",
            ));
        }
        let state = self.lock();
        let token = state
            .tokens
            .get(raw)
            .ok_or_else(|| FakeWixError::unauthenticated("Unknown access token."))?;
        if token.revoked {
            return Err(FakeWixError::unauthenticated(
                "The access token was revoked.",
            ));
        }
        if !token.active(now()) {
            return Err(FakeWixError::unauthenticated(
                "The access token has expired.",
            ));
        }
        if token.client_id != state.app_id {
            return Err(FakeWixError::forbidden(
                "The access token was issued to another app.",
            ));
        }
        if token.subject_type != "APP" && token.subject_type != "USER" {
            return Err(FakeWixError::forbidden(format!(
                "A {} identity may not call this API; it needs app permissions.",
                token.subject_type
            )));
        }
        Ok(token.clone())
    }
}
/// Any other path: counted (unless it is a control path), then a Wix-shaped 404.
pub(super) async fn not_found(State(fake): State<FakeWix>, uri: Uri) -> FakeWixError {
    if !uri.path().starts_with("/_fake/") {
        fake.count(uri.path());
    }
    FakeWixError::not_found(uri.path())
}

pub(super) async fn method_not_allowed() -> FakeWixError {
    FakeWixError::method_not_allowed()
}
