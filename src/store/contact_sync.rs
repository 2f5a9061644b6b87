//! The contact-sync outbox: rows written with the feedback, worked off by the background worker.
//!
//! Rows of sites that removed the app are parked: [`ContactSyncRepo::due`] skips them (no Wix
//! calls while removed) and they come back by themselves on reinstall. Sites are served fairly:
//! a batch takes at most [`PER_SITE_PER_BATCH`] rows of any one site, so one site's backlog does
//! not hold up another's syncs.

use sqlx::Row;

use super::{postgres, Db, StoreError, StoreOptions};

/// A sync that is due.
#[derive(Debug, Clone)]
pub struct PendingSync {
    pub feedback_id: String,
    pub instance_id: String,
    pub email: String,
    pub attempts: i64,
}

/// Rows of one site in one batch of [`ContactSyncRepo::due`].
pub const PER_SITE_PER_BATCH: i64 = 4;

pub struct ContactSyncRepo<'a> {
    db: &'a Db,
    settings: &'a StoreOptions,
}

/// A row update after a Wix call; the same SQL on both engines but for placeholders.
pub(super) enum Settle<'a> {
    Synced {
        contact_id: &'a str,
    },
    RetryLater {
        error: &'a str,
        next_attempt_at: i64,
    },
    Failed {
        error: &'a str,
    },
}

impl<'a> ContactSyncRepo<'a> {
    pub(super) fn new(db: &'a Db, settings: &'a StoreOptions) -> Self {
        Self { db, settings }
    }

    /// Pending rows whose next attempt is due at `now_ms`, of sites that have the app installed:
    /// each site's oldest first, at most [`PER_SITE_PER_BATCH`] per site, sites interleaved.
    ///
    /// On PostgreSQL the rows are also claimed for `OUTBOX_LEASE_SECS`: another replica's
    /// `due` skips them until they are settled or the claim expires (its worker died).
    pub async fn due(&self, now_ms: i64, limit: i64) -> Result<Vec<PendingSync>, StoreError> {
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => {
                let lease_ms =
                    i64::try_from(self.settings.outbox_lease.as_millis()).unwrap_or(i64::MAX / 2);
                return postgres::contact_sync::claim_due(pg, now_ms, limit, lease_ms).await;
            }
        };
        let rows = sqlx::query(
            "SELECT feedback_id, instance_id, email, attempts FROM (
               SELECT s.feedback_id, s.instance_id, s.email, s.attempts, s.next_attempt_at,
                      ROW_NUMBER() OVER (PARTITION BY s.instance_id ORDER BY s.next_attempt_at) AS nth
               FROM contact_sync s
               WHERE s.state = 'pending' AND s.next_attempt_at <= ?
                 AND NOT EXISTS (SELECT 1 FROM instances i
                                 WHERE i.instance_id = s.instance_id AND i.status = 'removed'))
             WHERE nth <= ? ORDER BY nth, next_attempt_at LIMIT ?",
        )
        .bind(now_ms)
        .bind(PER_SITE_PER_BATCH)
        .bind(limit)
        .fetch_all(&pools.read)
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
        self.settle(feedback_id, Settle::Synced { contact_id }, now_ms)
            .await
    }

    pub async fn retry_later(
        &self,
        feedback_id: &str,
        error: &str,
        next_attempt_at: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let settle = Settle::RetryLater {
            error,
            next_attempt_at,
        };
        self.settle(feedback_id, settle, now_ms).await
    }

    pub async fn mark_failed(
        &self,
        feedback_id: &str,
        error: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.settle(feedback_id, Settle::Failed { error }, now_ms)
            .await
    }

    /// Hands a claimed row back untouched (its site was removed meanwhile: it stays parked), so
    /// it is not held until its claim expires. Only PostgreSQL claims rows.
    pub async fn release(&self, feedback_id: &str) -> Result<(), StoreError> {
        match self.db {
            Db::Sqlite(_) => Ok(()),
            Db::Postgres(pg) => postgres::contact_sync::release(pg, feedback_id).await,
        }
    }

    /// Records a call's result and releases the row's claim.
    async fn settle(
        &self,
        feedback_id: &str,
        settle: Settle<'_>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => {
                return postgres::contact_sync::settle(pg, feedback_id, settle, now_ms).await
            }
        };
        let query = match settle {
            Settle::Synced { contact_id } => sqlx::query(
                "UPDATE contact_sync SET state = 'synced', contact_id = ?, attempts = attempts + 1, last_error = NULL, updated_at = ?
                 WHERE feedback_id = ? AND state IN ('pending', 'failed')",
            )
            .bind(contact_id),
            Settle::RetryLater {
                error,
                next_attempt_at,
            } => sqlx::query(
                "UPDATE contact_sync SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?
                 WHERE feedback_id = ? AND state = 'pending'",
            )
            .bind(error)
            .bind(next_attempt_at),
            Settle::Failed { error } => sqlx::query(
                "UPDATE contact_sync SET state = 'failed', attempts = attempts + 1, last_error = ?, updated_at = ?
                 WHERE feedback_id = ? AND state = 'pending'",
            )
            .bind(error),
        };
        query
            .bind(now_ms)
            .bind(feedback_id)
            .execute(&pools.write)
            .await?;
        Ok(())
    }

    /// Gives up on pending rows created before `created_before_ms` (state `failed`), except
    /// those parked for a removed site. Returns how many.
    pub async fn expire(
        &self,
        created_before_ms: i64,
        reason: &str,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => {
                return postgres::contact_sync::expire(pg, created_before_ms, reason, now_ms).await
            }
        };
        let result = sqlx::query(
            "UPDATE contact_sync SET state = 'failed', last_error = ?, updated_at = ?
             WHERE state = 'pending' AND created_at < ?
               AND NOT EXISTS (SELECT 1 FROM instances i
                               WHERE i.instance_id = contact_sync.instance_id AND i.status = 'removed')",
        )
        .bind(reason)
        .bind(now_ms)
        .bind(created_before_ms)
        .execute(&pools.write)
        .await?;
        Ok(result.rows_affected())
    }

    /// `(pending, synced, failed)` over all instances; for tests and health output.
    pub async fn totals(&self) -> Result<(i64, i64, i64), StoreError> {
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => return postgres::contact_sync::totals(pg).await,
        };
        let row = sqlx::query(
            "SELECT
               COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS pending,
               COALESCE(SUM(CASE WHEN state = 'synced' THEN 1 ELSE 0 END), 0) AS synced,
               COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS failed
             FROM contact_sync",
        )
        .fetch_one(&pools.read)
        .await?;
        Ok((
            row.try_get("pending")?,
            row.try_get("synced")?,
            row.try_get("failed")?,
        ))
    }
}
