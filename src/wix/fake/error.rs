//! Wix-shaped error responses.
//!
//! Wix answers every failure with JSON: `{message, details: {applicationError: {code, description,
//! data}}}`, or `{message, details: {validationError: {fieldViolations: [...]}}}` for bad input. The
//! fake never answers any other way (not even for malformed JSON, an unknown path or a wrong
//! method), so the real client's error parsing is exercised on every failure path.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};

/// One entry of `validationError.fieldViolations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FieldViolation {
    pub field: String,
    pub description: String,
    /// Wix's rule names: `REQUIRED_FIELD`, `FORMAT`, `INVALID_ENUM_VALUE`, `MIN`, `MAX`, `OTHER`.
    pub violated_rule: &'static str,
}

impl FieldViolation {
    pub fn new(
        field: impl Into<String>,
        description: impl Into<String>,
        rule: &'static str,
    ) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
            violated_rule: rule,
        }
    }
}

#[derive(Debug, Clone)]
enum Details {
    Application {
        code: &'static str,
        description: String,
        data: Value,
    },
    Validation(Vec<FieldViolation>),
}

/// A failed Wix call: status, Wix-shaped body and, for throttling faults, `Retry-After`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status}: {message}")]
pub(crate) struct FakeWixError {
    status: StatusCode,
    message: String,
    details: Details,
    retry_after_secs: Option<u64>,
}

impl FakeWixError {
    fn application(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status,
            details: Details::Application {
                code,
                description: message.clone(),
                data: json!({}),
            },
            message,
            retry_after_secs: None,
        }
    }

    fn with_data(mut self, value: Value) -> Self {
        if let Details::Application { data, .. } = &mut self.details {
            *data = value;
        }
        self
    }

    /// 400 with `validationError.fieldViolations`.
    pub fn validation(violations: Vec<FieldViolation>) -> Self {
        let message = violations
            .iter()
            .map(|v| format!("{}: {}", v.field, v.description))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            status: StatusCode::BAD_REQUEST,
            message,
            details: Details::Validation(violations),
            retry_after_secs: None,
        }
    }

    pub fn violation(field: &str, description: impl Into<String>, rule: &'static str) -> Self {
        Self::validation(vec![FieldViolation::new(field, description, rule)])
    }

    /// 400 for a body that is not JSON at all (or not the JSON this endpoint reads).
    pub fn bad_body(description: impl Into<String>) -> Self {
        Self::application(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", description)
    }

    pub fn payload_too_large() -> Self {
        Self::application(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "The request body is too large.",
        )
    }

    pub fn unauthenticated(description: impl Into<String>) -> Self {
        Self::application(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", description)
    }

    pub fn forbidden(description: impl Into<String>) -> Self {
        Self::application(StatusCode::FORBIDDEN, "PERMISSION_DENIED", description)
    }

    pub fn not_found(path: &str) -> Self {
        Self::application(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("No Wix endpoint at {path}."),
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::application(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "This endpoint does not accept this HTTP method.",
        )
    }

    pub fn duplicate_contact(existing_id: &str) -> Self {
        Self::application(
            StatusCode::CONFLICT,
            "DUPLICATE_CONTACT_EXISTS",
            "Cannot create contact: a contact with this email already exists.",
        )
        .with_data(json!({ "duplicateContactId": existing_id }))
    }

    pub fn unavailable() -> Self {
        Self::application(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "Service temporarily unavailable (FakeWix is down).",
        )
    }

    /// What `fail_next` injects: any status, the code Wix would use for it.
    pub fn injected(status: u16, retry_after_secs: Option<u64>) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = match status.as_u16() {
            400 => "INVALID_ARGUMENT",
            401 => "UNAUTHENTICATED",
            403 => "PERMISSION_DENIED",
            404 => "NOT_FOUND",
            409 => "ALREADY_EXISTS",
            429 => "TOO_MANY_REQUESTS",
            500 => "INTERNAL",
            502 => "BAD_GATEWAY",
            503 => "UNAVAILABLE",
            504 => "DEADLINE_EXCEEDED",
            _ => "UNKNOWN",
        };
        let mut error = Self::application(
            status,
            code,
            format!(
                "{} (injected by FakeWix)",
                status.canonical_reason().unwrap_or("Error")
            ),
        );
        error.retry_after_secs = retry_after_secs;
        error
    }

    pub fn body(&self) -> Value {
        let details = match &self.details {
            Details::Application {
                code,
                description,
                data,
            } => {
                json!({ "applicationError": { "code": code, "description": description, "data": data } })
            }
            Details::Validation(violations) => {
                json!({ "validationError": { "fieldViolations": violations } })
            }
        };
        json!({ "message": self.message, "details": details })
    }
}

impl IntoResponse for FakeWixError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
