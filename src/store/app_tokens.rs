//! The database copy of app access tokens, so a restart or another replica reuses a live token
//! instead of asking Wix for a new one.

use sqlx::Row;

use super::{postgres, Db, StoreError};

pub use super::postgres::app_tokens::TokenFetchLock;

pub struct AppTokenRepo<'a> {
    db: &'a Db,
}

impl<'a> AppTokenRepo<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// On PostgreSQL, waits until no other replica is fetching this instance's token and holds
    /// that right until the lock is finished or dropped: the holder reads the stored token
    /// first and asks Wix only when there is none, so cold caches on N replicas cost one token
    /// request. `None` on SQLite, where one process coalesces its own fetches.
    pub async fn lock_for_fetch(
        &self,
        instance_id: &str,
    ) -> Result<Option<TokenFetchLock>, StoreError> {
        match self.db {
            Db::Sqlite(_) => Ok(None),
            Db::Postgres(pg) => Ok(Some(TokenFetchLock::acquire(pg, instance_id).await?)),
        }
    }

    /// `(token, expires_at unix seconds)`.
    pub async fn get(&self, instance_id: &str) -> Result<Option<(String, i64)>, StoreError> {
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => return postgres::app_tokens::get(&pg.pool, instance_id).await,
        };
        let row = sqlx::query(
            "SELECT access_token, expires_at FROM wix_app_tokens WHERE instance_id = ?",
        )
        .bind(instance_id)
        .fetch_optional(&pools.read)
        .await?;
        Ok(match row {
            Some(row) => Some((row.try_get("access_token")?, row.try_get("expires_at")?)),
            None => None,
        })
    }

    /// Stores the instance's token unless the instance is removed: a token fetched while a
    /// removal was being applied must not outlive it. Writes are serialised, so either this lands
    /// before the removal (and the removal's delete takes it) or it sees the removal.
    pub async fn put_unless_removed(
        &self,
        instance_id: &str,
        token: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => {
                return postgres::app_tokens::put_unless_removed(
                    &pg.pool,
                    instance_id,
                    token,
                    expires_at,
                )
                .await
            }
        };
        sqlx::query(
            "INSERT INTO wix_app_tokens (instance_id, access_token, expires_at)
             SELECT ?1, ?2, ?3 WHERE NOT EXISTS
               (SELECT 1 FROM instances WHERE instance_id = ?1 AND status = 'removed')
             ON CONFLICT (instance_id) DO UPDATE SET access_token = excluded.access_token, expires_at = excluded.expires_at",
        )
        .bind(instance_id)
        .bind(token)
        .bind(expires_at)
        .execute(&pools.write)
        .await?;
        Ok(())
    }

    /// Deletes the instance's token only if it is still `token` (not a fresh replacement).
    pub async fn delete_if(&self, instance_id: &str, token: &str) -> Result<(), StoreError> {
        match self.db {
            Db::Sqlite(pools) => {
                sqlx::query("DELETE FROM wix_app_tokens WHERE instance_id = ? AND access_token = ?")
                    .bind(instance_id)
                    .bind(token)
                    .execute(&pools.write)
                    .await?
                    .rows_affected()
            }
            Db::Postgres(pg) => sqlx::query(
                "DELETE FROM wix_app_tokens WHERE instance_id = $1 AND access_token = $2",
            )
            .bind(instance_id)
            .bind(token)
            .execute(&pg.pool)
            .await?
            .rows_affected(),
        };
        Ok(())
    }

    pub async fn delete(&self, instance_id: &str) -> Result<(), StoreError> {
        match self.db {
            Db::Sqlite(pools) => sqlx::query("DELETE FROM wix_app_tokens WHERE instance_id = ?")
                .bind(instance_id)
                .execute(&pools.write)
                .await?
                .rows_affected(),
            Db::Postgres(pg) => sqlx::query("DELETE FROM wix_app_tokens WHERE instance_id = $1")
                .bind(instance_id)
                .execute(&pg.pool)
                .await?
                .rows_affected(),
        };
        Ok(())
    }
}
