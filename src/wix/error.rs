//! What can go wrong talking to Wix, in a form callers can branch on and logs can show safely.
//!
//! Nothing here ever holds a token or the app secret: bodies are parsed into Wix's documented
//! error fields and transport errors are reduced to their kind.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WixError {
    /// Wix answered with an error status.
    #[error("Wix API {status}{}: {description}{}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(), request_id.as_deref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
    Api {
        status: u16,
        code: Option<String>,
        description: String,
        request_id: Option<String>,
    },
    /// No HTTP answer: connection refused, reset, or a per-attempt timeout.
    #[error("Wix API unreachable: {0}")]
    Transport(String),
    /// Retries used up the overall deadline or the attempt budget.
    #[error("Wix API gave up after {attempts} attempts: {last}")]
    Exhausted { attempts: u32, last: Box<WixError> },
    /// Wix answered 2xx with a body we could not read.
    #[error("Wix API answer could not be decoded: {0}")]
    Decode(String),
    /// The site removed the app: no calls are made on its behalf until it reinstalls.
    #[error("the site removed the app; no Wix calls are made for it")]
    InstanceRemoved,
}

impl WixError {
    pub fn status(&self) -> Option<u16> {
        match self {
            WixError::Api { status, .. } => Some(*status),
            WixError::Exhausted { last, .. } => last.status(),
            _ => None,
        }
    }

    /// Worth trying again later (outage, throttling), as opposed to a request Wix will never take.
    pub fn is_transient(&self) -> bool {
        match self {
            WixError::Api { status, .. } => *status == 429 || *status >= 500 || *status == 401,
            WixError::Transport(_) | WixError::Exhausted { .. } => true,
            WixError::Decode(_) | WixError::InstanceRemoved => false,
        }
    }

    /// The application error code (e.g. `DUPLICATE_CONTACT_EXISTS`), if Wix sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            WixError::Api { code, .. } => code.as_deref(),
            WixError::Exhausted { last, .. } => last.code(),
            _ => None,
        }
    }

    pub(crate) fn from_transport(err: &reqwest::Error) -> Self {
        // reqwest's Display includes the URL; ours carry no secrets, but keep the message to the kind.
        let kind = if err.is_timeout() {
            "timed out"
        } else if err.is_connect() {
            "connection failed"
        } else if err.is_request() {
            "request failed"
        } else {
            "transport error"
        };
        WixError::Transport(kind.to_owned())
    }

    /// Builds the typed error from an error response's status, headers and body.
    pub(crate) fn from_response(status: u16, request_id: Option<String>, body: &[u8]) -> Self {
        #[derive(Deserialize, Default)]
        struct Body {
            #[serde(default)]
            message: Option<String>,
            #[serde(default)]
            details: Option<Details>,
        }
        #[derive(Deserialize, Default)]
        #[serde(rename_all = "camelCase")]
        struct Details {
            #[serde(default)]
            application_error: Option<ApplicationError>,
            #[serde(default)]
            validation_error: Option<serde_json::Value>,
        }
        #[derive(Deserialize, Default)]
        struct ApplicationError {
            #[serde(default)]
            code: Option<String>,
            #[serde(default)]
            description: Option<String>,
        }
        let parsed: Body = serde_json::from_slice(body).unwrap_or_default();
        let details = parsed.details.unwrap_or_default();
        let app = details.application_error.unwrap_or_default();
        let description = app
            .description
            .or(parsed.message)
            .or_else(|| details.validation_error.map(|v| v.to_string()))
            .unwrap_or_else(|| format!("HTTP {status}"));
        WixError::Api {
            status,
            code: app.code,
            description: truncate(&description, 300),
            request_id,
        }
    }
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wix_error_bodies() {
        let body = br#"{"message":"dup","details":{"applicationError":{"code":"DUPLICATE_CONTACT_EXISTS","description":"Contact exists","data":{"duplicateContactId":"c1"}}}}"#;
        let err = WixError::from_response(409, Some("req-1".into()), body);
        assert_eq!(err.status(), Some(409));
        assert_eq!(err.code(), Some("DUPLICATE_CONTACT_EXISTS"));
        assert_eq!(
            err.to_string(),
            "Wix API 409 DUPLICATE_CONTACT_EXISTS: Contact exists (request id req-1)"
        );
        assert!(!err.is_transient());

        let garbage = WixError::from_response(503, None, b"<html>");
        assert_eq!(garbage.to_string(), "Wix API 503: HTTP 503");
        assert!(garbage.is_transient());
    }
}
