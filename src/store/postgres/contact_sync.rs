//! The contact-sync outbox on PostgreSQL, worked by every replica at once: each row is claimed
//! by one worker (`FOR UPDATE SKIP LOCKED`, then `claimed_until`) and released when its result
//! is recorded. A worker that dies holding rows only delays them: the claim expires and another
//! worker takes them (at least once; Wix answers 409 for the contact created the first time,
//! which links it).

use sqlx::Row;

use super::Pg;
use crate::store::contact_sync::{PendingSync, Settle, PER_SITE_PER_BATCH};
use crate::store::StoreError;

/// The fairness of the SQLite `due` (each site's oldest first, at most [`PER_SITE_PER_BATCH`]
/// per site) over unclaimed rows, then claims what no other worker locked meanwhile. The locked
/// rows are re-checked after the lock (PostgreSQL re-evaluates the `WHERE` on the newest row
/// version), so a row another worker claimed and committed is skipped too.
pub(in crate::store) async fn claim_due(
    pg: &Pg,
    now_ms: i64,
    limit: i64,
    lease_ms: i64,
) -> Result<Vec<PendingSync>, StoreError> {
    let rows = sqlx::query(
        "WITH candidates AS (
           SELECT feedback_id FROM (
             SELECT s.feedback_id, s.next_attempt_at,
                    ROW_NUMBER() OVER (PARTITION BY s.instance_id ORDER BY s.next_attempt_at) AS nth
             FROM contact_sync s
             WHERE s.state = 'pending' AND s.next_attempt_at <= $1
               AND (s.claimed_until IS NULL OR s.claimed_until <= $1)
               AND NOT EXISTS (SELECT 1 FROM instances i
                               WHERE i.instance_id = s.instance_id AND i.status = 'removed')) c
           WHERE nth <= $2 ORDER BY nth, next_attempt_at LIMIT $3
         ), claimable AS (
           SELECT s.feedback_id FROM contact_sync s JOIN candidates c ON c.feedback_id = s.feedback_id
           WHERE s.state = 'pending' AND (s.claimed_until IS NULL OR s.claimed_until <= $1)
           FOR UPDATE OF s SKIP LOCKED
         )
         UPDATE contact_sync s SET claimed_until = $4
         FROM claimable WHERE s.feedback_id = claimable.feedback_id
         RETURNING s.feedback_id, s.instance_id, s.email, s.attempts, s.next_attempt_at",
    )
    .bind(now_ms)
    .bind(PER_SITE_PER_BATCH)
    .bind(limit)
    .bind(now_ms.saturating_add(lease_ms))
    .fetch_all(&pg.pool)
    .await?;
    let mut due = rows
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<i64, _>("next_attempt_at")?,
                PendingSync {
                    feedback_id: r.try_get("feedback_id")?,
                    instance_id: r.try_get("instance_id")?,
                    email: r.try_get("email")?,
                    attempts: r.try_get("attempts")?,
                },
            ))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    due.sort_by_key(|(at, _)| *at);
    Ok(due.into_iter().map(|(_, row)| row).collect())
}

pub(in crate::store) async fn settle(
    pg: &Pg,
    feedback_id: &str,
    settle: Settle<'_>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let query = match settle {
        Settle::Synced { contact_id } => sqlx::query(
            "UPDATE contact_sync SET state = 'synced', contact_id = $1, attempts = attempts + 1,
                    last_error = NULL, claimed_until = NULL, updated_at = $2
             WHERE feedback_id = $3 AND state IN ('pending', 'failed')",
        )
        .bind(contact_id),
        Settle::RetryLater {
            error,
            next_attempt_at,
        } => sqlx::query(
            "UPDATE contact_sync SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2,
                    claimed_until = NULL, updated_at = $3
             WHERE feedback_id = $4 AND state = 'pending'",
        )
        .bind(error)
        .bind(next_attempt_at),
        Settle::Failed { error } => sqlx::query(
            "UPDATE contact_sync SET state = 'failed', attempts = attempts + 1, last_error = $1,
                    claimed_until = NULL, updated_at = $2
             WHERE feedback_id = $3 AND state = 'pending'",
        )
        .bind(error),
    };
    query
        .bind(now_ms)
        .bind(feedback_id)
        .execute(&pg.pool)
        .await?;
    Ok(())
}

pub(in crate::store) async fn release(pg: &Pg, feedback_id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE contact_sync SET claimed_until = NULL WHERE feedback_id = $1")
        .bind(feedback_id)
        .execute(&pg.pool)
        .await?;
    Ok(())
}

pub(in crate::store) async fn expire(
    pg: &Pg,
    created_before_ms: i64,
    reason: &str,
    now_ms: i64,
) -> Result<u64, StoreError> {
    let result = sqlx::query(
        "UPDATE contact_sync SET state = 'failed', last_error = $1, updated_at = $2
         WHERE state = 'pending' AND created_at < $3
           AND NOT EXISTS (SELECT 1 FROM instances i
                           WHERE i.instance_id = contact_sync.instance_id AND i.status = 'removed')",
    )
    .bind(reason)
    .bind(now_ms)
    .bind(created_before_ms)
    .execute(&pg.pool)
    .await?;
    Ok(result.rows_affected())
}

pub(in crate::store) async fn totals(pg: &Pg) -> Result<(i64, i64, i64), StoreError> {
    let row = sqlx::query(
        "SELECT COUNT(*) FILTER (WHERE state = 'pending') AS pending,
                COUNT(*) FILTER (WHERE state = 'synced') AS synced,
                COUNT(*) FILTER (WHERE state = 'failed') AS failed
         FROM contact_sync",
    )
    .fetch_one(&pg.pool)
    .await?;
    Ok((
        row.try_get("pending")?,
        row.try_get("synced")?,
        row.try_get("failed")?,
    ))
}
