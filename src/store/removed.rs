//! Which instances removed the app: kept in memory so every API request can be checked without a
//! database round trip.
//!
//! The set is loaded from `instances` when the store opens and changed only by
//! [`InstanceRepo::record`](super::InstanceRepo::record), which holds [`RemovedInstances::lock`]
//! from its transaction's start until the set reflects the commit: lifecycle changes apply to the
//! set in commit order, and the set never runs ahead of the database. One process owns the SQLite
//! file, so no other writer can change `instances` behind it. Memory: one id per removed (and not
//! reinstalled) site.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use sqlx::SqlitePool;
use tokio::sync::{Mutex, MutexGuard};

use super::StoreError;

#[derive(Clone, Debug, Default)]
pub(super) struct RemovedInstances {
    ids: Arc<RwLock<HashSet<Box<str>>>>,
    writer: Arc<Mutex<()>>,
}

impl RemovedInstances {
    pub(super) async fn load(pool: &SqlitePool) -> Result<Self, StoreError> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT instance_id FROM instances WHERE status = 'removed'")
                .fetch_all(pool)
                .await?;
        let set = Self::default();
        set.ids
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(ids.into_iter().map(String::into_boxed_str));
        Ok(set)
    }

    pub(super) fn contains(&self, instance_id: &str) -> bool {
        self.ids
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(instance_id)
    }

    /// Serialises lifecycle changes: hold it across the transaction and the [`Self::set`] after it.
    pub(super) async fn lock(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().await
    }

    pub(super) fn set(&self, instance_id: &str, removed: bool) {
        let mut ids = self
            .ids
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if removed {
            ids.insert(instance_id.into());
        } else {
            ids.remove(instance_id);
        }
    }
}
