//! Talking to Wix: the app-identity client, the typed calls built on it, and a faithful fake of
//! the Wix endpoints for tests and development (the network reaches no Wix host there).

mod apps;
mod client;
mod error;
/// Development and test tooling: compiled only with the `dev-tools` feature.
#[cfg(feature = "dev-tools")]
pub mod fake;

pub use apps::{KnownPlan, SiteInfo};
pub use client::{WixClient, WixClientOptions, WIX_REQUESTS_PER_MINUTE};
pub use error::WixError;

/// Production base URL of the Wix REST APIs.
pub const DEFAULT_API_BASE: &str = "https://www.wixapis.com";
