//! Persistence through sqlx on one of two engines, chosen by `DATABASE_URL`: an embedded SQLite
//! file (the default: one process) or PostgreSQL (several replicas). Migrations for each engine
//! are embedded and run at start-up.
//!
//! Every query method takes a [`TenantId`](crate::auth::TenantId), which only the verifier can
//! construct, so rows are always scoped to a verified Wix instance.
//!
//! Shape: the repos (`feedback.rs`, `instances.rs`, …) are the interface and hold the SQLite
//! queries; each method's first line hands PostgreSQL to its twin in `postgres/`. Types and pure
//! logic (cursors, row mapping, event ordering) are shared. `sqlx::Any` does not fit: its query
//! builder emits `?` placeholders on PostgreSQL, and the engines differ where it matters
//! (SQLite's single writer and group commit; PostgreSQL's row locks, `SKIP LOCKED`, advisory
//! locks and `LISTEN/NOTIFY` for replicas).

mod app_tokens;
mod contact_sync;
mod feedback;
mod group_commit;
mod inline_reads;
mod instances;
mod postgres;
mod purge;
mod rate_limits;
mod removed;
mod widgets;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use removed::RemovedInstances;

pub use app_tokens::{AppTokenRepo, TokenFetchLock};
pub use contact_sync::{ContactSyncRepo, PendingSync};
pub use feedback::{
    email_key, month_key, FeedbackCounts, FeedbackRepo, ListQuery, ListedPage, NewFeedback,
    PageCursor, Quota, StoredFeedback,
};
pub use instances::{
    DeliveredEvent, InstanceRecord, InstanceRepo, InstanceStatus, Lifecycle, Outcome, PlanChange,
    StoredPlan, EVENT_KEY_RETENTION_DAYS,
};
pub use purge::{PurgeReport, PURGE_CHUNK};
pub use rate_limits::{RateLimitRepo, SharedQuota};
pub use widgets::WidgetRepo;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DATABASE_URL is not a usable sqlite:// or postgres:// URL: {0}")]
    BadUrl(String),
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// An error of the inline SQLite reads (`inline_reads.rs`).
    #[error("database error: {0}")]
    Inline(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The site removed the app before the write committed; nothing was written.
    #[error("the site removed the app")]
    InstanceRemoved,
    /// The site's free plan allows no more new feedback this month; nothing was written.
    #[error("the site's monthly submissions are used up")]
    PlanLimitReached,
}

/// Settings of the store that come from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// Contact syncs a site may have waiting; past it, new ones are `skipped`.
    pub outbox_max_pending_per_site: u32,
    /// PostgreSQL: connections in this replica's pool (`DATABASE_POOL_SIZE`).
    pub pool_size: u32,
    /// How long a worker owns the outbox rows it claimed; a crashed worker's rows are taken
    /// again after this (`OUTBOX_LEASE_SECS`).
    pub outbox_lease: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            outbox_max_pending_per_site: 1000,
            pool_size: 10,
            outbox_lease: Duration::from_secs(60),
        }
    }
}

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The engine a `DATABASE_URL` selects, or `None` for any other scheme.
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
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
/// (WAL lets them read while the writer writes). The hottest reads skip the pool and run in place
/// (`inline_reads.rs`).
#[derive(Clone, Debug)]
struct Pools {
    read: SqlitePool,
    inline: std::sync::Arc<inline_reads::InlineReads>,
    write: SqlitePool,
    feedback_writer: group_commit::FeedbackWriter,
}

/// The engine and its connections. Repos match on it: SQLite inline, PostgreSQL in `postgres/`.
#[derive(Clone, Debug)]
enum Db {
    Sqlite(Pools),
    Postgres(postgres::Pg),
}

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    removed: RemovedInstances,
    batch_sizes: group_commit::BatchSizes,
    settings: StoreOptions,
}

impl Store {
    /// Opens (creating file and folder if needed) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, StoreOptions::default()).await
    }

    /// [`Self::open`] with settings.
    pub async fn open_with(url: &str, settings: StoreOptions) -> Result<Self, StoreError> {
        let batch_sizes = group_commit::BatchSizes::default();
        match Engine::of_url(url) {
            Some(Engine::Sqlite) => {
                let (pools, removed) = open_sqlite(url, settings, batch_sizes.clone()).await?;
                Ok(Self {
                    db: Db::Sqlite(pools),
                    removed,
                    batch_sizes,
                    settings,
                })
            }
            Some(Engine::Postgres) => {
                let removed = RemovedInstances::default();
                let pg = postgres::Pg::open(url, settings, removed.clone()).await?;
                Ok(Self {
                    db: Db::Postgres(pg),
                    removed,
                    batch_sizes,
                    settings,
                })
            }
            None => Err(StoreError::BadUrl(
                "expected sqlite://… or postgres://…".into(),
            )),
        }
    }

    pub fn engine(&self) -> Engine {
        match self.db {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }
}

async fn open_sqlite(
    url: &str,
    settings: StoreOptions,
    batch_sizes: group_commit::BatchSizes,
) -> Result<(Pools, RemovedInstances), StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::BadUrl(e.to_string()))?
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    // Readers, sqlx's and the inline ones, open the file themselves: an in-memory database
    // exists once per connection, so they could not see it.
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Err(StoreError::BadUrl(
            "an in-memory database cannot be shared by the readers: give a file, sqlite://data/app.db".into(),
        ));
    }
    if let Some(dir) = options.get_filename().parent() {
        if !dir.as_os_str().is_empty() {
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
    sqlx::migrate!("./migrations/sqlite").run(&write).await?;
    let inline = std::sync::Arc::new(inline_reads::InlineReads::open(options.get_filename())?);
    let read = SqlitePoolOptions::new()
        .max_connections(read_connections())
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.read_only(true))
        .await?;
    let removed_ids: Vec<String> =
        sqlx::query_scalar("SELECT instance_id FROM instances WHERE status = 'removed'")
            .fetch_all(&read)
            .await?;
    let feedback_writer = group_commit::FeedbackWriter::start(
        write.clone(),
        settings.outbox_max_pending_per_site,
        batch_sizes,
    );
    let pools = Pools {
        read,
        inline,
        write,
        feedback_writer,
    };
    Ok((pools, RemovedInstances::from_ids(removed_ids)))
}

impl Store {
    /// True when the database answers a trivial query.
    pub async fn is_healthy(&self) -> bool {
        const PROBE: &str = "SELECT 1";
        match &self.db {
            Db::Sqlite(pools) => sqlx::query(PROBE).execute(&pools.read).await.is_ok(),
            Db::Postgres(pg) => sqlx::query(PROBE).execute(&pg.pool).await.is_ok(),
        }
    }

    pub fn feedback(&self) -> FeedbackRepo<'_> {
        FeedbackRepo::new(&self.db, &self.settings)
    }

    pub fn app_tokens(&self) -> AppTokenRepo<'_> {
        AppTokenRepo::new(&self.db)
    }

    pub fn contact_sync(&self) -> ContactSyncRepo<'_> {
        ContactSyncRepo::new(&self.db, &self.settings)
    }

    pub fn widgets(&self) -> WidgetRepo<'_> {
        WidgetRepo::new(&self.db)
    }

    pub fn instances(&self) -> InstanceRepo<'_> {
        InstanceRepo::new(&self.db, &self.removed)
    }

    /// Rate limits shared by every replica; `None` on SQLite (one process: in memory).
    pub fn shared_rate_limits(&self) -> Option<RateLimitRepo<'_>> {
        match &self.db {
            Db::Sqlite(_) => None,
            Db::Postgres(pg) => Some(RateLimitRepo::new(&pg.pool)),
        }
    }

    /// The most rows one group commit has written so far (see `group_commit.rs`).
    pub fn largest_feedback_batch(&self) -> usize {
        self.batch_sizes.largest()
    }

    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite(pools) => {
                // Writer first: its last commit lands before the readers go.
                pools.write.close().await;
                pools.read.close().await;
            }
            Db::Postgres(pg) => pg.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both engines' migrations have the same versions and names, so a schema change is made
    /// for both (and a database of either engine is at the same version as the code).
    #[test]
    fn migrations_of_both_engines_stay_in_step() {
        let versions = |m: sqlx::migrate::Migrator| -> Vec<(i64, String)> {
            m.iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect()
        };
        let sqlite = versions(sqlx::migrate!("./migrations/sqlite"));
        let postgres = versions(sqlx::migrate!("./migrations/postgres"));
        assert!(sqlite.len() >= 5, "{sqlite:?}");
        assert_eq!(sqlite, postgres);
    }

    #[test]
    fn the_url_picks_the_engine() {
        assert_eq!(Engine::of_url("sqlite://data/app.db"), Some(Engine::Sqlite));
        assert_eq!(Engine::of_url("sqlite::memory:"), Some(Engine::Sqlite));
        assert_eq!(Engine::of_url("postgres://u@h/db"), Some(Engine::Postgres));
        assert_eq!(
            Engine::of_url("postgresql://u@h/db"),
            Some(Engine::Postgres)
        );
        assert_eq!(Engine::of_url("mysql://u@h/db"), None);
        assert_eq!(Engine::of_url("data/app.db"), None);
    }

    /// The readers open the file themselves, so an in-memory database (one per connection)
    /// would leave them reading nothing: refused with a message that says what to give.
    #[tokio::test]
    async fn an_in_memory_database_is_refused() {
        for url in ["sqlite::memory:", "sqlite://db?mode=memory"] {
            let err = Store::open(url).await.unwrap_err();
            assert!(matches!(err, StoreError::BadUrl(_)), "{url}: {err:?}");
            assert!(err.to_string().contains("sqlite://"), "{url}: {err}");
        }
    }

    /// Acknowledged writes must survive power loss: the writer fsyncs every commit.
    #[tokio::test]
    async fn the_writer_commits_with_synchronous_full() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.unwrap();
        let Db::Sqlite(pools) = &store.db else {
            panic!("a sqlite:// URL opens SQLite")
        };
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&pools.write)
            .await
            .unwrap();
        // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
        assert_eq!(level, 2);
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&pools.write)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        store.close().await;
    }
}
