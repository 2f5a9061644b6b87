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

/// `text` percent-encoded for a URL, keeping the unreserved characters (letters, digits, `-._~`)
/// and those in `also_keep`. Shared by the upgrade link and the dashboard's `mailto:` links.
pub fn percent_encode(text: &str, also_keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || also_keep.contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            for nibble in [byte >> 4, byte & 0xF] {
                out.push(char::from(b"0123456789ABCDEF"[usize::from(nibble)]));
            }
        }
    }
    out
}

/// Query parameters a page may carry its credential in, in order of preference.
pub const CREDENTIAL_PARAMS: [&str; 2] = ["instance", "accessToken"];
pub use error::{ApiError, ErrorCode};
