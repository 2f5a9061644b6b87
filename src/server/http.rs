//! HTTP edges: CORS, security headers, JSON errors for everything under `/api`, the body-read
//! deadline, load shedding, and the health check. The 16 KiB body limit ([`MAX_BODY_BYTES`]) is
//! applied in `router` to everything but the webhook route, which has its own (256 KiB).

use std::collections::HashSet;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::error_handling::HandleErrorLayer;
use axum::extract::{Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::header::{
    ALLOW, AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    LOCATION, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{BoxError, Json, Router};
use futures::StreamExt as _;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use super::client_addr::{resolve_client, ClientAddrResolver};
use super::webhooks::{MAX_WEBHOOK_BODY_BYTES, WEBHOOK_PATH};
use super::{AppState, Config};
use crate::api::{ApiError, ErrorCode};

/// Request bodies larger than this are refused with 413 before any handler runs.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// All request header names and values together may not exceed this (431 otherwise).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Wraps the router in the edge layers. The last layer added is the outermost, so CORS sees
/// (and answers preflights for) every request first, including 404s and errors. The body limit
/// ([`MAX_BODY_BYTES`]) is the innermost layer of the app router, added in `router`. Request
/// bodies are read whole ([`read_body_in_time`]) before the concurrency limit, so only requests
/// that are ready to be handled compete for its permits.
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
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
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
        .layer(cors(config))
}

/// Exactly the app's `*.wix.run` origin and `ALLOWED_ORIGINS`; in dev also any loopback origin.
pub fn cors(config: &Config) -> CorsLayer {
    let exact: HashSet<String> = std::iter::once(config.wix_run_origin())
        .chain(config.http.allowed_origins.iter().cloned())
        .collect();
    let dev = config.is_dev();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin
                .to_str()
                .is_ok_and(|o| exact.contains(o) || (dev && is_loopback_origin(o)))
        }))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([AUTHORIZATION, CONTENT_TYPE])
        .max_age(Duration::from_secs(600))
}

/// `http://localhost[:port]`, `http://127.0.0.1[:port]` or `http://[::1][:port]`, exactly.
fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("http://") else {
        return false;
    };
    let port = ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .find_map(|host| rest.strip_prefix(host));
    match port {
        Some("") => true,
        Some(p) => p.strip_prefix(':').is_some_and(|digits| {
            !digits.is_empty() && digits.len() <= 5 && digits.bytes().all(|b| b.is_ascii_digit())
        }),
        None => false,
    }
}

/// For `/api/*`: refuses non-JSON bodies with 415, and turns every error response that is not
/// already our JSON (405 from server_fn, 404 from the fallback, 413 from the body limit) into
/// `{"error", "message"}`, keeping the other headers (CORS, `Allow`).
async fn api_json_edges(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !(path == "/api" || path.starts_with("/api/")) {
        return next.run(req).await;
    }
    if req.method() == Method::POST {
        if let Some(content_type) = req.headers().get(CONTENT_TYPE) {
            if !is_json(content_type) {
                return error_response(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "Send the request body as JSON with Content-Type: application/json.",
                ));
            }
        }
    }
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // server_fn adds a redirect for HTML-accepting clients; an API error is not a redirect.
    parts.headers.remove(LOCATION);
    if parts.headers.get(CONTENT_TYPE).is_some_and(is_json) {
        return Response::from_parts(parts, body);
    }
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::new(ErrorCode::NotFound, "No such API endpoint."),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = parts
                .headers
                .get(ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("POST");
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                format!("Use {allowed} for this endpoint."),
            )
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
        ),
        StatusCode::SERVICE_UNAVAILABLE => ApiError::new(
            ErrorCode::Timeout,
            "The request took too long. Please try again.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Send the request body as JSON.",
        ),
        s if s.is_client_error() => ApiError::invalid_input("The request could not be processed."),
        _ => ApiError::internal(),
    };
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(error.to_json()))
}

fn is_json(content_type: &HeaderValue) -> bool {
    content_type.to_str().is_ok_and(|ct| {
        let essence = ct.split(';').next().unwrap_or("").trim();
        essence.eq_ignore_ascii_case("application/json")
    })
}

pub(super) fn error_response(error: ApiError) -> Response {
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

/// Reads the whole request body within `deadline` (`BODY_READ_TIMEOUT_SECS`) and hands the
/// request on with the body in memory; a body still incomplete by then gets 408
/// `request_timeout` and the connection is closed.
///
/// Why: the concurrency limit counts requests from the moment their headers arrive, so a client
/// sending its body one byte a second would hold a permit until `REQUEST_TIMEOUT_SECS`, and a few
/// hundred such clients would get every other request shed with 503. Read here, outside the
/// limit, a slow body costs only its connection (capped by `MAX_CONNECTIONS`) and its bytes.
///
/// At most one byte more than the route's limit is read (16 KiB, 256 KiB on the webhook
/// route), and a body that declares more is passed on unread: the size limits inside (the
/// `RequestBodyLimitLayer` and the webhook handler's own) still answer 413 exactly as before.
/// Requests without a body (GET, HEAD, OPTIONS, or an empty body) pass straight through.
async fn read_body_in_time(State(deadline): State<Duration>, req: Request, next: Next) -> Response {
    if !may_have_body(&req) {
        return next.run(req).await;
    }
    let limit = body_limit(req.uri().path());
    if HttpBody::size_hint(req.body()).lower() > limit as u64 {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(deadline, read_at_most(body, limit + 1)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        // The same codes the routes themselves give an unreadable body.
        Ok(Err(())) if parts.uri.path() == WEBHOOK_PATH => {
            close_after(error_response(ApiError::new(
                ErrorCode::InvalidWebhook,
                "The webhook body could not be read.",
            )))
        }
        Ok(Err(())) => close_after(error_response(ApiError::invalid_input(
            "The request body could not be read.",
        ))),
        Err(_) => close_after(error_response(ApiError::new(
            ErrorCode::RequestTimeout,
            format!(
                "The request body was not received within {} seconds.",
                deadline.as_secs()
            ),
        ))),
    }
}

/// Methods whose requests carry no body worth waiting for, and bodies known to be empty.
fn may_have_body(req: &Request) -> bool {
    let bodiless = [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE];
    !bodiless.contains(req.method()) && !HttpBody::is_end_stream(req.body())
}

/// The largest body the route accepts.
fn body_limit(path: &str) -> usize {
    if path == WEBHOOK_PATH {
        MAX_WEBHOOK_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    }
}

/// The body's bytes, stopping once at least `max` have arrived (what was read is returned, so
/// the size limit inside still sees an oversized body). `Err` when the body stream fails (the
/// client went away or sent a malformed chunk).
async fn read_at_most(body: Body, max: usize) -> Result<Bytes, ()> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.map_err(|_| ())?);
        if bytes.len() >= max {
            break;
        }
    }
    Ok(Bytes::from(bytes))
}

/// The body was not read to its end, so the connection cannot carry another request.
fn close_after(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Longest `x-request-id` kept from a client.
const MAX_REQUEST_ID_LEN: usize = 64;

/// A client's `x-request-id` is kept (and logged, and echoed) only when it is at most 64
/// characters of `[A-Za-z0-9._-]`; anything else is dropped here and replaced by a fresh id, so
/// clients cannot inject text into logs or responses.
async fn drop_unsafe_request_id(mut req: Request, next: Next) -> Response {
    let headers = req.headers();
    let ids = headers.get_all("x-request-id");
    let mut ids = ids.iter();
    let safe = match (ids.next(), ids.next()) {
        (None, _) => true,
        (Some(id), None) => is_safe_request_id(id.as_bytes()),
        (Some(_), Some(_)) => false,
    };
    if !safe {
        req.headers_mut().remove("x-request-id");
    }
    next.run(req).await
}

fn is_safe_request_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
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

/// One span per request: request id, method, path (never the query: page URLs carry the signed
/// instance), and once known the instance id and role (recorded by `Caller::authenticate`),
/// status and latency. The `response` event is the access log line.
#[allow(clippy::type_complexity)]
fn trace_layer() -> TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    impl Fn(&Request) -> Span + Clone,
    (),
    impl Fn(&Response, Duration, &Span) + Clone,
    (),
    (),
    (),
> {
    TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
            let request_id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!(
                "request",
                request_id = %request_id,
                method = %req.method(),
                path = %req.uri().path(),
                client_addr = tracing::field::Empty,
                instance_id = tracing::field::Empty,
                role = tracing::field::Empty,
                status = tracing::field::Empty,
                latency_ms = tracing::field::Empty,
            )
        })
        .on_request(())
        .on_response(|res: &Response, latency: Duration, span: &Span| {
            let latency_ms = latency.as_millis() as u64;
            span.record("status", res.status().as_u16());
            span.record("latency_ms", latency_ms);
            tracing::info!(status = res.status().as_u16(), latency_ms, "response");
        })
        .on_body_chunk(())
        .on_eos(())
        .on_failure(())
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
pub async fn healthz(State(app): State<AppState>) -> Response {
    if app.store.is_healthy().await {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_short_request_ids_are_kept() {
        for ok in ["trace-me-123", "a", "A.b_c-9", &"x".repeat(64)] {
            assert!(is_safe_request_id(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "",
            "has space",
            "new\nline",
            "quote\"",
            "ü",
            &"x".repeat(65),
        ] {
            assert!(!is_safe_request_id(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn loopback_origins_are_matched_exactly() {
        for ok in [
            "http://localhost",
            "http://localhost:5173",
            "http://127.0.0.1:3000",
            "http://[::1]:8080",
        ] {
            assert!(is_loopback_origin(ok), "{ok}");
        }
        for bad in [
            "http://localhost.evil.example",
            "http://localhost:5173.evil.example",
            "https://localhost:5173",
            "http://127.0.0.1.nip.io",
            "http://localhost:",
            "http://localhost:99999x",
            "http://evil.example/http://localhost",
        ] {
            assert!(!is_loopback_origin(bad), "{bad}");
        }
    }
}
