//! The HTTP API: server functions under `/api`, JSON in, JSON out, `Authorization: <instance>`.
//!
//! Each function is callable from the wasm frontend as a plain async fn (through [`AuthClient`])
//! and from any HTTP client as `POST /api/...`. Every body starts by turning the `Authorization`
//! header into a verified identity ([`context::Caller`]); nothing touches the store before that.

pub mod client;
pub mod error;
pub mod feedback;
pub mod privacy;
pub mod site;
pub mod widget;

#[cfg(feature = "ssr")]
pub mod context;

pub use client::AuthClient;

/// Query parameters a page may carry its credential in, in order of preference.
pub const CREDENTIAL_PARAMS: [&str; 2] = ["instance", "accessToken"];
pub use error::{ApiError, ErrorCode};
