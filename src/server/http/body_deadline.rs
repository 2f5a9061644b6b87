//! The body-read deadline: a request's body is read whole, within `BODY_READ_TIMEOUT_SECS`,
//! before the request may compete for the concurrency limit's permits, so slow bodies cannot
//! starve everyone else (see [`read_body_in_time`]).

use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt as _;

use super::{error_response, MAX_BODY_BYTES};
use crate::api::{ApiError, ErrorCode};
use crate::server::webhooks::{MAX_WEBHOOK_BODY_BYTES, WEBHOOK_PATH};

/// Reads the whole request body within `deadline` (`BODY_READ_TIMEOUT_SECS`) and hands the
/// request on with the body in memory; a body still incomplete by then gets 408
/// `request_timeout` and the connection is closed.
///
/// Why: the concurrency limit counts requests from the moment their headers arrive, so a client
/// sending its body one byte a second would hold a permit until `REQUEST_TIMEOUT_SECS`, and a few
/// hundred such clients would get every other request shed with 503. Read here, outside the
/// limit, a slow body costs only its connection (capped by `MAX_CONNECTIONS`) and its bytes.
///
/// At most one byte more than the route's limit is read ([`MAX_BODY_BYTES`],
/// [`MAX_WEBHOOK_BODY_BYTES`] on the webhook route), and a body that declares more is passed on
/// unread: the size limits inside (the `RequestBodyLimitLayer` and the webhook handler's own)
/// still answer 413 exactly as before.
/// Requests without a body (GET, HEAD, OPTIONS, or an empty body) pass straight through.
pub(super) async fn read_body_in_time(
    State(deadline): State<Duration>,
    req: Request,
    next: Next,
) -> Response {
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
