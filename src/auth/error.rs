//! Why a credential was refused. Each variant maps to one stable 401 code.

use crate::api::{ApiError, ErrorCode};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("The request has no Authorization header. Open this app from your Wix dashboard.")]
    Missing,
    #[error("The Authorization header is too long.")]
    TooLong,
    #[error("The app instance is malformed: {0}.")]
    Malformed(&'static str),
    #[error("The app instance signature is not valid.")]
    BadSignature,
    #[error("The app instance has no instanceId.")]
    NoInstanceId,
    #[error("The app instance has expired. Reload the page to continue.")]
    Expired,
    #[error("The app instance is signed in the future. Check the server clock.")]
    NotYetValid,
    #[error("The access token was refused: {0}.")]
    InvalidAccessToken(&'static str),
    #[error("Too many failed sign-in attempts from this address. Try again in a minute.")]
    TooManyAttempts,
    #[error("Wix could not be asked about this access token right now. Try again shortly.")]
    VerifierUnavailable,
    /// The process-wide Token Info budget (`TOKEN_INFO_PER_MINUTE`) is spent.
    #[error("Too many new sign-ins are being checked right now. Try again shortly.")]
    Busy { retry_after_secs: u64 },
}

impl AuthError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::Missing => ErrorCode::MissingAuthorization,
            AuthError::TooLong => ErrorCode::AuthorizationTooLong,
            AuthError::Malformed(_) => ErrorCode::MalformedInstance,
            AuthError::BadSignature => ErrorCode::InvalidSignature,
            AuthError::NoInstanceId => ErrorCode::MissingInstanceId,
            AuthError::Expired => ErrorCode::InstanceExpired,
            AuthError::NotYetValid => ErrorCode::InstanceNotYetValid,
            AuthError::InvalidAccessToken(_) => ErrorCode::InvalidAccessToken,
            AuthError::TooManyAttempts => ErrorCode::TooManyRequests,
            AuthError::VerifierUnavailable | AuthError::Busy { .. } => ErrorCode::AuthUnavailable,
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        let error = ApiError::new(err.code(), err.to_string());
        match err {
            AuthError::TooManyAttempts | AuthError::VerifierUnavailable => {
                error.retry_after(crate::api::error::RETRY_AFTER_SECS)
            }
            AuthError::Busy { retry_after_secs } => error.retry_after(retry_after_secs),
            _ => error,
        }
    }
}
