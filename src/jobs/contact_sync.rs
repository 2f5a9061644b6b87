//! Turns feedback emails into Wix contacts (the seed's elevation case: a visitor may not create
//! contacts, the app may, and only through this fixed logic).
//!
//! The submission commits the feedback and a `pending` outbox row together and wakes this worker,
//! which calls Wix. A Wix outage only delays the sync: transient failures are retried with
//! exponential backoff capped at `OUTBOX_MAX_BACKOFF_SECS`, across restarts, until the row is
//! `OUTBOX_MAX_AGE_HOURS` old, when it is given up (`failed`). A 409 (the contact exists) links
//! the existing contact. Answers Wix will never accept (e.g. 400, 403) mark a row `failed`.
//! Rows of sites that removed the app are parked (not fetched, no Wix calls) until a reinstall.
//! A batch holds a few rows of each site and its calls run concurrently, so a site whose calls
//! are slow or throttled does not hold up the others.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::auth::TenantId;
use crate::store::{PendingSync, Store};
use crate::wix::{WixClient, WixError};
use futures::StreamExt as _;

const BATCH: i64 = 20;
/// Wix calls in flight at once.
const CONCURRENCY: usize = 8;
/// How often rows past the maximum age are given up.
const EXPIRE_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct ContactSyncWorker {
    store: Store,
    wix: WixClient,
    max_backoff: Duration,
    max_age: Duration,
    /// How often due rows are looked for when nobody wakes the worker (retries come due).
    idle_poll: Duration,
    wake: Arc<Notify>,
}

impl ContactSyncWorker {
    pub fn new(store: Store, wix: WixClient, max_backoff: Duration, max_age: Duration) -> Self {
        Self {
            store,
            wix,
            max_backoff,
            max_age,
            idle_poll: Duration::from_secs(1),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Sets how often due rows are looked for without a wake-up (`OUTBOX_POLL_SECS`).
    pub fn with_idle_poll(mut self, every: Duration) -> Self {
        self.idle_poll = every;
        self
    }

    /// Tells the worker new rows are waiting (after a submission).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs until `stop` resolves; finishes the batch in hand before returning.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut last_expiry: Option<std::time::Instant> = None;
        loop {
            if last_expiry.is_none_or(|at| at.elapsed() >= EXPIRE_EVERY) {
                self.expire_old().await;
                last_expiry = Some(std::time::Instant::now());
            }
            let worked = self.run_once().await;
            if worked > 0 {
                continue;
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.idle_poll) => {}
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
        futures::stream::iter(due)
            .for_each_concurrent(CONCURRENCY, |row| self.sync(row))
            .await;
        count
    }

    /// Gives up on rows older than `OUTBOX_MAX_AGE_HOURS`.
    pub async fn expire_old(&self) {
        let now = chrono::Utc::now().timestamp_millis();
        let cutoff = now - i64::try_from(self.max_age.as_millis()).unwrap_or(i64::MAX);
        let secs = self.max_age.as_secs();
        let reason = if secs >= 3600 && secs.is_multiple_of(3600) {
            format!("gave up: not synced within {} hours", secs / 3600)
        } else {
            format!("gave up: not synced within {secs} seconds")
        };
        match self.store.contact_sync().expire(cutoff, &reason, now).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                rows = n,
                "contact sync: gave up on rows past the maximum age"
            ),
            Err(err) => tracing::warn!(error = %err, "contact sync: cannot expire old rows"),
        }
    }

    async fn sync(&self, row: PendingSync) {
        // The row's instance id was verified when the feedback was submitted.
        let tenant = TenantId::from_stored_row(row.instance_id.clone());
        let result = self.wix.find_or_create_contact(&tenant, &row.email).await;
        let now_ms = chrono::Utc::now().timestamp_millis();
        let outcome = match &result {
            // The site was removed meanwhile: the row stays pending (parked) for a reinstall.
            Err(WixError::InstanceRemoved) => {
                self.store.contact_sync().release(&row.feedback_id).await
            }
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
