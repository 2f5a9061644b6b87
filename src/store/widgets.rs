//! Widget settings: one row per (site, Wix `compId`), and the copy of an origin site's settings
//! into its duplicate.

use chrono::Utc;
use sqlx::Row;

use super::{postgres, Db, StoreError};
use crate::auth::TenantId;
use crate::model::WidgetSettings;

/// Widget-settings queries; every one is scoped by a verified tenant.
pub struct WidgetRepo<'a> {
    db: &'a Db,
}

pub(super) const SETTINGS_COLUMNS: &str =
    "comp_id, title, prompt, ask_email, ask_rating, accent_color";

/// A settings row as both engines return it (`ask_*` decode as bool on both).
pub(super) fn settings_of_row<R>(row: &R) -> Result<WidgetSettings, sqlx::Error>
where
    R: Row,
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(WidgetSettings {
        comp_id: row.try_get("comp_id")?,
        title: row.try_get("title")?,
        prompt: row.try_get("prompt")?,
        ask_email: row.try_get("ask_email")?,
        ask_rating: row.try_get("ask_rating")?,
        accent_color: row.try_get("accent_color")?,
    })
}

impl<'a> WidgetRepo<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// The saved settings of this widget, or `None` when its owner never saved any.
    pub async fn get(
        &self,
        tenant: &TenantId,
        comp_id: &str,
    ) -> Result<Option<WidgetSettings>, StoreError> {
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => return postgres::widgets::get(pg, tenant, comp_id).await,
        };
        let row = sqlx::query(&format!(
            "SELECT {SETTINGS_COLUMNS} FROM widget_settings WHERE instance_id = ? AND comp_id = ?"
        ))
        .bind(tenant.as_str())
        .bind(comp_id)
        .fetch_optional(&pools.read)
        .await?;
        Ok(row.as_ref().map(settings_of_row).transpose()?)
    }

    /// Inserts or replaces the settings of `settings.comp_id`.
    pub async fn save(
        &self,
        tenant: &TenantId,
        settings: &WidgetSettings,
    ) -> Result<(), StoreError> {
        let now_us = Utc::now().timestamp_micros();
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => return postgres::widgets::save(pg, tenant, settings, now_us).await,
        };
        sqlx::query(
            "INSERT INTO widget_settings (instance_id, comp_id, title, prompt, ask_email, ask_rating, accent_color, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (instance_id, comp_id) DO UPDATE SET
               title = excluded.title, prompt = excluded.prompt, ask_email = excluded.ask_email,
               ask_rating = excluded.ask_rating, accent_color = excluded.accent_color,
               updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(&settings.comp_id)
        .bind(&settings.title)
        .bind(&settings.prompt)
        .bind(settings.ask_email)
        .bind(settings.ask_rating)
        .bind(&settings.accent_color)
        .bind(now_us)
        .execute(&pools.write)
        .await?;
        Ok(())
    }

    /// The widgets (`compId`s) the site's feedback came from, in order.
    pub async fn feedback_comp_ids(&self, tenant: &TenantId) -> Result<Vec<String>, StoreError> {
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => return postgres::widgets::feedback_comp_ids(pg, tenant).await,
        };
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT comp_id FROM feedback WHERE instance_id = ? ORDER BY comp_id LIMIT 200",
        )
        .bind(tenant.as_str())
        .fetch_all(&pools.read)
        .await?)
    }

    /// Whether the duplicate `tenant` has had its origin's settings copied (or found none).
    pub async fn is_copied(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => return postgres::widgets::is_copied(pg, tenant).await,
        };
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM widget_settings_origin WHERE instance_id = ?",
        )
        .bind(tenant.as_str())
        .fetch_one(&pools.read)
        .await?
            > 0)
    }

    /// Copies the widget settings of `origin` (the site `tenant` was duplicated from) to
    /// `tenant`, once: the first call records the copy and copies every widget `tenant` has no
    /// settings for; later calls copy nothing. Feedback and emails are never copied. An origin
    /// with no settings (or purged) copies nothing. Returns the rows copied.
    pub async fn copy_from_origin(
        &self,
        tenant: &TenantId,
        origin: &TenantId,
    ) -> Result<u64, StoreError> {
        if tenant == origin {
            return Ok(0);
        }
        let now_us = Utc::now().timestamp_micros();
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => {
                return postgres::widgets::copy_from_origin(pg, tenant, origin, now_us).await
            }
        };
        let mut tx = pools.write.begin().await?;
        let first = sqlx::query(
            "INSERT INTO widget_settings_origin (instance_id, origin_instance_id, copied_rows, copied_at)
             VALUES (?, ?, 0, ?) ON CONFLICT (instance_id) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(origin.as_str())
        .bind(now_us)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !first {
            return Ok(0);
        }
        let copied = sqlx::query(
            "INSERT INTO widget_settings (instance_id, comp_id, title, prompt, ask_email, ask_rating, accent_color, updated_at)
             SELECT ?, comp_id, title, prompt, ask_email, ask_rating, accent_color, ?
             FROM widget_settings WHERE instance_id = ?
             ON CONFLICT (instance_id, comp_id) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(now_us)
        .bind(origin.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("UPDATE widget_settings_origin SET copied_rows = ? WHERE instance_id = ?")
            .bind(i64::try_from(copied).unwrap_or(i64::MAX))
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(copied)
    }
}
