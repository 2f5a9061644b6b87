//! Turns feedback emails into Wix contacts (the seed's elevation case: a visitor may not create
//! contacts, the app may, and only through this fixed logic).
//!
//! The submission commits the feedback and a `pending` outbox row together; this worker calls
//! Wix later. A Wix outage only delays the sync: transient failures are retried with exponential
//! backoff capped at `OUTBOX_MAX_BACKOFF_SECS`, across restarts. A 409 (the contact exists) links
//! the existing contact. Only answers Wix will never accept (e.g. 400, 403) mark a row `failed`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::auth::TenantId;
use crate::store::{PendingSync, Store};
use crate::wix::WixClient;

const BATCH: i64 = 20;
/// How often the worker looks for due rows when nobody wakes it.
const IDLE_POLL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct ContactSyncWorker {
    store: Store,
    wix: WixClient,
    max_backoff: Duration,
    wake: Arc<Notify>,
}

impl ContactSyncWorker {
    pub fn new(store: Store, wix: WixClient, max_backoff: Duration) -> Self {
        Self {
            store,
            wix,
            max_backoff,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Tells the worker new rows are waiting (after a submission).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs until `stop` resolves; finishes the batch in hand before returning.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let worked = self.run_once().await;
            if worked > 0 {
                continue;
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }

    /// Processes the rows due now; returns how many it handled.
    pub async fn run_once(&self) -> usize {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let due = match self.store.contact_sync().due(now_ms, BATCH).await {
            Ok(due) => due,
            Err(err) => {
                tracing::warn!(error = %err, "contact sync: cannot read the outbox");
                return 0;
            }
        };
        let count = due.len();
        for row in due {
            self.sync(row).await;
        }
        count
    }

    async fn sync(&self, row: PendingSync) {
        // The row's instance id was verified when the feedback was submitted.
        let tenant = TenantId::from_stored_row(row.instance_id.clone());
        let result = self.wix.find_or_create_contact(&tenant, &row.email).await;
        let now_ms = chrono::Utc::now().timestamp_millis();
        let outcome = match &result {
            Ok(contact_id) => {
                self.store
                    .contact_sync()
                    .mark_synced(&row.feedback_id, contact_id, now_ms)
                    .await
            }
            Err(err) if err.is_transient() => {
                let delay = self.backoff(row.attempts);
                tracing::info!(error = %err, attempts = row.attempts + 1, retry_in_ms = delay.as_millis() as u64, "contact sync delayed");
                self.store
                    .contact_sync()
                    .retry_later(
                        &row.feedback_id,
                        &err.to_string(),
                        now_ms + delay.as_millis() as i64,
                        now_ms,
                    )
                    .await
            }
            Err(err) => {
                tracing::warn!(error = %err, "contact sync failed for good");
                self.store
                    .contact_sync()
                    .mark_failed(&row.feedback_id, &err.to_string(), now_ms)
                    .await
            }
        };
        if let Err(err) = outcome {
            tracing::warn!(error = %err, "contact sync: cannot record the outcome");
        }
    }

    /// 1 s, 2 s, 4 s, … capped at `max_backoff`.
    fn backoff(&self, attempts: i64) -> Duration {
        let exp = Duration::from_secs(1).saturating_mul(1u32 << attempts.clamp(0, 20));
        exp.min(self.max_backoff)
    }
}
