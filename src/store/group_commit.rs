//! Group commit for feedback submissions.
//!
//! A submission is one small INSERT. Written one by one, each INSERT is a round trip to the
//! thread that sqlx runs the write connection on, plus a WAL append of its own; under load the
//! writer spends its time being woken up rather than writing. So submissions that are waiting
//! at the same moment are written together: one multi-row INSERT for the feedback and, in the
//! same transaction, one for their contact-sync outbox rows. Each caller is answered only after
//! that commit, so an acknowledged submission is exactly as durable as before. A failed batch is
//! retried row by row, so one bad row cannot fail its neighbours. With no concurrent submissions
//! a batch is one row and nothing waits for a batch to fill.

use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;

/// Rows per batch: 10 bound parameters each, far below SQLite's limit of 32,766.
const MAX_BATCH: usize = 64;
/// Submissions waiting for the writer; senders beyond this wait (backpressure, not unbounded
/// memory).
const QUEUE_LEN: usize = 1024;

/// A feedback row ready to insert, with its outbox row when it has an email.
#[derive(Debug)]
pub(super) struct FeedbackRow {
    pub id: String,
    pub instance_id: String,
    pub message: String,
    pub email: Option<String>,
    pub rating: Option<i64>,
    pub author_kind: &'static str,
    pub author_id: Option<String>,
    pub created_at_us: i64,
    pub created_at_ms: i64,
}

struct Pending {
    row: FeedbackRow,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// Hands rows to the writer task. Cheap to clone.
#[derive(Clone, Debug)]
pub(super) struct FeedbackWriter {
    queue: mpsc::Sender<Pending>,
}

impl FeedbackWriter {
    /// Starts the writer task; it ends when the last `FeedbackWriter` is dropped.
    pub(super) fn start(pool: SqlitePool) -> Self {
        let (queue, rx) = mpsc::channel(QUEUE_LEN);
        tokio::spawn(run(pool, rx));
        Self { queue }
    }

    /// Inserts the row; returns once it is committed.
    pub(super) async fn insert(&self, row: FeedbackRow) -> Result<(), StoreError> {
        let (done, committed) = oneshot::channel();
        self.queue
            .send(Pending { row, done })
            .await
            .map_err(|_| StoreError::Sqlx(sqlx::Error::PoolClosed))?;
        committed
            .await
            .map_err(|_| StoreError::Sqlx(sqlx::Error::PoolClosed))?
    }
}

async fn run(pool: SqlitePool, mut queue: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let rows: Vec<&FeedbackRow> = batch.iter().map(|p| &p.row).collect();
        let result = write(&pool, &rows).await;
        drop(rows);
        match result {
            Ok(()) => {
                for pending in batch.drain(..) {
                    let _ = pending.done.send(Ok(()));
                }
            }
            Err(err) if batch.len() == 1 => {
                if let Some(pending) = batch.pop() {
                    let _ = pending.done.send(Err(err));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, rows = batch.len(), "batched insert failed; writing its rows one by one");
                for pending in batch.drain(..) {
                    let result = write(&pool, &[&pending.row]).await;
                    let _ = pending.done.send(result);
                }
            }
        }
    }
}

async fn write(pool: &SqlitePool, rows: &[&FeedbackRow]) -> Result<(), StoreError> {
    let mut feedback: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
        "INSERT INTO feedback (id, instance_id, message, email, rating, status, author_kind, author_id, created_at, updated_at) ",
    );
    feedback.push_values(rows, |mut values, row| {
        values
            .push_bind(&row.id)
            .push_bind(&row.instance_id)
            .push_bind(&row.message)
            .push_bind(row.email.as_deref())
            .push_bind(row.rating)
            .push_bind("open")
            .push_bind(row.author_kind)
            .push_bind(row.author_id.as_deref())
            .push_bind(row.created_at_us)
            .push_bind(row.created_at_us);
    });
    let with_email: Vec<&&FeedbackRow> = rows.iter().filter(|row| row.email.is_some()).collect();
    if with_email.is_empty() {
        // One statement commits on its own: one round trip to the writer.
        feedback.build().execute(pool).await?;
        return Ok(());
    }
    // The feedback and its contact-sync outbox rows commit together or not at all.
    let mut outbox: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
        "INSERT INTO contact_sync (feedback_id, instance_id, email, state, attempts, next_attempt_at, updated_at) ",
    );
    outbox.push_values(with_email, |mut values, row| {
        values
            .push_bind(&row.id)
            .push_bind(&row.instance_id)
            .push_bind(row.email.as_deref())
            .push_bind("pending")
            .push_bind(0_i64)
            .push_bind(row.created_at_ms)
            .push_bind(row.created_at_ms);
    });
    let mut tx = pool.begin().await?;
    feedback.build().execute(&mut *tx).await?;
    outbox.build().execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
