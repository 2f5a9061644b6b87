//! Which instances removed the app: kept in memory so every API request can be checked without a
//! database round trip.
//!
//! The set is loaded from `instances` when the store opens and changed only by
//! [`InstanceRepo::record`](super::InstanceRepo::record), which holds [`RemovedInstances::lock`]
//! from its transaction's start until the set reflects the commit: lifecycle changes apply to the
//! set in commit order, and the set never runs ahead of the database. On SQLite one process owns
//! the file, so no other writer can change `instances` behind it. On PostgreSQL other replicas
//! do: each change is announced with `NOTIFY`, and every replica's listener re-reads the changed
//! instance (and the whole set after its connection was lost), see `postgres/listener.rs`.
//! Memory: one id per removed (and not reinstalled) site.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use tokio::sync::{Mutex, MutexGuard};

#[derive(Clone, Debug, Default)]
pub(super) struct RemovedInstances {
    ids: Arc<RwLock<HashSet<Box<str>>>>,
    writer: Arc<Mutex<()>>,
}

impl RemovedInstances {
    pub(super) fn from_ids(ids: Vec<String>) -> Self {
        let set = Self::default();
        set.replace_all(ids);
        set
    }

    /// Replaces the whole set (a reload from the database).
    pub(super) fn replace_all(&self, ids: Vec<String>) {
        *self
            .ids
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) =
            ids.into_iter().map(String::into_boxed_str).collect();
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
