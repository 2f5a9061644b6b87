//! The hot SQLite reads — a page of the list, a site's plan — run on the calling thread through
//! rusqlite, on a small pool of read-only connections.
//!
//! Why not sqlx here: sqlx-sqlite gives every connection an OS thread of its own, so each query
//! is a hand-off to that thread and back (two wake-ups, two context switches) plus an async pool
//! checkout. For these reads that costs more than the query: `perf` on the list benchmark showed
//! ~30 % of CPU in context switches, and the list stayed near 2.3× Express whatever the pool
//! size. These reads are bounded (index-backed, at most [`MAX_LIST_ROWS`] rows, pages cached) and
//! take tens of microseconds, so they run in place, like any other CPU-bound step of a request.
//!
//! What it costs: a tokio worker is busy for the query's duration, and a second SQLite binding
//! (rusqlite, on the same `libsqlite3-sys` as sqlx, so one SQLite in the binary). A read waits for
//! a lock only while SQLite recovers the WAL index, rare and short; [`BUSY_TIMEOUT`] caps it.
//! sqlx stays for the writer, PostgreSQL, migrations and every other read.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::StoreError;

/// How long an inline read may wait for a lock before it fails (it then answers 503).
const BUSY_TIMEOUT: Duration = Duration::from_millis(250);
/// Connections kept for reuse; more may be open at once (one per thread reading), the rest
/// are closed when returned.
const MAX_IDLE: usize = 8;
/// Prepared statements cached per connection: the list has 16 shapes (status, email, widget
/// and cursor each present or not) plus the plan lookup.
const STATEMENT_CACHE: usize = 32;

/// Read-only rusqlite connections to one database file, taken and returned around each read.
pub(super) struct InlineReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for InlineReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineReads")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl InlineReads {
    /// Opens one connection to check the file is readable; call after the migrations ran.
    pub(super) fn open(path: &Path) -> Result<Self, StoreError> {
        let reads = Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        };
        let first = reads.connect()?;
        reads.give_back(first);
        Ok(reads)
    }

    /// Runs `read` on an idle connection (opening one when none is idle).
    pub(super) fn with<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let idle = self.lock().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let result = read(&conn);
        self.give_back(conn);
        result.map_err(StoreError::from)
    }

    fn connect(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.lock();
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    /// The list of idle connections; a panic while it was held left it consistent (a push or
    /// a pop), so a poisoned lock is taken over.
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        Self::Inline(err.to_string())
    }
}
