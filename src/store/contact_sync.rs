//! The contact-sync outbox: rows written with the feedback, worked off by the background worker.

use sqlx::Row;

use super::{Pools, StoreError};

/// A sync that is due.
#[derive(Debug, Clone)]
pub struct PendingSync {
    pub feedback_id: String,
    pub instance_id: String,
    pub email: String,
    pub attempts: i64,
}

pub struct ContactSyncRepo<'a> {
    pools: &'a Pools,
}

impl<'a> ContactSyncRepo<'a> {
    pub(super) fn new(pools: &'a Pools) -> Self {
        Self { pools }
    }

    /// Pending rows whose next attempt is due at `now_ms`, oldest first.
    pub async fn due(&self, now_ms: i64, limit: i64) -> Result<Vec<PendingSync>, StoreError> {
        let rows = sqlx::query(
            "SELECT feedback_id, instance_id, email, attempts FROM contact_sync
             WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.pools.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingSync {
                    feedback_id: r.try_get("feedback_id")?,
                    instance_id: r.try_get("instance_id")?,
                    email: r.try_get("email")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect()
    }

    pub async fn mark_synced(
        &self,
        feedback_id: &str,
        contact_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE contact_sync SET state = 'synced', contact_id = ?, attempts = attempts + 1, last_error = NULL, updated_at = ?
             WHERE feedback_id = ?",
        )
        .bind(contact_id)
        .bind(now_ms)
        .bind(feedback_id)
        .execute(&self.pools.write)
        .await?;
        Ok(())
    }

    pub async fn retry_later(
        &self,
        feedback_id: &str,
        error: &str,
        next_attempt_at: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE contact_sync SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?
             WHERE feedback_id = ?",
        )
        .bind(error)
        .bind(next_attempt_at)
        .bind(now_ms)
        .bind(feedback_id)
        .execute(&self.pools.write)
        .await?;
        Ok(())
    }

    pub async fn mark_failed(
        &self,
        feedback_id: &str,
        error: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE contact_sync SET state = 'failed', attempts = attempts + 1, last_error = ?, updated_at = ?
             WHERE feedback_id = ?",
        )
        .bind(error)
        .bind(now_ms)
        .bind(feedback_id)
        .execute(&self.pools.write)
        .await?;
        Ok(())
    }

    /// `(pending, synced, failed)` over all instances; for tests and health output.
    pub async fn totals(&self) -> Result<(i64, i64, i64), StoreError> {
        let row = sqlx::query(
            "SELECT
               COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS pending,
               COALESCE(SUM(CASE WHEN state = 'synced' THEN 1 ELSE 0 END), 0) AS synced,
               COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS failed
             FROM contact_sync",
        )
        .fetch_one(&self.pools.read)
        .await?;
        Ok((
            row.try_get("pending")?,
            row.try_get("synced")?,
            row.try_get("failed")?,
        ))
    }
}
