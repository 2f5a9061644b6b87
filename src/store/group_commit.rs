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
//!
//! The batch's transaction also re-checks, on the single write connection, that no row's site
//! has removed the app: a submission that passed the request's removal check but reaches the
//! writer after the removal committed is refused (`StoreError::InstanceRemoved`) instead of
//! landing behind the purge. And it counts each site's waiting contact syncs: past the cap, the
//! new row's sync is `skipped` (the feedback is still stored).
//!
//! The free plan's monthly quota is counted in the same transaction: each site's counter for
//! the month (`monthly_submissions`) is read once per batch, rows past a limited site's quota are
//! refused (`StoreError::PlanLimitReached`, nothing written for them), and the counters are
//! raised by the rows written, so concurrent submissions can never overshoot the quota.

use std::collections::{HashMap, HashSet};

use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;

/// Rows per batch: 11 bound parameters each, far below SQLite's limit of 32,766.
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
    /// `email` lower-cased in ASCII only, for privacy look-ups.
    pub email_lower: Option<String>,
    pub rating: Option<i64>,
    pub author_kind: &'static str,
    pub author_id: Option<String>,
    pub comp_id: String,
    pub created_at_us: i64,
    pub created_at_ms: i64,
    /// The calendar month (UTC) the row counts towards, `YYYY-MM`.
    pub month: String,
    /// How many rows the site may have for `month` at most; `None` = unlimited.
    pub monthly_limit: Option<i64>,
}

/// Why a row of a batch was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The site removed the app.
    Removed,
    /// The site's free quota for the month is used up.
    LimitReached,
}

impl Refusal {
    fn error(self) -> StoreError {
        match self {
            Refusal::Removed => StoreError::InstanceRemoved,
            Refusal::LimitReached => StoreError::PlanLimitReached,
        }
    }
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

/// Rows in each batch committed as one (not the row-by-row retries of a failed batch), for
/// tests that check batches form under concurrency.
#[derive(Clone, Debug, Default)]
pub(super) struct BatchSizes(std::sync::Arc<std::sync::Mutex<Vec<usize>>>);

impl BatchSizes {
    fn record(&self, rows: usize) {
        let mut sizes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: only the most recent batches matter.
        if sizes.len() >= 4096 {
            sizes.drain(..2048);
        }
        sizes.push(rows);
    }

    pub(super) fn largest(&self) -> usize {
        let sizes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        sizes.iter().copied().max().unwrap_or(0)
    }
}

impl FeedbackWriter {
    /// Starts the writer task; it ends when the last `FeedbackWriter` is dropped.
    pub(super) fn start(pool: SqlitePool, max_pending_per_site: u32, sizes: BatchSizes) -> Self {
        let (queue, rx) = mpsc::channel(QUEUE_LEN);
        tokio::spawn(run(pool, rx, i64::from(max_pending_per_site), sizes));
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

async fn run(
    pool: SqlitePool,
    mut queue: mpsc::Receiver<Pending>,
    max_pending: i64,
    sizes: BatchSizes,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let rows: Vec<&FeedbackRow> = batch.iter().map(|p| &p.row).collect();
        let result = write(&pool, &rows, max_pending).await;
        drop(rows);
        match result {
            Ok(refused) => {
                sizes.record(batch.len() - refused.len());
                for pending in batch.drain(..) {
                    let outcome = match refused.get(pending.row.id.as_str()) {
                        Some(refusal) => Err(refusal.error()),
                        None => Ok(()),
                    };
                    let _ = pending.done.send(outcome);
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
                    let result = match write(&pool, &[&pending.row], max_pending).await {
                        Ok(refused) => match refused.values().next() {
                            Some(refusal) => Err(refusal.error()),
                            None => Ok(()),
                        },
                        Err(err) => Err(err),
                    };
                    let _ = pending.done.send(result);
                }
            }
        }
    }
}

/// Writes the batch in one transaction; returns the ids of the rows refused, and why.
async fn write(
    pool: &SqlitePool,
    rows: &[&FeedbackRow],
    max_pending: i64,
) -> Result<HashMap<String, Refusal>, StoreError> {
    let mut tx = pool.begin().await?;
    let sites: HashSet<&str> = rows.iter().map(|r| r.instance_id.as_str()).collect();
    let removed = removed_among(&mut tx, &sites).await?;
    let mut refused: HashMap<String, Refusal> = HashMap::new();
    let mut used: HashMap<(&str, &str), (i64, i64)> = HashMap::new();
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows.iter().copied() {
        if removed.contains(row.instance_id.as_str()) {
            refused.insert(row.id.clone(), Refusal::Removed);
            continue;
        }
        let key = (row.instance_id.as_str(), row.month.as_str());
        if let std::collections::hash_map::Entry::Vacant(slot) = used.entry(key) {
            let n: Option<i64> = sqlx::query_scalar(
                "SELECT n FROM monthly_submissions WHERE instance_id = ? AND month = ?",
            )
            .bind(key.0)
            .bind(key.1)
            .fetch_optional(&mut *tx)
            .await?;
            slot.insert((n.unwrap_or(0), 0));
        }
        let Some(counter) = used.get_mut(&key) else {
            continue;
        };
        // counter: (rows counted so far, rows this batch adds)
        if row.monthly_limit.is_some_and(|limit| counter.0 >= limit) {
            refused.insert(row.id.clone(), Refusal::LimitReached);
            continue;
        }
        counter.0 += 1;
        counter.1 += 1;
        kept.push(row);
    }
    let rows = kept;
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(refused);
    }
    for ((site, month), (_, added)) in &used {
        if *added == 0 {
            continue;
        }
        sqlx::query(
            "INSERT INTO monthly_submissions (instance_id, month, n) VALUES (?, ?, ?)
             ON CONFLICT (instance_id, month) DO UPDATE SET n = n + excluded.n",
        )
        .bind(*site)
        .bind(*month)
        .bind(*added)
        .execute(&mut *tx)
        .await?;
    }

    let mut feedback: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
        "INSERT INTO feedback (id, instance_id, message, email, email_lower, rating, status, author_kind, author_id, created_at, updated_at, comp_id) ",
    );
    feedback.push_values(&rows, |mut values, row| {
        values
            .push_bind(&row.id)
            .push_bind(&row.instance_id)
            .push_bind(&row.message)
            .push_bind(row.email.as_deref())
            .push_bind(row.email_lower.as_deref())
            .push_bind(row.rating)
            .push_bind("open")
            .push_bind(row.author_kind)
            .push_bind(row.author_id.as_deref())
            .push_bind(row.created_at_us)
            .push_bind(row.created_at_us)
            .push_bind(&row.comp_id);
    });
    feedback.build().execute(&mut *tx).await?;

    let with_email: Vec<&FeedbackRow> =
        rows.iter().copied().filter(|r| r.email.is_some()).collect();
    if !with_email.is_empty() {
        // The feedback and its contact-sync outbox rows commit together or not at all.
        let mut room = pending_room(&mut tx, &with_email, max_pending).await?;
        let mut outbox: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "INSERT INTO contact_sync (feedback_id, instance_id, email, state, attempts, next_attempt_at, updated_at, created_at) ",
        );
        outbox.push_values(&with_email, |mut values, row| {
            let left = room.entry(row.instance_id.as_str()).or_insert(0);
            let state = if *left > 0 {
                *left -= 1;
                "pending"
            } else {
                "skipped"
            };
            values
                .push_bind(&row.id)
                .push_bind(&row.instance_id)
                .push_bind(row.email.as_deref())
                .push_bind(state)
                .push_bind(0_i64)
                .push_bind(row.created_at_ms)
                .push_bind(row.created_at_ms)
                .push_bind(row.created_at_ms);
        });
        outbox.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(refused)
}

/// Which of `sites` removed the app, read inside the writer's transaction.
async fn removed_among(
    tx: &mut SqliteConnection,
    sites: &HashSet<&str>,
) -> Result<HashSet<String>, StoreError> {
    let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
        "SELECT instance_id FROM instances WHERE status = 'removed' AND instance_id IN ",
    );
    query.push_tuples(sites.iter(), |mut t, site| {
        t.push_bind(*site);
    });
    let ids: Vec<String> = query.build_query_scalar().fetch_all(&mut *tx).await?;
    Ok(ids.into_iter().collect())
}

/// How many more pending syncs each site of `rows` may have.
async fn pending_room<'r>(
    tx: &mut SqliteConnection,
    rows: &[&'r FeedbackRow],
    max_pending: i64,
) -> Result<HashMap<&'r str, i64>, StoreError> {
    let mut room = HashMap::new();
    for row in rows {
        let site = row.instance_id.as_str();
        if room.contains_key(site) {
            continue;
        }
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM contact_sync WHERE instance_id = ? AND state = 'pending'",
        )
        .bind(site)
        .fetch_one(&mut *tx)
        .await?;
        room.insert(site, (max_pending - pending).max(0));
    }
    Ok(room)
}
