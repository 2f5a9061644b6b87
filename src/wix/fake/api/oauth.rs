//! `POST /oauth2/token` (client credentials) and `POST /oauth2/token-info`: the two OAuth
//! endpoints the app calls, one to act as itself for an instance, one to check a caller's token.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::super::error::{FakeWixError, FieldViolation};
use super::super::{new_token, now, FakeWix, Token};
use super::{object, parse_json, WixResult, TOKEN, TOKEN_INFO};

/// `POST /oauth2/token`: client_credentials for one instance.
pub(in crate::wix::fake) async fn token(
    State(fake): State<FakeWix>,
    body: Result<Bytes, BytesRejection>,
) -> WixResult {
    let parsed = parse_json(body);
    if let Some(instance_id) = parsed
        .as_ref()
        .ok()
        .and_then(|v| v.get("instance_id"))
        .and_then(Value::as_str)
    {
        *fake
            .lock()
            .counters
            .token_requests
            .entry(instance_id.to_owned())
            .or_default() += 1;
    }
    fake.gate(TOKEN).await?;
    let parsed = parsed?;
    let body = object(&parsed)?;
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let mut violations = Vec::new();
    match field("grant_type") {
        Some("client_credentials") => {}
        Some(_) => violations.push(FieldViolation::new(
            "grant_type",
            "Only client_credentials is supported.",
            "INVALID_ENUM_VALUE",
        )),
        None => violations.push(FieldViolation::new(
            "grant_type",
            "Required.",
            "REQUIRED_FIELD",
        )),
    }
    for name in ["client_id", "client_secret", "instance_id"] {
        if field(name).is_none() {
            violations.push(FieldViolation::new(name, "Required.", "REQUIRED_FIELD"));
        }
    }
    let (Some(client_id), Some(client_secret), Some(instance_id), true) = (
        field("client_id"),
        field("client_secret"),
        field("instance_id"),
        violations.is_empty(),
    ) else {
        return Err(FakeWixError::validation(violations));
    };

    let mut state = fake.lock();
    if client_id != state.app_id || client_secret != state.app_secret {
        return Err(FakeWixError::unauthenticated(
            "Invalid client_id or client_secret.",
        ));
    }
    let ttl = state.token_ttl_secs;
    let iat = now();
    let access_token = new_token();
    let app_id = state.app_id.clone();
    state.site(instance_id);
    state.tokens.insert(
        access_token.clone(),
        Token {
            instance_id: instance_id.to_owned(),
            subject_type: "APP".to_owned(),
            subject_id: app_id.clone(),
            client_id: app_id,
            iat,
            exp: iat.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)),
            revoked: false,
        },
    );
    Ok(Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl,
    })))
}

/// `POST /oauth2/token-info`: what Wix knows about a token. Unknown tokens are `{active: false}`.
pub(in crate::wix::fake) async fn token_info(
    State(fake): State<FakeWix>,
    body: Result<Bytes, BytesRejection>,
) -> WixResult {
    fake.lock().counters.token_info_requests += 1;
    fake.gate(TOKEN_INFO).await?;
    let parsed = parse_json(body)?;
    let token = object(&parsed)?
        .get("token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| FakeWixError::violation("token", "Required.", "REQUIRED_FIELD"))?;
    let mut state = fake.lock();
    let Some(info) = state.tokens.get(token).cloned() else {
        return Ok(Json(json!({ "active": false })));
    };
    let site_id = state.site(&info.instance_id).site_id.clone();
    Ok(Json(json!({
        "active": info.active(now()),
        "subjectType": info.subject_type,
        "subjectId": info.subject_id,
        "exp": info.exp,
        "iat": info.iat,
        "clientId": info.client_id,
        "siteId": site_id,
        "instanceId": info.instance_id,
    })))
}
