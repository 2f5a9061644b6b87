//! HTTP edges: everything a request passes through before (and after) the router, in the order
//! [`edges`] stacks it, plus the health check. The body limit ([`MAX_BODY_BYTES`]) is applied in
//! `router` to everything but the webhook route, which has its own
//! ([`MAX_WEBHOOK_BODY_BYTES`](super::webhooks::MAX_WEBHOOK_BODY_BYTES)).
//!
//! This file is the stack itself, load shedding, the header-size limit and the JSON error
//! response every edge answers with. Each edge with logic of its own has its own file:
//! - `cors.rs`: which origins may call (and the loopback origins of dev);
//! - `request_span.rs`: the request id (sanitised) and the request's log span;
//! - `body_deadline.rs`: reading the body within `BODY_READ_TIMEOUT_SECS`, outside the
//!   concurrency limit;
//! - `api_json.rs`: JSON-only bodies and JSON errors for everything under `/api`.

mod api_json;
mod body_deadline;
mod cors;
mod request_span;

use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, RETRY_AFTER,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{BoxError, Json, Router};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use super::client_addr::{resolve_client, ClientAddrResolver};
use super::{AppState, Config};
use crate::api::{ApiError, ErrorCode};
use api_json::api_json_edges;
use body_deadline::read_body_in_time;
use cors::cors;
use request_span::{drop_unsafe_request_id, trace_layer, FastRequestId};

/// Request bodies larger than this are refused with 413 before any handler runs.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// All request header names and values together may not exceed this (431 otherwise).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Wraps the router in the edge layers. The last layer added is the outermost, so CORS sees
/// (and answers preflights for) every request first, including 404s and errors. The body limit
/// ([`MAX_BODY_BYTES`]) is the innermost layer of the app router, added in `router`. Request
/// bodies are read whole ([`read_body_in_time`]) before the concurrency limit, so only
/// requests that are ready to be handled compete for its permits.
pub fn edges(router: Router, config: &Config) -> Router {
    let frame_ancestors =
        HeaderValue::from_str(&format!("frame-ancestors {}", config.http.frame_ancestors))
            .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'"));
    let shed_load = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|_: BoxError| async {
            error_response(ApiError {
                retry_after_secs: Some(1),
                ..ApiError::new(
                    ErrorCode::Overloaded,
                    "The server is too busy right now. Please try again in a moment.",
                )
            })
        }))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::new(
            config.http.max_concurrent_requests,
        ));
    router
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(config.http.request_timeout_secs),
        ))
        .layer(middleware::from_fn(api_json_edges))
        .layer(middleware::from_fn(limit_header_size))
        .layer(shed_load)
        // Outside the concurrency limit: a slow body waits here without holding a permit.
        .layer(middleware::from_fn_with_state(
            Duration::from_secs(config.http.body_read_timeout_secs),
            read_body_in_time,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(middleware::from_fn_with_state(
            ClientAddrResolver::new(&config.http.trusted_proxies),
            resolve_client,
        ))
        .layer(trace_layer())
        .layer(SetRequestIdLayer::x_request_id(FastRequestId))
        .layer(middleware::from_fn(drop_unsafe_request_id))
        .layer(SetResponseHeaderLayer::overriding(
            CONTENT_SECURITY_POLICY,
            frame_ancestors,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Page URLs carry the signed instance: never send them to anyone in a Referer.
        .layer(SetResponseHeaderLayer::overriding(
            REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        // Pages are rendered for one signed instance: no cache, shared or private, keeps them.
        .layer(SetResponseHeaderLayer::if_not_present(
            CACHE_CONTROL,
            html_is_not_stored,
        ))
        .layer(compress_dynamic())
        .layer(cors(config))
}

/// Compresses what is rendered per request (pages, API answers, the CSV export) for clients
/// that accept brotli or gzip; `/pkg` files already carry a `Content-Encoding` (the build's
/// precompressed copies) and pass through, as do bodies of 32 bytes or less and images.
/// Level 4: brotli's default (11) is meant for build-time compression and costs milliseconds
/// per response. BREACH does not apply: no response carries a secret, and requests are
/// authorised by an explicit header, not an ambient cookie another site could make a browser send.
fn compress_dynamic() -> CompressionLayer {
    CompressionLayer::new()
        .no_deflate()
        .no_zstd()
        .quality(CompressionLevel::Precise(4))
}

fn html_is_not_stored(res: &Response) -> Option<HeaderValue> {
    res.headers()
        .get(CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .filter(|t| t.starts_with("text/html"))
        .map(|_| HeaderValue::from_static("no-store"))
}

/// An [`ApiError`] as a response built outside server_fn: its status, the JSON body and
/// `Retry-After` when it has one.
pub(crate) fn error_response(error: ApiError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        [(CONTENT_TYPE, "application/json")],
        error.to_json(),
    )
        .into_response();
    if let Some(secs) = error.retry_after_secs {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// Refuses requests whose headers add up to more than [`MAX_HEADER_BYTES`] (431).
async fn limit_header_size(req: Request, next: Next) -> Response {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        return error_response(ApiError::new(
            ErrorCode::HeadersTooLarge,
            format!("The request headers are larger than {MAX_HEADER_BYTES} bytes."),
        ));
    }
    next.run(req).await
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
/// How long a successful database probe answers `/healthz` (a load balancer probing every
/// replica often, or a flood of `/healthz`, costs at most one query a second).
pub const HEALTH_PROBE_TTL: Duration = Duration::from_secs(1);

/// The last successful database probe. A failed probe is never reused: the next request
/// probes again.
#[derive(Debug, Default)]
pub struct HealthProbe {
    /// Milliseconds since `epoch` at the last success; 0 = none yet.
    ok_at_ms: std::sync::atomic::AtomicU64,
    epoch: std::sync::OnceLock<std::time::Instant>,
}

impl HealthProbe {
    fn now_ms(&self) -> u64 {
        let epoch = self.epoch.get_or_init(std::time::Instant::now);
        u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX) + 1
    }

    async fn is_healthy(&self, store: &crate::store::Store) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let now = self.now_ms();
        let ok_at = self.ok_at_ms.load(Relaxed);
        if ok_at != 0 && now.saturating_sub(ok_at) < HEALTH_PROBE_TTL.as_millis() as u64 {
            return true;
        }
        let healthy = store.is_healthy().await;
        if healthy {
            self.ok_at_ms.store(self.now_ms(), Relaxed);
        }
        healthy
    }
}

pub async fn healthz(State(app): State<AppState>) -> Response {
    if app.health.is_healthy(&app.store).await {
        (StatusCode::OK, Json(serde_json::json!({ "status": "ok" }))).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({
                "status": "unavailable",
                "error": ErrorCode::Unavailable.as_str(),
                "message": "The database is not answering.",
            })),
        )
            .into_response()
    }
}
