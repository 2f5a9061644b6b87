//! `StoreConfig`: where the data lives and how long a removed site's data is kept.
//!
//! Its own file so that what the store accepts is decided in one place: `DATABASE_URL` is
//! checked here (today SQLite only), so letting it name another database touches this file and
//! the store, nothing else in the configuration.

use super::parse::Vars;
use super::{invalid, ConfigError};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/app.db";
pub const DEFAULT_DATA_RETENTION_DAYS: u32 = 30;
/// A hundred years: larger values are certainly a typo.
pub const MAX_DATA_RETENTION_DAYS: u32 = 36_500;

#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `DATABASE_URL`: a `sqlite:` URL.
    pub database_url: String,
    /// `DATA_RETENTION_DAYS`: days between an uninstall and the deletion of the site's data; 0
    /// deletes at once.
    pub data_retention_days: u32,
}

impl StoreConfig {
    pub(super) fn from_lookup(vars: Vars) -> Result<Self, ConfigError> {
        let database_url = vars
            .get("DATABASE_URL")
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !database_url.starts_with("sqlite:") {
            return Err(invalid(
                "DATABASE_URL",
                "only sqlite: URLs are supported, e.g. sqlite://data/app.db",
            ));
        }
        Ok(Self {
            database_url,
            data_retention_days: vars.whole_at_most(
                "DATA_RETENTION_DAYS",
                u64::from(DEFAULT_DATA_RETENTION_DAYS),
                u64::from(MAX_DATA_RETENTION_DAYS),
                &format!("whole days from 0 to {MAX_DATA_RETENTION_DAYS}"),
            )?,
        })
    }
}
