//! The one error type every `/api` server function returns.
//!
//! On the wire it is always `{"error": "<stable_code>", "message": "<human text>"}` with the HTTP
//! status that belongs to the code. The status is set in [`FromServerFnError::ser`], which is the
//! single place server_fn calls to turn an error into a response body, so a function never has to
//! remember to set it, and an error that is built but not returned changes nothing.

//!
//! Lower layers (`auth`, `store`, `wix`) have their own error enums and know nothing of HTTP;
//! the conversions at the end of this file are the one place that decides which code and status
//! each of their errors gets.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::{Bytes, Encodes};
use serde::{Deserialize, Serialize};
use strum::IntoStaticStr;

/// Stable, documented error codes. Renaming one is a breaking change of the HTTP contract.
///
/// The spelling is derived once from the variant name by the same `snake_case` rule for serde
/// (the JSON body) and strum ([`ErrorCode::as_str`], for logs and hand-built bodies); the tests
/// pin every code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, IntoStaticStr)]
#[cfg_attr(test, derive(strum::VariantArray))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    // 400
    InvalidInput,
    InvalidWebhook,
    // 401
    MissingAuthorization,
    AuthorizationTooLong,
    MalformedInstance,
    InvalidSignature,
    MissingInstanceId,
    InstanceExpired,
    InstanceNotYetValid,
    InvalidAccessToken,
    InvalidWebhookSignature,
    // 402
    /// The endpoint needs a premium plan; the site is on the free plan.
    PlanRequired,
    /// The free plan's monthly feedback allowance is used up; nothing was stored.
    PlanLimitReached,
    // 403
    Forbidden,
    InstanceRemoved,
    // 404
    NotFound,
    // 405, 408, 413, 415
    MethodNotAllowed,
    /// The request body did not arrive within `BODY_READ_TIMEOUT_SECS`.
    RequestTimeout,
    PayloadTooLarge,
    UnsupportedMediaType,
    // 429
    TooManyRequests,
    // 500, 503
    Internal,
    Unavailable,
    AuthUnavailable,
    /// Too many requests in flight: shed instead of queueing.
    Overloaded,
    /// The request took longer than the server allows.
    Timeout,
    // 431
    HeadersTooLarge,
    /// Client side only: the request never got a JSON answer (network down, server gone).
    Network,
    /// A code this build does not know (a newer server); keeps old clients decoding.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidInput | ErrorCode::InvalidWebhook => 400,
            ErrorCode::MissingAuthorization
            | ErrorCode::AuthorizationTooLong
            | ErrorCode::MalformedInstance
            | ErrorCode::InvalidSignature
            | ErrorCode::MissingInstanceId
            | ErrorCode::InstanceExpired
            | ErrorCode::InstanceNotYetValid
            | ErrorCode::InvalidAccessToken
            | ErrorCode::InvalidWebhookSignature => 401,
            ErrorCode::PlanRequired | ErrorCode::PlanLimitReached => 402,
            ErrorCode::Forbidden | ErrorCode::InstanceRemoved => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::HeadersTooLarge => 431,
            ErrorCode::Unavailable
            | ErrorCode::AuthUnavailable
            | ErrorCode::Overloaded
            | ErrorCode::Timeout => 503,
            ErrorCode::Internal | ErrorCode::Network | ErrorCode::Unknown => 500,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Authentication failed: the page should tell the user to open the app from Wix again.
    pub fn is_auth(self) -> bool {
        self.status() == 401
    }
}

/// What a 429/503 answer tells the client to wait, in seconds.
pub const RETRY_AFTER_SECS: u64 = 60;

/// `{"error": code, "message": text}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{error:?}: {message}")]
pub struct ApiError {
    pub error: ErrorCode,
    pub message: String,
    /// For 429/503: seconds the client should wait (sent as `Retry-After`, not in the body).
    #[serde(skip)]
    pub retry_after_secs: Option<u64>,
    /// For 500s: what went wrong, for the server log only (never serialised).
    #[serde(skip)]
    pub detail: Option<String>,
}

impl ApiError {
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error,
            message: message.into(),
            retry_after_secs: None,
            detail: None,
        }
    }

    /// Keeps `detail` for the log line written when this error becomes a response.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// 429 `too_many_requests`, retry after `secs`.
    pub fn too_many_requests(message: impl Into<String>, secs: u64) -> Self {
        Self::new(ErrorCode::TooManyRequests, message).retry_after(secs)
    }

    /// Sets `Retry-After`: on the current server-function response (server_fn turns the error
    /// into the body itself, so the header must be set here), and on this value for responses
    /// built outside server_fn.
    pub fn retry_after(mut self, secs: u64) -> Self {
        let secs = secs.max(1);
        self.retry_after_secs = Some(secs);
        #[cfg(feature = "ssr")]
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.insert_header(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        self
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "No feedback with this id.")
    }

    pub fn forbidden() -> Self {
        Self::new(
            ErrorCode::Forbidden,
            "Only the site owner can do this. Open the app from the Wix dashboard.",
        )
    }

    /// The site uninstalled the app; it works again once the app is reinstalled.
    pub fn instance_removed() -> Self {
        Self::new(
            ErrorCode::InstanceRemoved,
            "This app was removed from the site. Reinstall it from the Wix App Market to use it again.",
        )
    }

    /// 402: the site's plan does not include this.
    pub fn plan_required() -> Self {
        Self::new(
            ErrorCode::PlanRequired,
            "This needs the app's premium plan. Upgrade the app from the dashboard to use it.",
        )
    }

    /// 402: the free plan's monthly allowance of new feedback is used up.
    pub fn plan_limit_reached() -> Self {
        Self::new(
            ErrorCode::PlanLimitReached,
            "This site is not taking new feedback right now. Please try again next month.",
        )
    }

    /// A failure whose details belong in the server log, not in the response.
    pub fn internal() -> Self {
        Self::new(
            ErrorCode::Internal,
            "Something went wrong on our side. Please try again.",
        )
    }

    pub fn status(&self) -> u16 {
        self.error.status()
    }

    /// The JSON body, for responses built outside server_fn (middleware, plain handlers).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"error":"internal","message":"Something went wrong on our side."}"#.to_owned()
        })
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // On the server these mean the request body did not fit the function's input.
            ServerFnErrorErr::Deserialization(m)
            | ServerFnErrorErr::Args(m)
            | ServerFnErrorErr::MissingArg(m)
                if cfg!(feature = "ssr") =>
            {
                ApiError::invalid_input(m)
            }
            ServerFnErrorErr::Request(m) | ServerFnErrorErr::Response(m) => {
                ApiError::new(ErrorCode::Network, m)
            }
            _ if cfg!(feature = "ssr") => ApiError::internal(),
            other => ApiError::new(ErrorCode::Network, other.to_string()),
        }
    }

    fn ser(&self) -> Bytes {
        // Where a server function's error is handled: the one place its details are logged.
        #[cfg(feature = "ssr")]
        if let Some(detail) = &self.detail {
            tracing::error!(code = self.error.as_str(), error = %detail, "request failed");
        }
        #[cfg(feature = "ssr")]
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = axum::http::StatusCode::from_u16(self.status()) {
                response.set_status(status);
            }
        }
        <JsonEncoding as Encodes<Self>>::encode(self)
            .unwrap_or_else(|_| Bytes::from(ApiError::internal().to_json()))
    }
}

impl From<ServerFnErrorErr> for ApiError {
    fn from(value: ServerFnErrorErr) -> Self {
        Self::from_server_fn_error(value)
    }
}

/// Every server-side conversion from a lower layer's error into the HTTP contract.
#[cfg(feature = "ssr")]
mod from_layers {
    use super::{ApiError, ErrorCode, RETRY_AFTER_SECS};
    use crate::auth::{AuthError, WebhookError};
    use crate::store::StoreError;

    /// The stable code of an authentication failure.
    pub fn auth_code(err: &AuthError) -> ErrorCode {
        match err {
            AuthError::Missing => ErrorCode::MissingAuthorization,
            AuthError::TooLong => ErrorCode::AuthorizationTooLong,
            AuthError::Malformed(_) => ErrorCode::MalformedInstance,
            AuthError::BadSignature => ErrorCode::InvalidSignature,
            AuthError::NoInstanceId => ErrorCode::MissingInstanceId,
            AuthError::Expired => ErrorCode::InstanceExpired,
            AuthError::NotYetValid => ErrorCode::InstanceNotYetValid,
            AuthError::InvalidAccessToken(_) => ErrorCode::InvalidAccessToken,
            AuthError::TooManyAttempts => ErrorCode::TooManyRequests,
            AuthError::NotOwner => ErrorCode::Forbidden,
            AuthError::VerifierUnavailable | AuthError::Busy { .. } => ErrorCode::AuthUnavailable,
        }
    }

    impl From<AuthError> for ApiError {
        fn from(err: AuthError) -> Self {
            let error = ApiError::new(auth_code(&err), err.to_string());
            match err {
                AuthError::TooManyAttempts | AuthError::VerifierUnavailable => {
                    error.retry_after(RETRY_AFTER_SECS)
                }
                AuthError::Busy { retry_after_secs } => error.retry_after(retry_after_secs),
                _ => error,
            }
        }
    }

    /// A body that is not a Wix webhook is 400; every refusal of a real-looking one is 401.
    impl From<WebhookError> for ApiError {
        fn from(err: WebhookError) -> Self {
            let code = match err {
                WebhookError::Malformed(_) => ErrorCode::InvalidWebhook,
                _ => ErrorCode::InvalidWebhookSignature,
            };
            ApiError::new(code, err.to_string())
        }
    }

    /// A removed site is the caller's business (403); anything else is ours (500, details in
    /// the log where the error is handled, never in the response).
    impl From<StoreError> for ApiError {
        fn from(err: StoreError) -> Self {
            match err {
                StoreError::InstanceRemoved => ApiError::instance_removed(),
                StoreError::PlanLimitReached => ApiError::plan_limit_reached(),
                other => ApiError::internal().with_detail(other.to_string()),
            }
        }
    }
}
#[cfg(feature = "ssr")]
pub use from_layers::auth_code;

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    /// The codes as README's Errors table documents them: part of the HTTP contract.
    const CODES: [(ErrorCode, &str); 29] = [
        (ErrorCode::InvalidInput, "invalid_input"),
        (ErrorCode::InvalidWebhook, "invalid_webhook"),
        (ErrorCode::MissingAuthorization, "missing_authorization"),
        (ErrorCode::AuthorizationTooLong, "authorization_too_long"),
        (ErrorCode::MalformedInstance, "malformed_instance"),
        (ErrorCode::InvalidSignature, "invalid_signature"),
        (ErrorCode::MissingInstanceId, "missing_instance_id"),
        (ErrorCode::InstanceExpired, "instance_expired"),
        (ErrorCode::InstanceNotYetValid, "instance_not_yet_valid"),
        (ErrorCode::InvalidAccessToken, "invalid_access_token"),
        (
            ErrorCode::InvalidWebhookSignature,
            "invalid_webhook_signature",
        ),
        (ErrorCode::PlanRequired, "plan_required"),
        (ErrorCode::PlanLimitReached, "plan_limit_reached"),
        (ErrorCode::Forbidden, "forbidden"),
        (ErrorCode::InstanceRemoved, "instance_removed"),
        (ErrorCode::NotFound, "not_found"),
        (ErrorCode::MethodNotAllowed, "method_not_allowed"),
        (ErrorCode::RequestTimeout, "request_timeout"),
        (ErrorCode::PayloadTooLarge, "payload_too_large"),
        (ErrorCode::UnsupportedMediaType, "unsupported_media_type"),
        (ErrorCode::TooManyRequests, "too_many_requests"),
        (ErrorCode::Internal, "internal"),
        (ErrorCode::Unavailable, "unavailable"),
        (ErrorCode::AuthUnavailable, "auth_unavailable"),
        (ErrorCode::Overloaded, "overloaded"),
        (ErrorCode::Timeout, "timeout"),
        (ErrorCode::HeadersTooLarge, "headers_too_large"),
        (ErrorCode::Network, "network"),
        (ErrorCode::Unknown, "unknown"),
    ];

    #[test]
    fn codes_are_spelled_once_and_round_trip() {
        assert_eq!(
            CODES.len(),
            ErrorCode::VARIANTS.len(),
            "every code is listed"
        );
        for code in ErrorCode::VARIANTS {
            assert!(CODES.iter().any(|(c, _)| c == code), "{code:?}");
        }
        for (code, name) in CODES {
            assert_eq!(code.as_str(), name);
            assert_eq!(serde_json::to_value(code).unwrap(), name);
            assert_eq!(
                serde_json::from_value::<ErrorCode>(name.into()).unwrap(),
                code
            );
        }
        // A code from a newer server still decodes.
        assert_eq!(
            serde_json::from_value::<ErrorCode>("brand_new_code".into()).unwrap(),
            ErrorCode::Unknown
        );
    }
}
