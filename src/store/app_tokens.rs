//! The database copy of app access tokens, so a restart or another replica reuses a live token
//! instead of asking Wix for a new one.

use sqlx::Row;

use super::{Pools, StoreError};

pub struct AppTokenRepo<'a> {
    pools: &'a Pools,
}

impl<'a> AppTokenRepo<'a> {
    pub(super) fn new(pools: &'a Pools) -> Self {
        Self { pools }
    }

    /// `(token, expires_at unix seconds)`.
    pub async fn get(&self, instance_id: &str) -> Result<Option<(String, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT access_token, expires_at FROM wix_app_tokens WHERE instance_id = ?",
        )
        .bind(instance_id)
        .fetch_optional(&self.pools.read)
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
        sqlx::query(
            "INSERT INTO wix_app_tokens (instance_id, access_token, expires_at)
             SELECT ?1, ?2, ?3 WHERE NOT EXISTS
               (SELECT 1 FROM instances WHERE instance_id = ?1 AND status = 'removed')
             ON CONFLICT (instance_id) DO UPDATE SET access_token = excluded.access_token, expires_at = excluded.expires_at",
        )
        .bind(instance_id)
        .bind(token)
        .bind(expires_at)
        .execute(&self.pools.write)
        .await?;
        Ok(())
    }

    /// Deletes the instance's token only if it is still `token` (not a fresh replacement).
    pub async fn delete_if(&self, instance_id: &str, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM wix_app_tokens WHERE instance_id = ? AND access_token = ?")
            .bind(instance_id)
            .bind(token)
            .execute(&self.pools.write)
            .await?;
        Ok(())
    }

    pub async fn delete(&self, instance_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM wix_app_tokens WHERE instance_id = ?")
            .bind(instance_id)
            .execute(&self.pools.write)
            .await?;
        Ok(())
    }
}
