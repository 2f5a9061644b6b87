//! `POST /webhooks/wix` and the background purge: how the app learns that a site installed or
//! removed it, and forgets a removed site's data after `DATA_RETENTION_DAYS`.
//!
//! The body is read here, with its own size limit (Wix events are small, but up to
//! [`MAX_WEBHOOK_BODY_BYTES`] is allowed, more than the API's `http::MAX_BODY_BYTES`), then
//! verified by [`crate::auth::WebhookVerifier`] and recorded by [`crate::store::InstanceRepo`],
//! which makes redeliveries and late events harmless. Answers are JSON: 200 for every verified
//! event (also types we do not act on, so Wix does not retry them), 400/401/413 for bad input,
//! and 500 only when our database fails (Wix then retries).

use std::time::Duration as StdDuration;

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{ALLOW, CONTENT_LENGTH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt as _;

use super::http::error_response;
use super::AppState;
use crate::api::{ApiError, ErrorCode};
use crate::auth::{TenantId, WebhookEvent, APP_INSTALLED, APP_REMOVED};
use crate::store::{
    DeliveredEvent, Lifecycle, Outcome, PlanChange, PurgeReport, Store, StoreError,
};

pub const WEBHOOK_PATH: &str = "/webhooks/wix";
/// Webhook bodies larger than this are refused with 413.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 256 * 1024;
/// Billing events that state the instance's plan (`vendorProductId` in the event body). A
/// cancelled auto-renewal keeps the plan until it expires, so it restates the same id. Other
/// billing events (`PlanTransferred`, future ones) are recorded and acknowledged, not applied.
pub const PLAN_EVENTS: [&str; 5] = [
    "PaidPlanPurchased",
    "PaidPlanChanged",
    "PaidPlanAutoRenewalCancelled",
    "PlanConvertedToPaid",
    "PlanReactivated",
];

/// How often the background job looks for removed instances whose retention has run out.
pub const PURGE_INTERVAL: StdDuration = StdDuration::from_secs(3600);

/// `POST /webhooks/wix`. Any content type is accepted (Wix sends `text/plain`).
pub async fn receive(State(app): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let body = match read_body(&headers, body).await {
        Ok(body) => body,
        Err(error) => return error_response(error),
    };
    let now = Utc::now();
    let event = match app.webhook_verifier.verify_at(&body, now) {
        Ok(event) => event,
        Err(err) => {
            let error = ApiError::from(err);
            // The reason only: the token itself never reaches a log.
            tracing::warn!(code = error.error.as_str(), reason = %error.message, "rejected webhook");
            return error_response(error);
        }
    };
    match handle_event(&app, &event, now).await {
        Ok(outcome) => (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "ok", "outcome": outcome.as_str() })),
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "webhook not recorded; Wix will retry");
            error_response(err.into())
        }
    }
}

/// Any other method on the webhook path: JSON 405 like the API's.
pub async fn method_not_allowed() -> Response {
    let mut response = error_response(ApiError::new(
        ErrorCode::MethodNotAllowed,
        "Use POST for this endpoint.",
    ));
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("POST"));
    response
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("The webhook body is larger than {MAX_WEBHOOK_BODY_BYTES} bytes."),
    )
}

/// Reads at most [`MAX_WEBHOOK_BODY_BYTES`], refusing early on a larger `Content-Length`.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, ApiError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_WEBHOOK_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidWebhook,
                "The webhook body could not be read.",
            )
        })?;
        if bytes.len() + chunk.len() > MAX_WEBHOOK_BODY_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Records a verified event and applies it to its instance. Also used by the `/dev` page.
pub async fn handle_event(
    app: &AppState,
    event: &WebhookEvent,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let change = match event.event_type.as_str() {
        APP_INSTALLED => Some(Lifecycle::Installed),
        APP_REMOVED => Some(Lifecycle::Removed),
        _ => None,
    };
    let plan = plan_change(event, now);
    let instance_id = event.tenant.as_ref().map(TenantId::as_str).unwrap_or("");
    let outcome = app
        .store
        .instances()
        .record(&DeliveredEvent {
            key: &event.key,
            event_type: &event.event_type,
            tenant: event.tenant.as_ref(),
            change,
            plan,
            event_at: event.issued_at.unwrap_or(now),
            received_at: now,
        })
        .await?;
    match change.map(|_| ()).or(plan.map(|_| ())) {
        None => tracing::info!(
            event_type = %event.event_type,
            instance_id,
            outcome = outcome.as_str(),
            "webhook event type not handled; acknowledged"
        ),
        Some(_) => tracing::info!(
            event_type = %event.event_type,
            instance_id,
            outcome = outcome.as_str(),
            "webhook"
        ),
    }
    if let (Some(Lifecycle::Installed), Some(tenant), Some(origin)) =
        (change, event.tenant.as_ref(), event.origin.as_ref())
    {
        // A duplicated site: its origin's widget settings, once (the store records the copy,
        // so a redelivery, whatever its outcome, copies nothing more). Never feedback or emails.
        let copied = app.store.widgets().copy_from_origin(tenant, origin).await?;
        tracing::info!(
            instance_id = tenant.as_str(),
            origin_instance_id = origin.as_str(),
            copied,
            "duplicated site: widget settings copied from its origin"
        );
    }
    if let (Outcome::Applied, Some(Lifecycle::Installed)) = (outcome, change) {
        // The site's parked contact syncs may go now.
        app.contact_sync.wake();
    }
    if let (Outcome::Applied, Some(Lifecycle::Removed), Some(tenant)) =
        (outcome, change, event.tenant.as_ref())
    {
        on_instance_removed(app, tenant).await;
        if app.config.store.data_retention_days == 0 {
            purge_due(&app.store, 0, now).await?;
        }
    }
    Ok(outcome)
}

/// The plan a billing event sets: its body's `vendorProductId` (`null` or empty = free), as of
/// its `operationTimeStamp` (else the token's `iat`, else now). `None` for other event types and
/// for a billing event without the field.
fn plan_change(event: &WebhookEvent, now: DateTime<Utc>) -> Option<PlanChange<'_>> {
    if !PLAN_EVENTS.contains(&event.event_type.as_str()) {
        return None;
    }
    let body = event.body.as_object()?;
    let plan_id = match body.get("vendorProductId")? {
        serde_json::Value::Null => None,
        serde_json::Value::String(id) => Some(id.trim()).filter(|id| !id.is_empty()),
        _ => return None,
    };
    let at = body
        .get("operationTimeStamp")
        .and_then(serde_json::Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .or(event.issued_at)
        .unwrap_or(now);
    Some(PlanChange { plan_id, at })
}

/// The app's access token for a removed instance is dropped (memory and database): the site
/// revoked the app, and a reinstall gets a fresh one.
async fn on_instance_removed(app: &AppState, tenant: &TenantId) {
    app.wix.drop_tokens(tenant.as_str()).await;
    tracing::debug!(
        instance_id = tenant.as_str(),
        "instance removed; app token dropped"
    );
}

/// Deletes the data of instances removed more than `retention_days` before `now` (and not
/// reinstalled), and forgets old processed-delivery keys. Callable directly with any `now`.
pub async fn purge_due(
    store: &Store,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<PurgeReport, StoreError> {
    let instances = store.instances();
    let report = instances
        .purge_removed(now, Duration::days(i64::from(retention_days)))
        .await?;
    if report.instances > 0 {
        tracing::info!(
            instances = report.instances,
            feedback_rows = report.feedback_rows,
            retention_days,
            "purged the data of removed instances"
        );
    }
    instances.prune_event_keys(now).await?;
    Ok(report)
}

/// The background job spawned by `serve`: a purge at start-up, then every [`PURGE_INTERVAL`].
pub async fn purge_loop(store: Store, retention_days: u32) {
    let mut tick = tokio::time::interval(PURGE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(err) = purge_due(&store, retention_days, Utc::now()).await {
            tracing::error!(error = %err, "purge of removed instances failed; retrying later");
        }
        if let Some(shared) = store.shared_rate_limits() {
            if let Err(err) = shared.prune().await {
                tracing::warn!(error = %err, "cannot prune shared rate limits; retrying later");
            }
        }
    }
}
