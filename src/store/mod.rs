//! Persistence: one SQLite file through sqlx, migrations embedded and run at start-up.
//!
//! Every query method takes a [`TenantId`](crate::auth::TenantId), which only the verifier can
//! construct, so rows are always scoped to a verified Wix instance.

mod app_tokens;
mod contact_sync;
mod feedback;
mod instances;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub use app_tokens::AppTokenRepo;
pub use contact_sync::{ContactSyncRepo, PendingSync};
pub use feedback::{
    FeedbackCounts, FeedbackRepo, ListQuery, NewFeedback, Page, PageCursor, StoredFeedback,
};
pub use instances::{
    DeliveredEvent, InstanceRecord, InstanceRepo, InstanceStatus, Lifecycle, Outcome, PurgeReport,
    EVENT_KEY_RETENTION_DAYS,
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
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<StoreError> for crate::api::ApiError {
    fn from(err: StoreError) -> Self {
        tracing::error!(error = %err, "store failure");
        crate::api::ApiError::internal()
    }
}

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating file and folder if needed) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL keeps every committed transaction across a process crash.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty()
                && options.get_filename() != std::path::Path::new(":memory:")
            {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    /// True when the database answers a trivial query.
    pub async fn is_healthy(&self) -> bool {
        sqlx::query_scalar::<_, i64>("SELECT 1")
            .fetch_one(&self.pool)
            .await
            .is_ok()
    }

    pub fn feedback(&self) -> FeedbackRepo<'_> {
        FeedbackRepo::new(&self.pool)
    }

    pub fn app_tokens(&self) -> AppTokenRepo<'_> {
        AppTokenRepo::new(&self.pool)
    }

    pub fn contact_sync(&self) -> ContactSyncRepo<'_> {
        ContactSyncRepo::new(&self.pool)
    }

    pub fn instances(&self) -> InstanceRepo<'_> {
        InstanceRepo::new(&self.pool)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
