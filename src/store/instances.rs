//! The instance lifecycle: which sites have the app installed, which removed it, and when a
//! removed site's data is due for deletion.
//!
//! Wix delivers install/uninstall webhooks at least once and possibly late, so every change here
//! is idempotent (a delivery already recorded in `webhook_events` changes nothing) and
//! order-safe (an event older than the newest one applied to the instance is ignored).

use chrono::{DateTime, Duration, Utc};
use rusqlite::OptionalExtension as _;
use sqlx::Row;
use strum::{EnumString, IntoStaticStr};

use super::{postgres, Db, RemovedInstances, StoreError};
use crate::auth::TenantId;

/// What a lifecycle event does to its instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Installed,
    Removed,
}

/// What a billing event sets: the instance's plan (`None` = free) as of `at`, Wix's time of the
/// operation. Plan events are ordered among themselves by `at`, on a clock of their own
/// (`instance_plans.plan_event_at`), so they never make a lifecycle event look stale.
#[derive(Debug, Clone, Copy)]
pub struct PlanChange<'a> {
    pub plan_id: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// The plan billing webhooks last set for an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPlan {
    pub plan_id: Option<String>,
    /// When the event that set it happened (Wix's clock).
    pub at: DateTime<Utc>,
}

/// A delivery to record. `change` and `plan` are `None` for event types the app does not act
/// on (at most one of them is set).
#[derive(Debug, Clone)]
pub struct DeliveredEvent<'a> {
    /// Idempotency key: the same delivery twice has the same key.
    pub key: &'a str,
    pub event_type: &'a str,
    pub tenant: Option<&'a TenantId>,
    pub change: Option<Lifecycle>,
    /// For billing events: the plan to set.
    pub plan: Option<PlanChange<'a>>,
    /// When the event happened by Wix's clock: orders events. Clamped to `received_at` only for
    /// the times retention is counted from.
    pub event_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

/// What recording an event did. [`Outcome::as_str`] is the webhook answer's `outcome` and the
/// log field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr)]
#[cfg_attr(test, derive(strum::VariantArray))]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    /// The instance's state now reflects the event.
    Applied,
    /// This exact delivery was recorded before; nothing changed.
    Duplicate,
    /// A newer event for the instance was already applied; nothing changed.
    Stale,
    /// Recorded, but the event type does not touch the lifecycle.
    Ignored,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// `instances.status`, as stored (the table's CHECK constraint lists the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString)]
#[cfg_attr(test, derive(strum::VariantArray))]
#[strum(serialize_all = "snake_case")]
pub enum InstanceStatus {
    Active,
    Removed,
}

impl InstanceStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One row of `instances`, times as unix microseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRecord {
    pub status: InstanceStatus,
    pub installed_at: Option<i64>,
    pub removed_at: Option<i64>,
    pub last_event_at: i64,
    pub purged_at: Option<i64>,
}

/// Sets an instance's plan unless a newer plan event was applied (`?1` instance, `?2` plan id,
/// `?3` event time, `?4` now, all µs). No row changed = stale.
const SET_PLAN_SQLITE: &str =
    "INSERT INTO instance_plans (instance_id, plan_id, plan_event_at, updated_at)
     VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (instance_id) DO UPDATE SET plan_id = excluded.plan_id,
       plan_event_at = excluded.plan_event_at, updated_at = excluded.updated_at
     WHERE excluded.plan_event_at >= instance_plans.plan_event_at";
/// [`SET_PLAN_SQLITE`] for PostgreSQL.
pub(super) const SET_PLAN_POSTGRES: &str =
    "INSERT INTO instance_plans (instance_id, plan_id, plan_event_at, updated_at)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (instance_id) DO UPDATE SET plan_id = excluded.plan_id,
       plan_event_at = excluded.plan_event_at, updated_at = excluded.updated_at
     WHERE excluded.plan_event_at >= instance_plans.plan_event_at";

/// Processed-delivery keys older than this are forgotten; a redelivery that late is still
/// harmless because older events never override newer ones.
pub const EVENT_KEY_RETENTION_DAYS: i64 = 90;

/// How an applied event changes an instance that has a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transition {
    /// Active again: removal and purge forgotten.
    Reinstall,
    Remove,
    /// Same state again (a re-sent event): only the event clock moves.
    Touch,
}

impl Transition {
    pub(super) fn of(change: Lifecycle, status: Option<InstanceStatus>) -> Self {
        match (change, status) {
            (Lifecycle::Installed, Some(InstanceStatus::Removed) | None) => Self::Reinstall,
            (Lifecycle::Removed, Some(InstanceStatus::Active) | None) => Self::Remove,
            (Lifecycle::Installed, Some(InstanceStatus::Active))
            | (Lifecycle::Removed, Some(InstanceStatus::Removed)) => Self::Touch,
        }
    }
}

impl DeliveredEvent<'_> {
    /// `(order_us, event_us, received_us)`. Events are ordered by their own time, as Wix's
    /// clock says (events of one instance share that clock, ours may differ). Retention is
    /// counted from a time that is never in our future, so a Wix clock ahead of ours cannot
    /// postpone a purge.
    pub(super) fn times(&self) -> (i64, i64, i64) {
        let received_us = self.received_at.timestamp_micros();
        let order_us = self.event_at.timestamp_micros();
        (order_us, order_us.min(received_us), received_us)
    }
}

pub struct InstanceRepo<'a> {
    pub(super) db: &'a Db,
    removed: &'a RemovedInstances,
}

impl<'a> InstanceRepo<'a> {
    pub(super) fn new(db: &'a Db, removed: &'a RemovedInstances) -> Self {
        Self { db, removed }
    }

    /// Records a delivery and applies it to its instance, in one transaction.
    pub async fn record(&self, event: &DeliveredEvent<'_>) -> Result<Outcome, StoreError> {
        let (order_us, event_us, received_us) = event.times();
        // Held until the in-memory removed set agrees with this commit (see `removed.rs`).
        let _lifecycle = self.removed.lock().await;
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => {
                let outcome = postgres::instances::record(pg, event).await?;
                if let (Outcome::Applied, Some(tenant), Some(change)) =
                    (outcome, event.tenant, event.change)
                {
                    self.removed
                        .set(tenant.as_str(), change == Lifecycle::Removed);
                }
                return Ok(outcome);
            }
        };
        let mut tx = pools.write.begin().await?;
        // A write first, so the transaction holds SQLite's write lock from here on.
        let inserted = sqlx::query(
            "INSERT INTO webhook_events (event_key, event_type, instance_id, event_at, received_at)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_key) DO NOTHING",
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
            let applied = sqlx::query(SET_PLAN_SQLITE)
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

        let current =
            sqlx::query("SELECT status, last_event_at FROM instances WHERE instance_id = ?")
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
                     VALUES (?, ?, ?, ?, ?, NULL, ?)",
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
                    let sql = match Transition::of(change, status) {
                        Transition::Reinstall => {
                            "UPDATE instances SET status = 'active', installed_at = ?1, removed_at = NULL,
                             purged_at = NULL, last_event_at = ?4, updated_at = ?2 WHERE instance_id = ?3"
                        }
                        Transition::Remove => {
                            "UPDATE instances SET status = 'removed', removed_at = ?1,
                             last_event_at = ?4, updated_at = ?2 WHERE instance_id = ?3"
                        }
                        Transition::Touch => {
                            "UPDATE instances SET last_event_at = ?4, updated_at = ?2 WHERE instance_id = ?3"
                        }
                    };
                    sqlx::query(sql)
                        .bind(event_us)
                        .bind(received_us)
                        .bind(tenant.as_str())
                        .bind(order_us)
                        .execute(&mut *tx)
                        .await?;
                    Outcome::Applied
                }
            }
        };
        tx.commit().await?;
        if outcome == Outcome::Applied {
            self.removed
                .set(tenant.as_str(), change == Lifecycle::Removed);
        }
        Ok(outcome)
    }

    /// The plan billing webhooks last set; `None` when none ever did.
    pub async fn plan(&self, tenant: &TenantId) -> Result<Option<StoredPlan>, StoreError> {
        let row: Option<(Option<String>, i64)> = match self.db {
            // In place, not through sqlx: every submission reads it (see `inline_reads.rs`).
            Db::Sqlite(pools) => pools.inline.with(|conn| {
                conn.prepare_cached(
                    "SELECT plan_id, plan_event_at FROM instance_plans WHERE instance_id = ?",
                )?
                .query_row([tenant.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
            })?,
            Db::Postgres(pg) => {
                sqlx::query_as(
                    "SELECT plan_id, plan_event_at FROM instance_plans WHERE instance_id = $1",
                )
                .bind(tenant.as_str())
                .fetch_optional(&pg.pool)
                .await?
            }
        };
        Ok(row.map(|(plan_id, at)| StoredPlan {
            plan_id,
            at: DateTime::<Utc>::from_timestamp_micros(at).unwrap_or_default(),
        }))
    }

    /// The lifecycle row of an instance; `None` when no webhook ever mentioned it.
    pub async fn get(&self, tenant: &TenantId) -> Result<Option<InstanceRecord>, StoreError> {
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => return postgres::instances::get(pg, tenant).await,
        };
        let row = sqlx::query(
            "SELECT status, installed_at, removed_at, last_event_at, purged_at FROM instances WHERE instance_id = ?",
        )
        .bind(tenant.as_str())
        .fetch_optional(&pools.read)
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

    /// True when the instance's newest lifecycle event is a removal. Never-seen instances are
    /// active. Answered from memory: this runs on every API request.
    pub fn is_removed(&self, tenant: &TenantId) -> bool {
        self.removed.contains(tenant.as_str())
    }

    /// [`Self::is_removed`] by raw id, for background work on stored rows.
    pub fn is_removed_id(&self, instance_id: &str) -> bool {
        self.removed.contains(instance_id)
    }

    /// Forgets processed-delivery keys received before `now - EVENT_KEY_RETENTION_DAYS`.
    pub async fn prune_event_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let before = (now - Duration::days(EVENT_KEY_RETENTION_DAYS)).timestamp_micros();
        let result = match self.db {
            Db::Sqlite(pools) => sqlx::query("DELETE FROM webhook_events WHERE received_at < ?")
                .bind(before)
                .execute(&pools.write)
                .await?
                .rows_affected(),
            Db::Postgres(pg) => sqlx::query("DELETE FROM webhook_events WHERE received_at < $1")
                .bind(before)
                .execute(&pg.pool)
                .await?
                .rows_affected(),
        };
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    #[test]
    fn instance_status_names_round_trip() {
        let names = [
            (InstanceStatus::Active, "active"),
            (InstanceStatus::Removed, "removed"),
        ];
        assert_eq!(names.len(), InstanceStatus::VARIANTS.len());
        for (status, name) in names {
            assert_eq!(status.as_str(), name);
            assert_eq!(name.parse::<InstanceStatus>(), Ok(status));
        }
        assert!("Active".parse::<InstanceStatus>().is_err());
        assert!("".parse::<InstanceStatus>().is_err());
    }

    #[test]
    fn outcome_names() {
        let names = [
            (Outcome::Applied, "applied"),
            (Outcome::Duplicate, "duplicate"),
            (Outcome::Stale, "stale"),
            (Outcome::Ignored, "ignored"),
        ];
        assert_eq!(names.len(), Outcome::VARIANTS.len());
        for (outcome, name) in names {
            assert_eq!(outcome.as_str(), name);
        }
    }
}
