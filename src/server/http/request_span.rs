//! The request id and the request's log span. A client's `x-request-id` is kept only when it is
//! plain and short, otherwise replaced by a fresh one; the span carries it, with method, path
//! and (once known) instance, role, status and latency, and its `response` event is the access
//! log line.

use std::time::Duration;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::request_id::{MakeRequestId, RequestId};
use tower_http::trace::TraceLayer;
use tracing::Span;

/// Longest `x-request-id` kept from a client.
const MAX_REQUEST_ID_LEN: usize = 64;

/// A random (v4) UUID for each request that arrives without an `x-request-id`, drawn from the
/// thread's `fastrand` generator rather than the OS (`MakeRequestUuid` makes a `getrandom`
/// system call per request). A request id correlates log lines; it is not a secret, so it
/// needs no cryptographic generator.
#[derive(Clone, Copy, Default)]
pub(super) struct FastRequestId;

impl MakeRequestId for FastRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid();
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let text = id.hyphenated().encode_lower(&mut buf);
        HeaderValue::from_str(text).ok().map(RequestId::new)
    }
}

/// A client's `x-request-id` is kept (and logged, and echoed) only when it is at most
/// [`MAX_REQUEST_ID_LEN`] characters of `[A-Za-z0-9._-]`; anything else is dropped here and
/// replaced by a fresh id, so clients cannot inject text into logs or responses.
pub(super) async fn drop_unsafe_request_id(mut req: Request, next: Next) -> Response {
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

/// One span per request: request id, method, path (never the query: page URLs carry the signed
/// instance), and once known the instance id and role (recorded by `Caller::authenticate`),
/// status and latency. The `response` event is the access log line.
#[allow(clippy::type_complexity)]
pub(super) fn trace_layer() -> TraceLayer<
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_request_ids_are_distinct_v4_uuids() {
        let req = Request::new(axum::body::Body::empty());
        let mut make = FastRequestId;
        let ids: std::collections::HashSet<String> = (0..1000)
            .map(|_| {
                let id = make.make_request_id(&req).expect("an id");
                let text = id.header_value().to_str().unwrap().to_owned();
                let parsed = uuid::Uuid::parse_str(&text).expect("a UUID");
                assert_eq!(parsed.get_version_num(), 4, "{text}");
                assert!(is_safe_request_id(text.as_bytes()), "{text}");
                text
            })
            .collect();
        assert_eq!(ids.len(), 1000);
    }

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
}
