//! CORS: which browser origins may call the API. Exactly the app's `*.wix.run` origin and
//! `ALLOWED_ORIGINS`; in dev also any loopback origin, matched exactly so that a look-alike host
//! (`localhost.evil.example`) never passes.

use std::collections::HashSet;
use std::time::Duration;

use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::server::Config;

/// Exactly the app's `*.wix.run` origin and `ALLOWED_ORIGINS`; in dev also any loopback origin.
pub(super) fn cors(config: &Config) -> CorsLayer {
    let exact: HashSet<String> = std::iter::once(config.wix_run_origin())
        .chain(config.http.allowed_origins.iter().cloned())
        .collect();
    let dev = config.is_dev();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin
                .to_str()
                .is_ok_and(|o| exact.contains(o) || (dev && is_loopback_origin(o)))
        }))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([AUTHORIZATION, CONTENT_TYPE])
        .max_age(Duration::from_secs(600))
}

/// `http://localhost[:port]`, `http://127.0.0.1[:port]` or `http://[::1][:port]`, exactly.
fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("http://") else {
        return false;
    };
    let port = ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .find_map(|host| rest.strip_prefix(host));
    match port {
        Some("") => true,
        Some(p) => p.strip_prefix(':').is_some_and(|digits| {
            !digits.is_empty() && digits.len() <= 5 && digits.bytes().all(|b| b.is_ascii_digit())
        }),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins_are_matched_exactly() {
        for ok in [
            "http://localhost",
            "http://localhost:5173",
            "http://127.0.0.1:3000",
            "http://[::1]:8080",
        ] {
            assert!(is_loopback_origin(ok), "{ok}");
        }
        for bad in [
            "http://localhost.evil.example",
            "http://localhost:5173.evil.example",
            "https://localhost:5173",
            "http://127.0.0.1.nip.io",
            "http://localhost:",
            "http://localhost:99999x",
            "http://evil.example/http://localhost",
        ] {
            assert!(!is_loopback_origin(bad), "{bad}");
        }
    }
}
