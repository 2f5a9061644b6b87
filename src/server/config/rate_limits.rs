//! `RateLimitConfig`: how often one visitor or one client address may do what.
//!
//! Its own file because these are the per-key rates the server's limiters are built from
//! ([`crate::server::RateLimitSettings`]), each a rate per minute and a burst above it.

use super::parse::Vars;
use super::ConfigError;

pub const DEFAULT_SUBMIT_RATE_PER_MINUTE: u64 = 5;
pub const DEFAULT_SUBMIT_BURST: u64 = 2;
pub const DEFAULT_SUBMIT_RATE_PER_ADDRESS_PER_MINUTE: u64 = 20;
pub const DEFAULT_SUBMIT_BURST_PER_ADDRESS: u64 = 5;
pub const DEFAULT_AUTH_FAILURES_PER_MINUTE: u64 = 30;

/// What a submission rate counts, for its error message.
const SUBMISSIONS_PER_MINUTE: &str = "a whole number of submission requests per minute";
/// What a submission burst counts.
const SUBMISSIONS: &str = "a whole number of submission requests";

#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    /// `SUBMIT_RATE_PER_MINUTE` / `SUBMIT_BURST`: feedback submissions per (site, visitor) per
    /// minute, and the burst above that rate.
    pub submit_rate_per_minute: u32,
    pub submit_burst: u32,
    /// `SUBMIT_RATE_PER_ADDRESS_PER_MINUTE` / `SUBMIT_BURST_PER_ADDRESS`: feedback submissions
    /// per (site, client address) per minute, and the burst above it.
    pub submit_rate_per_address_per_minute: u32,
    pub submit_burst_per_address: u32,
    /// `AUTH_FAILURES_PER_MINUTE`: failed authentications per client address per minute before
    /// answering 429.
    pub auth_failures_per_minute: u32,
}

impl RateLimitConfig {
    pub(super) fn from_lookup(vars: Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            submit_rate_per_minute: vars.positive(
                "SUBMIT_RATE_PER_MINUTE",
                DEFAULT_SUBMIT_RATE_PER_MINUTE,
                SUBMISSIONS_PER_MINUTE,
            )?,
            submit_burst: vars.positive("SUBMIT_BURST", DEFAULT_SUBMIT_BURST, SUBMISSIONS)?,
            submit_rate_per_address_per_minute: vars.positive(
                "SUBMIT_RATE_PER_ADDRESS_PER_MINUTE",
                DEFAULT_SUBMIT_RATE_PER_ADDRESS_PER_MINUTE,
                SUBMISSIONS_PER_MINUTE,
            )?,
            submit_burst_per_address: vars.positive(
                "SUBMIT_BURST_PER_ADDRESS",
                DEFAULT_SUBMIT_BURST_PER_ADDRESS,
                SUBMISSIONS,
            )?,
            auth_failures_per_minute: vars.positive(
                "AUTH_FAILURES_PER_MINUTE",
                DEFAULT_AUTH_FAILURES_PER_MINUTE,
                "a whole number of failed authentications per minute",
            )?,
        })
    }
}
