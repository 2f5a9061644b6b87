//! Widget settings on PostgreSQL: the twins of `store/widgets.rs`.

use super::Pg;
use crate::auth::TenantId;
use crate::model::WidgetSettings;
use crate::store::widgets::{settings_of_row, SETTINGS_COLUMNS};
use crate::store::StoreError;

pub(in crate::store) async fn get(
    pg: &Pg,
    tenant: &TenantId,
    comp_id: &str,
) -> Result<Option<WidgetSettings>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {SETTINGS_COLUMNS} FROM widget_settings WHERE instance_id = $1 AND comp_id = $2"
    ))
    .bind(tenant.as_str())
    .bind(comp_id)
    .fetch_optional(&pg.pool)
    .await?;
    Ok(row.as_ref().map(settings_of_row).transpose()?)
}

pub(in crate::store) async fn save(
    pg: &Pg,
    tenant: &TenantId,
    settings: &WidgetSettings,
    now_us: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO widget_settings (instance_id, comp_id, title, prompt, ask_email, ask_rating, accent_color, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
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
    .execute(&pg.pool)
    .await?;
    Ok(())
}

pub(in crate::store) async fn feedback_comp_ids(
    pg: &Pg,
    tenant: &TenantId,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT comp_id FROM feedback WHERE instance_id = $1 ORDER BY comp_id LIMIT 200",
    )
    .bind(tenant.as_str())
    .fetch_all(&pg.pool)
    .await?)
}

pub(in crate::store) async fn is_copied(pg: &Pg, tenant: &TenantId) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM widget_settings_origin WHERE instance_id = $1)",
    )
    .bind(tenant.as_str())
    .fetch_one(&pg.pool)
    .await?)
}

/// One transaction: the marker row decides, across replicas, which call copies (the primary key
/// makes concurrent first calls agree on one).
pub(in crate::store) async fn copy_from_origin(
    pg: &Pg,
    tenant: &TenantId,
    origin: &TenantId,
    now_us: i64,
) -> Result<u64, StoreError> {
    let mut tx = pg.pool.begin().await?;
    let first = sqlx::query(
        "INSERT INTO widget_settings_origin (instance_id, origin_instance_id, copied_rows, copied_at)
         VALUES ($1, $2, 0, $3) ON CONFLICT (instance_id) DO NOTHING",
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
         SELECT $1, comp_id, title, prompt, ask_email, ask_rating, accent_color, $2
         FROM widget_settings WHERE instance_id = $3
         ON CONFLICT (instance_id, comp_id) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(now_us)
    .bind(origin.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("UPDATE widget_settings_origin SET copied_rows = $1 WHERE instance_id = $2")
        .bind(i64::try_from(copied).unwrap_or(i64::MAX))
        .bind(tenant.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(copied)
}
