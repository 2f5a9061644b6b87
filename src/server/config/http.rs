//! `HttpConfig`: what the HTTP edges allow, believe and wait for.
//!
//! Its own file because these values are read by the serving side alone (`server/http.rs`,
//! `server/serve.rs`): CORS origins, `frame-ancestors`, trusted proxies, timeouts and how many
//! requests and connections are handled at once.

use super::parse::{Vars, SECONDS};
use super::{invalid, ConfigError, EnvRules};

pub const DEFAULT_FRAME_ANCESTORS: &str =
    "https://manage.wix.com https://*.wix.com https://*.wixsite.com";
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: u64 = 512;
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_BODY_READ_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_MAX_CONNECTIONS: u64 = 10_000;
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 10;

#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// `ALLOWED_ORIGINS`: exact origins (`scheme://host[:port]`) allowed by CORS besides
    /// `https://<app id>.wix.run`.
    pub allowed_origins: Vec<String>,
    /// `FRAME_ANCESTORS`: sources for `Content-Security-Policy: frame-ancestors`.
    pub frame_ancestors: String,
    /// `TRUSTED_PROXIES`: proxies whose `X-Forwarded-For` is believed; empty: none.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `REQUEST_TIMEOUT_SECS`: longest a request is handled before 503 `timeout`.
    pub request_timeout_secs: u64,
    /// `HEADER_READ_TIMEOUT_SECS`: a connection that has not sent its request headers by then
    /// is closed.
    pub header_read_timeout_secs: u64,
    /// `BODY_READ_TIMEOUT_SECS`: a request body not fully received by then is answered 408
    /// `request_timeout`.
    pub body_read_timeout_secs: u64,
    /// `MAX_CONCURRENT_REQUESTS`: requests handled at once; more are shed with 503 instead of
    /// queueing.
    pub max_concurrent_requests: usize,
    /// `MAX_CONNECTIONS`: open connections at most; more wait in the listen backlog.
    pub max_connections: usize,
    /// `SHUTDOWN_GRACE_SECS`: on SIGTERM, in-flight requests get this long before connections
    /// are closed.
    pub shutdown_grace_secs: u64,
}

impl HttpConfig {
    pub(super) fn from_lookup(vars: Vars, rules: EnvRules) -> Result<Self, ConfigError> {
        let frame_ancestors = vars
            .get("FRAME_ANCESTORS")
            .unwrap_or_else(|| DEFAULT_FRAME_ANCESTORS.to_owned());
        if frame_ancestors.contains([';', ',', '\r', '\n']) || !frame_ancestors.is_ascii() {
            return Err(invalid(
                "FRAME_ANCESTORS",
                "expected space-separated CSP sources, e.g. https://manage.wix.com",
            ));
        }
        Ok(Self {
            allowed_origins: vars.list("ALLOWED_ORIGINS", parse_origin)?,
            frame_ancestors: rules.frame_ancestors(frame_ancestors)?,
            trusted_proxies: vars.list("TRUSTED_PROXIES", parse_proxy)?,
            request_timeout_secs: vars.positive(
                "REQUEST_TIMEOUT_SECS",
                DEFAULT_REQUEST_TIMEOUT_SECS,
                SECONDS,
            )?,
            header_read_timeout_secs: vars.positive(
                "HEADER_READ_TIMEOUT_SECS",
                DEFAULT_HEADER_READ_TIMEOUT_SECS,
                SECONDS,
            )?,
            body_read_timeout_secs: vars.positive(
                "BODY_READ_TIMEOUT_SECS",
                DEFAULT_BODY_READ_TIMEOUT_SECS,
                SECONDS,
            )?,
            max_concurrent_requests: vars.positive(
                "MAX_CONCURRENT_REQUESTS",
                DEFAULT_MAX_CONCURRENT_REQUESTS,
                "a whole number of requests",
            )?,
            max_connections: vars.positive(
                "MAX_CONNECTIONS",
                DEFAULT_MAX_CONNECTIONS,
                "a whole number of connections",
            )?,
            shutdown_grace_secs: vars.positive(
                "SHUTDOWN_GRACE_SECS",
                DEFAULT_SHUTDOWN_GRACE_SECS,
                SECONDS,
            )?,
        })
    }
}

/// An `ALLOWED_ORIGINS` item: `scheme://host[:port]` and nothing else (no path, no trailing
/// slash), lower-cased.
fn parse_origin(origin: &str) -> Result<String, String> {
    let (scheme, rest) = origin
        .split_once("://")
        .ok_or_else(|| format!("{origin:?} is not an origin like https://example.com"))?;
    let host_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !matches!(scheme, "http" | "https") || !host_ok {
        return Err(format!(
            "{origin:?} is not an origin like https://example.com (no path, no trailing slash)"
        ));
    }
    Ok(format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

/// A `TRUSTED_PROXIES` item: an IP or a CIDR, IPv4 or IPv6.
fn parse_proxy(proxy: &str) -> Result<ipnet::IpNet, String> {
    proxy
        .parse::<ipnet::IpNet>()
        .or_else(|_| proxy.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("expected IP addresses or CIDRs like 10.0.0.0/8, got {proxy:?}"))
}
