//! `StoreConfig`: where the data lives and how long a removed site's data is kept.
//!
//! Its own file so that what the store accepts is decided in one place: `DATABASE_URL` is
//! checked here, with the settings of a deployment of several replicas on PostgreSQL.

use super::parse::{Vars, SECONDS};
use super::{invalid, ConfigError};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/app.db";
pub const DEFAULT_DATA_RETENTION_DAYS: u32 = 30;
pub const DEFAULT_DATABASE_POOL_SIZE: u64 = 10;
pub const DEFAULT_OUTBOX_LEASE_SECS: u64 = 60;
/// A hundred years: larger values are certainly a typo.
pub const MAX_DATA_RETENTION_DAYS: u32 = 36_500;

#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `DATABASE_URL`: a `sqlite:` URL (one process) or a `postgres://` URL (any number of
    /// replicas).
    pub database_url: String,
    /// `DATABASE_POOL_SIZE`: PostgreSQL connections per replica.
    pub pool_size: u32,
    /// `OUTBOX_LEASE_SECS`: how long a worker owns the outbox rows it claimed; a crashed
    /// replica's rows are taken by another after this.
    pub outbox_lease_secs: u64,
    /// `REPLICAS`: processes serving this app. Budgets counted per process (Wix's requests per
    /// minute per instance, `TOKEN_INFO_PER_MINUTE`) are divided by it.
    pub replicas: u32,
    /// `DATA_RETENTION_DAYS`: days between an uninstall and the deletion of the site's data; 0
    /// deletes at once.
    pub data_retention_days: u32,
}

impl StoreConfig {
    pub(super) fn from_lookup(vars: Vars) -> Result<Self, ConfigError> {
        let database_url = vars
            .get("DATABASE_URL")
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if crate::store::Engine::of_url(&database_url).is_none() {
            return Err(invalid(
                "DATABASE_URL",
                "expected a sqlite:// URL (e.g. sqlite://data/app.db) or a postgres:// URL",
            ));
        }
        Ok(Self {
            database_url,
            pool_size: vars.positive(
                "DATABASE_POOL_SIZE",
                DEFAULT_DATABASE_POOL_SIZE,
                "a whole number of connections",
            )?,
            outbox_lease_secs: vars.positive(
                "OUTBOX_LEASE_SECS",
                DEFAULT_OUTBOX_LEASE_SECS,
                SECONDS,
            )?,
            replicas: vars.positive("REPLICAS", 1, "a whole number of replicas")?,
            data_retention_days: vars.whole_at_most(
                "DATA_RETENTION_DAYS",
                u64::from(DEFAULT_DATA_RETENTION_DAYS),
                u64::from(MAX_DATA_RETENTION_DAYS),
                &format!("whole days from 0 to {MAX_DATA_RETENTION_DAYS}"),
            )?,
        })
    }
}
