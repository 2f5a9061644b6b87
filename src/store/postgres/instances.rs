//! The instance lifecycle on PostgreSQL. Replicas may receive events of one instance at the same
//! moment (or the same delivery twice): each event runs under the instance's exclusive advisory
//! lock, so events apply one at a time in commit order, and the delivery key's primary key makes
//! a concurrent duplicate wait for the first and then change nothing.

use sqlx::Row;

use super::{instance_lock, Pg, LIFECYCLE_CHANNEL, PURGE_LOCK};
use crate::auth::TenantId;
use crate::store::instances::{
    DeliveredEvent, InstanceRecord, InstanceStatus, Lifecycle, Outcome, Transition,
    SET_PLAN_POSTGRES,
};
use crate::store::purge::{PurgeReport, PURGE_CHUNK};
use crate::store::StoreError;

pub(in crate::store) async fn record(
    pg: &Pg,
    event: &DeliveredEvent<'_>,
) -> Result<Outcome, StoreError> {
    let (order_us, event_us, received_us) = event.times();
    let mut tx = pg.pool.begin().await?;
    if let Some(tenant) = event.tenant {
        sqlx::query(instance_lock(false))
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?;
    }
    let inserted = sqlx::query(
        "INSERT INTO webhook_events (event_key, event_type, instance_id, event_at, received_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_key) DO NOTHING",
    )
    .bind(event.key)
    .bind(event.event_type)
    .bind(event.tenant.map(TenantId::as_str))
    .bind(order_us)
    .bind(received_us)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        tx.commit().await?;
        return Ok(Outcome::Duplicate);
    }
    if let (Some(tenant), Some(plan)) = (event.tenant, event.plan) {
        // Under the instance's exclusive lock, like lifecycle events.
        let applied = sqlx::query(SET_PLAN_POSTGRES)
            .bind(tenant.as_str())
            .bind(plan.plan_id)
            .bind(plan.at.timestamp_micros())
            .bind(received_us)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        return Ok(if applied > 0 {
            Outcome::Applied
        } else {
            Outcome::Stale
        });
    }
    let (Some(tenant), Some(change)) = (event.tenant, event.change) else {
        tx.commit().await?;
        return Ok(Outcome::Ignored);
    };
    let current = sqlx::query("SELECT status, last_event_at FROM instances WHERE instance_id = $1")
        .bind(tenant.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let outcome = match current {
        None => {
            let (status, installed_at, removed_at) = match change {
                Lifecycle::Installed => (InstanceStatus::Active, Some(event_us), None),
                Lifecycle::Removed => (InstanceStatus::Removed, None, Some(event_us)),
            };
            sqlx::query(
                "INSERT INTO instances (instance_id, status, installed_at, removed_at, last_event_at, purged_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, NULL, $6)",
            )
            .bind(tenant.as_str())
            .bind(status.as_str())
            .bind(installed_at)
            .bind(removed_at)
            .bind(order_us)
            .bind(received_us)
            .execute(&mut *tx)
            .await?;
            Outcome::Applied
        }
        Some(row) => {
            let last: i64 = row.try_get("last_event_at")?;
            let status: Option<InstanceStatus> = row.try_get::<&str, _>("status")?.parse().ok();
            if order_us < last {
                Outcome::Stale
            } else {
                let query = match Transition::of(change, status) {
                    Transition::Reinstall => sqlx::query(
                        "UPDATE instances SET status = 'active', installed_at = $1, removed_at = NULL,
                         purged_at = NULL, last_event_at = $4, updated_at = $2 WHERE instance_id = $3",
                    )
                    .bind(event_us),
                    Transition::Remove => sqlx::query(
                        "UPDATE instances SET status = 'removed', removed_at = $1,
                         last_event_at = $4, updated_at = $2 WHERE instance_id = $3",
                    )
                    .bind(event_us),
                    // PostgreSQL wants every bound parameter used: $1 is bound to NULL here.
                    Transition::Touch => sqlx::query(
                        "UPDATE instances SET last_event_at = $4, updated_at = $2
                         WHERE instance_id = $3 AND $1::BIGINT IS NULL",
                    )
                    .bind(None::<i64>),
                };
                query
                    .bind(received_us)
                    .bind(tenant.as_str())
                    .bind(order_us)
                    .execute(&mut *tx)
                    .await?;
                Outcome::Applied
            }
        }
    };
    if outcome == Outcome::Applied {
        // Delivered to every replica's listener when (and only if) this commits.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(LIFECYCLE_CHANNEL)
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

pub(in crate::store) async fn get(
    pg: &Pg,
    tenant: &TenantId,
) -> Result<Option<InstanceRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT status, installed_at, removed_at, last_event_at, purged_at FROM instances WHERE instance_id = $1",
    )
    .bind(tenant.as_str())
    .fetch_optional(&pg.pool)
    .await?;
    row.map(|row| {
        Ok(InstanceRecord {
            status: row
                .try_get::<&str, _>("status")?
                .parse()
                .unwrap_or(InstanceStatus::Active),
            installed_at: row.try_get("installed_at")?,
            removed_at: row.try_get("removed_at")?,
            last_event_at: row.try_get("last_event_at")?,
            purged_at: row.try_get("purged_at")?,
        })
    })
    .transpose()
}

/// The purge of [`InstanceRepo::purge_removed`](crate::store::InstanceRepo::purge_removed), run
/// by one replica at a time: a session advisory lock on a connection of its own, released (or
/// dropped with the connection) at the end. A run waits for the holder rather than skipping: the
/// holder decided which instances were due before it looked, so a removal committed meanwhile
/// (with `DATA_RETENTION_DAYS=0`, purged by its own webhook) would otherwise wait for the next
/// hourly run, marked purged by the holder's update but with its rows still there. A run after
/// another finds little left to do.
pub(in crate::store) async fn purge_removed(
    pg: &Pg,
    now_us: i64,
    cutoff: i64,
) -> Result<PurgeReport, StoreError> {
    let mut lock = pg.pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(PURGE_LOCK)
        .execute(&mut *lock)
        .await?;
    let result = purge_locked(pg, now_us, cutoff).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(PURGE_LOCK)
        .execute(&mut *lock)
        .await;
    if unlocked.is_err() {
        // A session lock lives as long as its connection: close it rather than pool it.
        let _ = lock.detach();
    }
    result
}

async fn purge_locked(pg: &Pg, now_us: i64, cutoff: i64) -> Result<PurgeReport, StoreError> {
    let mut tx = pg.pool.begin().await?;
    let due: Vec<String> = sqlx::query_scalar(
        "SELECT instance_id FROM instances i
         WHERE status = 'removed' AND removed_at <= $1
           AND (purged_at IS NULL
                OR EXISTS (SELECT 1 FROM feedback f WHERE f.instance_id = i.instance_id))",
    )
    .bind(cutoff)
    .fetch_all(&mut *tx)
    .await?;
    let newly = sqlx::query(
        "UPDATE instances SET purged_at = $1, updated_at = $1
         WHERE status = 'removed' AND purged_at IS NULL AND removed_at <= $2",
    )
    .bind(now_us)
    .bind(cutoff)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    let mut feedback_rows = 0;
    for instance_id in &due {
        loop {
            let chunk = sqlx::query(
                "DELETE FROM feedback WHERE id IN
                   (SELECT id FROM feedback WHERE instance_id = $1 AND created_at <= $2 LIMIT $3)",
            )
            .bind(instance_id)
            .bind(now_us)
            .bind(PURGE_CHUNK)
            .execute(&pg.pool)
            .await?
            .rows_affected();
            feedback_rows += chunk;
            if chunk < PURGE_CHUNK as u64 {
                break;
            }
        }
        sqlx::query(
            "DELETE FROM wix_app_tokens WHERE instance_id = $1
             AND EXISTS (SELECT 1 FROM instances WHERE instance_id = $1 AND status = 'removed')",
        )
        .bind(instance_id)
        .execute(&pg.pool)
        .await?;
        for table in ["widget_settings", "widget_settings_origin"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE instance_id = $1
                 AND EXISTS (SELECT 1 FROM instances WHERE instance_id = $1 AND status = 'removed')"
            ))
            .bind(instance_id)
            .execute(&pg.pool)
            .await?;
        }
    }
    Ok(PurgeReport {
        instances: newly.rows_affected(),
        feedback_rows,
    })
}
