//! The retention purge: deletes the data of sites that removed the app, once
//! `DATA_RETENTION_DAYS` have passed, in chunks that let other writes through.

use chrono::{DateTime, Duration, Utc};

use super::{postgres, Db, InstanceRepo, Pools, StoreError};

/// What a purge run deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub instances: u64,
    pub feedback_rows: u64,
}

/// Feedback rows deleted per transaction by a purge.
pub const PURGE_CHUNK: i64 = 500;

impl InstanceRepo<'_> {
    /// Deletes the data of every instance removed at or before `now - retention` and not
    /// reinstalled since, and marks it purged.
    ///
    /// The decision is one transaction: the due instances are marked `purged_at = now`. The rows
    /// are then deleted [`PURGE_CHUNK`] at a time, each chunk its own short transaction, so
    /// submissions, status changes and webhooks keep getting the writer while a large site is
    /// purged. Only rows created before the decision are deleted: a reinstall during the purge
    /// finds the old data gone (as after any purge) and keeps whatever it adds. Instances still
    /// removed whose purge was interrupted (a crash) are picked up again by the next run.
    pub async fn purge_removed(
        &self,
        now: DateTime<Utc>,
        retention: Duration,
    ) -> Result<PurgeReport, StoreError> {
        let Some(cutoff) = now.checked_sub_signed(retention) else {
            return Ok(PurgeReport::default());
        };
        let cutoff = cutoff.timestamp_micros();
        let now_us = now.timestamp_micros();
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => {
                return postgres::instances::purge_removed(pg, now_us, cutoff).await
            }
        };
        let mut tx = pools.write.begin().await?;
        let due: Vec<String> = sqlx::query_scalar(
            "SELECT instance_id FROM instances i
             WHERE status = 'removed' AND removed_at <= ?
               AND (purged_at IS NULL
                    OR EXISTS (SELECT 1 FROM feedback f WHERE f.instance_id = i.instance_id))",
        )
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?;
        let newly = sqlx::query(
            "UPDATE instances SET purged_at = ?, updated_at = ?
             WHERE status = 'removed' AND purged_at IS NULL AND removed_at <= ?",
        )
        .bind(now_us)
        .bind(now_us)
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;

        let mut feedback_rows = 0;
        for instance_id in &due {
            feedback_rows += delete_feedback_before(pools, instance_id, now_us).await?;
            // Contact-sync rows went with their feedback (ON DELETE CASCADE); app tokens go too.
            sqlx::query(
                "DELETE FROM wix_app_tokens WHERE instance_id = ?
                 AND EXISTS (SELECT 1 FROM instances WHERE instance_id = ? AND status = 'removed')",
            )
            .bind(instance_id)
            .bind(instance_id)
            .execute(&pools.write)
            .await?;
            // Widget settings are the site's too (copied to a duplicate only while they exist).
            for table in ["widget_settings", "widget_settings_origin"] {
                sqlx::query(&format!(
                    "DELETE FROM {table} WHERE instance_id = ?
                     AND EXISTS (SELECT 1 FROM instances WHERE instance_id = ? AND status = 'removed')"
                ))
                .bind(instance_id)
                .bind(instance_id)
                .execute(&pools.write)
                .await?;
            }
        }
        Ok(PurgeReport {
            instances: newly.rows_affected(),
            feedback_rows,
        })
    }
}

/// Deletes the instance's feedback created before `before_us`, in chunks.
async fn delete_feedback_before(
    pools: &Pools,
    instance_id: &str,
    before_us: i64,
) -> Result<u64, StoreError> {
    let mut deleted = 0;
    loop {
        let chunk = sqlx::query(
            "DELETE FROM feedback WHERE id IN
               (SELECT id FROM feedback WHERE instance_id = ? AND created_at <= ? LIMIT ?)",
        )
        .bind(instance_id)
        .bind(before_us)
        .bind(PURGE_CHUNK)
        .execute(&pools.write)
        .await?
        .rows_affected();
        deleted += chunk;
        if chunk < PURGE_CHUNK as u64 {
            return Ok(deleted);
        }
        // Let queued writers have the connection between chunks.
        tokio::task::yield_now().await;
    }
}
