//! `OutboxConfig`: the contact-sync outbox (every `OUTBOX_*` variable).
//!
//! Its own file because these settings belong together, to the contact-sync worker and the
//! store's cap on waiting syncs, and to nothing else.

use super::parse::{Vars, SECONDS};
use super::ConfigError;

pub const DEFAULT_OUTBOX_MAX_BACKOFF_SECS: u64 = 60;
pub const DEFAULT_OUTBOX_MAX_PENDING_PER_SITE: u64 = 1000;
pub const DEFAULT_OUTBOX_MAX_AGE_HOURS: u64 = 72;
pub const DEFAULT_OUTBOX_POLL_SECS: u64 = 1;

#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// `OUTBOX_MAX_BACKOFF_SECS`: cap of the contact-sync retry backoff (0 reads as 1).
    pub max_backoff_secs: u64,
    /// `OUTBOX_MAX_PENDING_PER_SITE`: pending contact syncs per site; past it, new feedback's
    /// sync is `skipped`.
    pub max_pending_per_site: u32,
    /// `OUTBOX_MAX_AGE_HOURS`: a contact sync still not done after this long is given up
    /// (`failed`).
    pub max_age_hours: u32,
    /// `OUTBOX_POLL_SECS`: how often the worker looks for due rows when no submission wakes it.
    pub poll_secs: u64,
}

impl OutboxConfig {
    pub(super) fn from_lookup(vars: Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            max_backoff_secs: vars
                .whole::<u64>(
                    "OUTBOX_MAX_BACKOFF_SECS",
                    DEFAULT_OUTBOX_MAX_BACKOFF_SECS,
                    SECONDS,
                )?
                .max(1),
            max_pending_per_site: vars.positive(
                "OUTBOX_MAX_PENDING_PER_SITE",
                DEFAULT_OUTBOX_MAX_PENDING_PER_SITE,
                "a whole number of contact syncs",
            )?,
            max_age_hours: vars.positive(
                "OUTBOX_MAX_AGE_HOURS",
                DEFAULT_OUTBOX_MAX_AGE_HOURS,
                "whole hours",
            )?,
            poll_secs: vars.positive("OUTBOX_POLL_SECS", DEFAULT_OUTBOX_POLL_SECS, SECONDS)?,
        })
    }
}
