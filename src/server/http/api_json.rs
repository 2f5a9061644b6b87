//! The `/api` edge: request bodies must be JSON, and every error answer is our JSON
//! `{"error", "message"}`, whoever produced it (server_fn, the router's fallback, a limit).

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::{error_response, MAX_BODY_BYTES};
use crate::api::{ApiError, ErrorCode};

/// For `/api/*`: refuses non-JSON bodies with 415, and turns every error response that is not
/// already our JSON (405 from server_fn, 404 from the fallback, 413 from the body limit) into
/// `{"error", "message"}`, keeping the other headers (CORS, `Allow`).
pub(super) async fn api_json_edges(req: Request, next: Next) -> Response {
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
