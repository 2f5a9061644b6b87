//! `/_fake/*`: the Rust control API over HTTP, for the `/dev` page and the browser tests.
//!
//! JSON in, JSON out, Wix-shaped errors. Faults, latency and outages never apply here, so a test
//! can always reach the fake to inspect it or bring it back up.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::parse_json;
use super::error::FakeWixError;
use super::{FakeWix, SUBJECT_TYPES};

type ControlResult = Result<Json<Value>, FakeWixError>;

/// Default lifetime of a minted frontend token.
const DEFAULT_MINTED_TTL_SECS: i64 = 3600;

fn parse<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, FakeWixError> {
    serde_json::from_value(parse_json(body)?)
        .map_err(|e| FakeWixError::bad_body(format!("Unexpected request body: {e}.")))
}

#[derive(Deserialize)]
struct AccessTokenRequest {
    instance_id: String,
    subject_type: String,
    subject_id: Option<String>,
    ttl_secs: Option<i64>,
    /// Another app's id, to mint a foreign token. Defaults to this app.
    client_id: Option<String>,
}

/// `POST /_fake/access-token {instance_id, subject_type, subject_id?, ttl_secs?, client_id?}` →
/// `{access_token}`: what a Wix frontend's `fetchWithAuth` would send.
pub(super) async fn access_token(
    State(fake): State<FakeWix>,
    body: Result<Bytes, BytesRejection>,
) -> ControlResult {
    let req: AccessTokenRequest = parse(body)?;
    if req.instance_id.is_empty() {
        return Err(FakeWixError::violation(
            "instance_id",
            "Required.",
            "REQUIRED_FIELD",
        ));
    }
    let subject_type = req.subject_type.to_ascii_uppercase();
    if !SUBJECT_TYPES.contains(&subject_type.as_str()) {
        return Err(FakeWixError::violation(
            "subject_type",
            "Must be one of USER, MEMBER, VISITOR, APP, UNKNOWN.",
            "INVALID_ENUM_VALUE",
        ));
    }
    let subject_id = req
        .subject_id
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let ttl = req.ttl_secs.unwrap_or(DEFAULT_MINTED_TTL_SECS);
    let client_id = req
        .client_id
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| fake.lock().app_id.clone());
    let token = fake.insert_token(
        &req.instance_id,
        &subject_type,
        &subject_id,
        &client_id,
        ttl,
    );
    Ok(Json(json!({ "access_token": token })))
}

#[derive(Deserialize)]
struct FaultsRequest {
    count: usize,
    status: u16,
    retry_after_secs: Option<u64>,
}

/// `POST /_fake/faults {count, status, retry_after_secs?}` → `{pending}` (faults now queued).
pub(super) async fn faults(
    State(fake): State<FakeWix>,
    body: Result<Bytes, BytesRejection>,
) -> ControlResult {
    let req: FaultsRequest = parse(body)?;
    if !(400..=599).contains(&req.status) {
        return Err(FakeWixError::violation(
            "status",
            "Must be an HTTP error status (400-599).",
            "OTHER",
        ));
    }
    fake.fail_next(req.count, req.status, req.retry_after_secs);
    let pending: usize = fake.lock().faults.iter().map(|f| f.remaining).sum();
    Ok(Json(json!({ "pending": pending })))
}

#[derive(Deserialize)]
struct DownRequest {
    down: bool,
}

/// `POST /_fake/down {down}` → `{down}`.
pub(super) async fn down(
    State(fake): State<FakeWix>,
    body: Result<Bytes, BytesRejection>,
) -> ControlResult {
    let req: DownRequest = parse(body)?;
    fake.set_down(req.down);
    Ok(Json(json!({ "down": req.down })))
}

#[derive(Deserialize)]
struct LatencyRequest {
    millis: u64,
}

/// `POST /_fake/latency {millis}` → `{millis}`.
pub(super) async fn latency(
    State(fake): State<FakeWix>,
    body: Result<Bytes, BytesRejection>,
) -> ControlResult {
    let req: LatencyRequest = parse(body)?;
    fake.set_latency(Duration::from_millis(req.millis));
    Ok(Json(json!({ "millis": req.millis })))
}

#[derive(Deserialize)]
struct SiteNameRequest {
    instance_id: String,
    name: String,
}

/// `POST /_fake/site-name {instance_id, name}` → `{instance_id, name}`.
pub(super) async fn site_name(
    State(fake): State<FakeWix>,
    body: Result<Bytes, BytesRejection>,
) -> ControlResult {
    let req: SiteNameRequest = parse(body)?;
    fake.set_site_name(&req.instance_id, &req.name);
    Ok(Json(
        json!({ "instance_id": req.instance_id, "name": req.name }),
    ))
}

#[derive(Deserialize)]
struct PlanRequest {
    instance_id: String,
    #[serde(default)]
    plan: Option<String>,
}

/// `POST /_fake/plan {instance_id, plan}` → `{instance_id, plan}`: what Get App Instance
/// reports as `billing.packageName` (`null` or empty = free).
pub(super) async fn plan(
    State(fake): State<FakeWix>,
    body: Result<Bytes, BytesRejection>,
) -> ControlResult {
    let req: PlanRequest = parse(body)?;
    let plan = req.plan.filter(|p| !p.is_empty());
    fake.set_plan(&req.instance_id, plan.as_deref());
    Ok(Json(
        json!({ "instance_id": req.instance_id, "plan": plan }),
    ))
}

#[derive(Deserialize)]
struct RevokeRequest {
    instance_id: String,
}

/// `POST /_fake/revoke {instance_id}` → `{revoked: true}`: the instance's app tokens get 401.
pub(super) async fn revoke(
    State(fake): State<FakeWix>,
    body: Result<Bytes, BytesRejection>,
) -> ControlResult {
    let req: RevokeRequest = parse(body)?;
    fake.revoke_app_tokens(&req.instance_id);
    Ok(Json(json!({ "revoked": true })))
}

/// `GET /_fake/counters` → `{token_requests: {<instance>: n}, token_info_requests, requests}`.
pub(super) async fn counters(State(fake): State<FakeWix>) -> ControlResult {
    let state = fake.lock();
    serde_json::to_value(&state.counters)
        .map(Json)
        .map_err(|_| FakeWixError::injected(500, None))
}

/// `GET /_fake/contacts?instance_id=X` → `{contacts: [FakeContact]}`.
pub(super) async fn contacts(
    State(fake): State<FakeWix>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ControlResult {
    let instance_id = query
        .ok()
        .and_then(|Query(mut q)| q.remove("instance_id"))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| FakeWixError::violation("instance_id", "Required.", "REQUIRED_FIELD"))?;
    Ok(Json(json!({ "contacts": fake.contacts(&instance_id) })))
}
