//! The PostgreSQL twins of the repos' queries, for several replicas on one database.
//!
//! Where SQLite relies on being one process with one writer, PostgreSQL relies on the database:
//! - lifecycle changes of one instance are serialised by a transaction-scoped advisory lock on
//!   the instance ([`instance_lock`]), which submissions take shared, so a submission never lands
//!   after a removal it did not see;
//! - every lifecycle change is announced with `NOTIFY` ([`LIFECYCLE_CHANNEL`]) and each replica
//!   keeps its in-memory removed set in step (`listener.rs`);
//! - outbox rows are claimed with `FOR UPDATE SKIP LOCKED` and a lease (`contact_sync.rs`);
//! - the retention purge runs under a session advisory lock, one replica at a time;
//! - shared rate limits live in a table, timed by the database's clock (`rate_limits.rs`).

pub(super) mod app_tokens;
pub(super) mod contact_sync;
pub(super) mod feedback;
pub(super) mod instances;
mod listener;
pub(super) mod widgets;

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio::task::JoinHandle;

use super::removed::RemovedInstances;
use super::{StoreError, StoreOptions};

/// `NOTIFY` channel for lifecycle changes; the payload is the instance id.
pub(super) const LIFECYCLE_CHANNEL: &str = "wix_app_lifecycle";

/// Advisory-lock keys share one 64-bit space per database. Instance locks hash the instance id
/// with a fixed seed (`0x57495841`, "WIXA"); the purge uses this constant ("WIXPURGE"), far
/// from the small integers other software tends to use.
pub(super) const PURGE_LOCK: i64 = 0x5749_5850_5552_4745;

/// SQL taking the instance's lifecycle lock for this transaction (`$1` = instance id): shared
/// for writes that must not cross a lifecycle change, exclusive for the change itself.
pub(super) fn instance_lock(shared: bool) -> &'static str {
    if shared {
        "SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 1464424513))"
    } else {
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 1464424513))"
    }
}

/// A PostgreSQL store: the pool and the task keeping the removed set in step.
#[derive(Clone, Debug)]
pub(in crate::store) struct Pg {
    pub pool: PgPool,
    listener: std::sync::Arc<ListenerTask>,
}

#[derive(Debug)]
struct ListenerTask(JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Pg {
    /// Connects, migrates (sqlx holds an advisory lock while it migrates, so replicas starting
    /// together migrate once), loads the removed set and starts listening for changes.
    pub async fn open(
        url: &str,
        settings: StoreOptions,
        removed: RemovedInstances,
    ) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(settings.pool_size)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| match e {
                sqlx::Error::Configuration(e) => StoreError::BadUrl(e.to_string()),
                other => StoreError::Sqlx(other),
            })?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        // Listening starts before the first load, so no change falls between the two.
        let task = listener::start(pool.clone(), removed).await?;
        Ok(Self {
            pool,
            listener: std::sync::Arc::new(ListenerTask(task)),
        })
    }

    pub async fn close(&self) {
        self.listener.0.abort();
        self.pool.close().await;
    }
}

/// The database clock in unix microseconds, for SQL.
pub(super) const NOW_US: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT";
