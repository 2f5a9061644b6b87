//! Why a credential was refused. The HTTP edge (`api::error`) maps each variant to its stable
//! code and status; this layer only says what went wrong.

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
    /// A verified caller who is not the site's owner asked for an owner's action.
    #[error("Only the site owner can do this. Open the app from the Wix dashboard.")]
    NotOwner,
    /// The process-wide Token Info budget (`TOKEN_INFO_PER_MINUTE`) is spent.
    #[error("Too many new sign-ins are being checked right now. Try again shortly.")]
    Busy { retry_after_secs: u64 },
}
