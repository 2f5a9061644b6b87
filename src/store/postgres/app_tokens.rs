//! App access tokens on PostgreSQL, and the lock that makes replicas with cold caches ask Wix
//! for one instance's token once between them.

use sqlx::{PgPool, Postgres, Row, Transaction};

use super::Pg;
use crate::store::StoreError;

pub(in crate::store) async fn get(
    pool: &PgPool,
    instance_id: &str,
) -> Result<Option<(String, i64)>, StoreError> {
    let row =
        sqlx::query("SELECT access_token, expires_at FROM wix_app_tokens WHERE instance_id = $1")
            .bind(instance_id)
            .fetch_optional(pool)
            .await?;
    Ok(match row {
        Some(row) => Some((row.try_get("access_token")?, row.try_get("expires_at")?)),
        None => None,
    })
}

/// Stores the token unless the instance is removed. The instance's lifecycle lock (shared)
/// orders this against a removal on any replica: either it lands first and the removal's purge
/// takes it, or it sees the removal.
pub(in crate::store) async fn put_unless_removed<'e, E>(
    executor: E,
    instance_id: &str,
    token: &str,
    expires_at: i64,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    executor
        .execute(
            sqlx::query(
                "INSERT INTO wix_app_tokens (instance_id, access_token, expires_at)
                 SELECT $1, $2, $3 WHERE NOT EXISTS
                   (SELECT 1 FROM instances WHERE instance_id = $1 AND status = 'removed')
                 ON CONFLICT (instance_id) DO UPDATE
                   SET access_token = excluded.access_token, expires_at = excluded.expires_at",
            )
            .bind(instance_id)
            .bind(token)
            .bind(expires_at),
        )
        .await?;
    Ok(())
}

/// The right to fetch one instance's token, held by one replica at a time: a transaction holding
/// an advisory lock on the instance (its own key space, not the lifecycle lock). Dropped without
/// [`Self::finish`], the transaction rolls back and the lock is released all the same.
pub struct TokenFetchLock {
    tx: Transaction<'static, Postgres>,
    instance_id: String,
}

impl std::fmt::Debug for TokenFetchLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenFetchLock")
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

impl TokenFetchLock {
    pub(in crate::store) async fn acquire(pg: &Pg, instance_id: &str) -> Result<Self, StoreError> {
        let mut tx = pg.pool.begin().await?;
        // Seed 0x5749_5854 ("WIXT"): a key space apart from the lifecycle locks.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 1464424532))")
            .bind(instance_id)
            .execute(&mut *tx)
            .await?;
        Ok(Self {
            tx,
            instance_id: instance_id.to_owned(),
        })
    }

    /// The stored token (what a replica that held the lock before stored), `(token, expires_at)`.
    pub async fn stored(&mut self) -> Result<Option<(String, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT access_token, expires_at FROM wix_app_tokens WHERE instance_id = $1",
        )
        .bind(&self.instance_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(match row {
            Some(row) => Some((row.try_get("access_token")?, row.try_get("expires_at")?)),
            None => None,
        })
    }

    /// Stores a freshly fetched token (unless the instance was removed) and releases the lock.
    pub async fn finish(mut self, token: &str, expires_at: i64) -> Result<(), StoreError> {
        put_unless_removed(&mut *self.tx, &self.instance_id, token, expires_at).await?;
        self.tx.commit().await?;
        Ok(())
    }
}
