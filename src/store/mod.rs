//! Persistence: one SQLite file through sqlx, migrations embedded and run at start-up.
//!
//! Every query method takes a [`TenantId`](crate::auth::TenantId), which only the verifier can
//! construct, so rows are always scoped to a verified Wix instance.

mod app_tokens;
mod contact_sync;
mod feedback;
mod group_commit;
mod instances;
mod removed;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use removed::RemovedInstances;

pub use app_tokens::AppTokenRepo;
pub use contact_sync::{ContactSyncRepo, PendingSync};
pub use feedback::{
    FeedbackCounts, FeedbackRepo, ListQuery, ListedPage, NewFeedback, PageCursor, StoredFeedback,
};
pub use instances::{
    DeliveredEvent, InstanceRecord, InstanceRepo, InstanceStatus, Lifecycle, Outcome, PurgeReport,
    EVENT_KEY_RETENTION_DAYS, PURGE_CHUNK,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DATABASE_URL is not a SQLite URL: {0}")]
    BadUrl(String),
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("unexpected data from the database: {0}")]
    Decode(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The site removed the app before the write committed; nothing was written.
    #[error("the site removed the app")]
    InstanceRemoved,
}

/// Settings of the store that come from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// Contact syncs a site may have waiting; past it, new ones are `skipped`.
    pub outbox_max_pending_per_site: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            outbox_max_pending_per_site: 1000,
        }
    }
}

/// How many read-only connections serve queries: one per CPU, 2 to 8. sqlx runs each SQLite
/// connection on its own OS thread and reads are CPU-bound (the pages are cached), so more
/// readers than cores only add context switches (measured: 2 readers beat 4 on 2 cores).
fn read_connections() -> u32 {
    std::thread::available_parallelism()
        .map_or(2, |n| u32::try_from(n.get()).unwrap_or(8))
        .clamp(2, 8)
}

/// The two connection pools. SQLite allows one writer at a time: with several pooled writers,
/// each `BEGIN` races for the file lock and the losers sleep in SQLite's busy handler (tens of
/// milliseconds of tail latency under load). All writes therefore go through one connection and
/// queue fairly in the pool instead, while reads run in parallel on read-only connections
/// (WAL lets them read while the writer writes).
#[derive(Clone, Debug)]
struct Pools {
    read: SqlitePool,
    write: SqlitePool,
}

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pools: Pools,
    removed: RemovedInstances,
    feedback_writer: group_commit::FeedbackWriter,
    batch_sizes: group_commit::BatchSizes,
}

impl Store {
    /// Opens (creating file and folder if needed) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, StoreOptions::default()).await
    }

    /// [`Self::open`] with settings.
    pub async fn open_with(url: &str, settings: StoreOptions) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl(e.to_string()))?
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let in_memory = options.get_filename() == std::path::Path::new(":memory:");
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty() && !in_memory {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
        }
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(
                options
                    .clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // FULL: a commit is on disk before it is acknowledged, so acknowledged
                    // submissions survive power loss and OS crashes, not only a process crash
                    // (NORMAL's guarantee). Group commit keeps this to one fsync per batch.
                    .synchronous(SqliteSynchronous::Full),
            )
            .await?;
        sqlx::migrate!("./migrations").run(&write).await?;
        // An in-memory database exists once per connection: it cannot have separate readers.
        let read = if in_memory {
            write.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(read_connections())
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options.read_only(true))
                .await?
        };
        let pools = Pools { read, write };
        let removed = RemovedInstances::load(&pools.read).await?;
        let batch_sizes = group_commit::BatchSizes::default();
        let feedback_writer = group_commit::FeedbackWriter::start(
            pools.write.clone(),
            settings.outbox_max_pending_per_site,
            batch_sizes.clone(),
        );
        Ok(Self {
            pools,
            removed,
            feedback_writer,
            batch_sizes,
        })
    }

    /// True when the database answers a trivial query.
    pub async fn is_healthy(&self) -> bool {
        sqlx::query_scalar::<_, i64>("SELECT 1")
            .fetch_one(&self.pools.read)
            .await
            .is_ok()
    }

    pub fn feedback(&self) -> FeedbackRepo<'_> {
        FeedbackRepo::new(&self.pools, &self.feedback_writer)
    }

    pub fn app_tokens(&self) -> AppTokenRepo<'_> {
        AppTokenRepo::new(&self.pools)
    }

    pub fn contact_sync(&self) -> ContactSyncRepo<'_> {
        ContactSyncRepo::new(&self.pools)
    }

    pub fn instances(&self) -> InstanceRepo<'_> {
        InstanceRepo::new(&self.pools, &self.removed)
    }

    /// The most rows one group commit has written so far (see `group_commit.rs`).
    pub fn largest_feedback_batch(&self) -> usize {
        self.batch_sizes.largest()
    }

    pub async fn close(&self) {
        // Writer first: its last commit lands before the readers go.
        self.pools.write.close().await;
        self.pools.read.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Acknowledged writes must survive power loss: the writer fsyncs every commit.
    #[tokio::test]
    async fn the_writer_commits_with_synchronous_full() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.unwrap();
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&store.pools.write)
            .await
            .unwrap();
        // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
        assert_eq!(level, 2);
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&store.pools.write)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        store.close().await;
    }
}
