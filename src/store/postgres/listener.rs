//! Keeps this replica's removed set in step with the database: `LISTEN` for lifecycle changes
//! (any replica's), re-read the changed instance, and re-read the whole set whenever the
//! listening connection was lost (notifications sent meanwhile are gone).

use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::task::JoinHandle;

use super::LIFECYCLE_CHANNEL;
use crate::store::removed::RemovedInstances;
use crate::store::StoreError;

/// Listens first, then loads the set, so no change falls between the two.
pub(super) async fn start(
    pool: PgPool,
    removed: RemovedInstances,
) -> Result<JoinHandle<()>, StoreError> {
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(LIFECYCLE_CHANNEL).await?;
    reload(&pool, &removed).await?;
    Ok(tokio::spawn(run(pool, listener, removed)))
}

async fn run(pool: PgPool, mut listener: PgListener, removed: RemovedInstances) {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                if let Err(err) = refresh(&pool, &removed, notification.payload()).await {
                    tracing::warn!(error = %err, "lifecycle listener: cannot read an instance; reloading all");
                    reload_until_done(&pool, &removed).await;
                }
            }
            // The connection was lost and has been re-established (sqlx reconnects and listens
            // again before returning): whatever changed meanwhile is read now.
            Ok(None) => {
                tracing::warn!("lifecycle listener: connection lost; reloading removed instances");
                reload_until_done(&pool, &removed).await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "lifecycle listener: cannot listen; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
                // The next `try_recv` reconnects; reload after it has.
                if listener.listen(LIFECYCLE_CHANNEL).await.is_ok() {
                    reload_until_done(&pool, &removed).await;
                }
            }
        }
    }
}

async fn refresh(pool: &PgPool, removed: &RemovedInstances, id: &str) -> Result<(), StoreError> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM instances WHERE instance_id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    removed.set(id, status.as_deref() == Some("removed"));
    Ok(())
}

async fn reload(pool: &PgPool, removed: &RemovedInstances) -> Result<(), StoreError> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT instance_id FROM instances WHERE status = 'removed'")
            .fetch_all(pool)
            .await?;
    removed.replace_all(ids);
    Ok(())
}

async fn reload_until_done(pool: &PgPool, removed: &RemovedInstances) {
    while let Err(err) = reload(pool, removed).await {
        tracing::warn!(error = %err, "lifecycle listener: reload failed; retrying");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
