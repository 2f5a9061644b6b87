//! Feedback on PostgreSQL. A submission is its own transaction (PostgreSQL commits concurrent
//! transactions together by itself), holding the instance's lifecycle lock shared: a removal
//! committed first is seen and refuses the write, one committing later waits for it.
//! The free plan's monthly counter is raised in the same transaction by a conditional upsert
//! (`… DO UPDATE SET n = n + 1 WHERE n < limit RETURNING n`), the last statement before COMMIT:
//! the row lock it takes orders concurrent submissions of a site, on any replica, so the quota
//! is exact, and it is held only through the commit.

use sqlx::{QueryBuilder, Row};

use super::{instance_lock, Pg};
use crate::auth::TenantId;
use crate::model::FeedbackStatus;
use crate::store::feedback::{FeedbackCounts, ListQuery, ListedPage, ListedRow, COLUMNS};
use crate::store::group_commit::FeedbackRow;
use crate::store::StoreError;

pub(in crate::store) async fn insert(
    pg: &Pg,
    row: &FeedbackRow,
    max_pending: u32,
) -> Result<(), StoreError> {
    let mut tx = pg.pool.begin().await?;
    sqlx::query(instance_lock(true))
        .bind(&row.instance_id)
        .execute(&mut *tx)
        .await?;
    let removed: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM instances WHERE instance_id = $1 AND status = 'removed')",
    )
    .bind(&row.instance_id)
    .fetch_one(&mut *tx)
    .await?;
    if removed {
        return Err(StoreError::InstanceRemoved);
    }
    if row.monthly_limit.is_some_and(|limit| limit <= 0) {
        return Err(StoreError::PlanLimitReached);
    }
    sqlx::query(
        "INSERT INTO feedback (id, instance_id, message, email, email_lower, rating, status, author_kind, author_id, created_at, updated_at, comp_id)
         VALUES ($1, $2, $3, $4, $9, $5, 'open', $6, $7, $8, $8, $10)",
    )
    .bind(&row.id)
    .bind(&row.instance_id)
    .bind(&row.message)
    .bind(row.email.as_deref())
    .bind(row.rating)
    .bind(row.author_kind)
    .bind(row.author_id.as_deref())
    .bind(row.created_at_us)
    .bind(row.email_lower.as_deref())
    .bind(&row.comp_id)
    .execute(&mut *tx)
    .await?;
    if let Some(email) = row.email.as_deref() {
        // The cap is counted inside the transaction; concurrent submissions of one site on
        // several replicas may each see the last free place (the cap is a guard, not a quota).
        sqlx::query(
            "INSERT INTO contact_sync (feedback_id, instance_id, email, state, attempts, next_attempt_at, updated_at, created_at)
             SELECT $1, $2, $3,
                    CASE WHEN (SELECT COUNT(*) FROM contact_sync
                               WHERE instance_id = $2 AND state = 'pending') < $4
                         THEN 'pending' ELSE 'skipped' END,
                    0, $5, $5, $5",
        )
        .bind(&row.id)
        .bind(&row.instance_id)
        .bind(email)
        .bind(i64::from(max_pending))
        .bind(row.created_at_ms)
        .execute(&mut *tx)
        .await?;
    }
    // Last before COMMIT: the counter row's lock is what serialises a site's submissions, so it
    // is held for the commit alone, not for the inserts above. Refused: the transaction is
    // dropped, rolling the inserts back.
    let counted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO monthly_submissions (instance_id, month, n) VALUES ($1, $2, 1)
         ON CONFLICT (instance_id, month) DO UPDATE SET n = monthly_submissions.n + 1
         WHERE $3::BIGINT IS NULL OR monthly_submissions.n < $3
         RETURNING n",
    )
    .bind(&row.instance_id)
    .bind(&row.month)
    .bind(row.monthly_limit)
    .fetch_optional(&mut *tx)
    .await?;
    if counted.is_none() {
        return Err(StoreError::PlanLimitReached);
    }
    tx.commit().await?;
    Ok(())
}

pub(in crate::store) async fn list(
    pg: &Pg,
    tenant: &TenantId,
    query: &ListQuery,
    email_lower: Option<&str>,
) -> Result<ListedPage, StoreError> {
    let mut sql = QueryBuilder::new("SELECT ");
    sql.push(COLUMNS)
        .push(" FROM feedback f LEFT JOIN contact_sync s ON s.feedback_id = f.id WHERE f.instance_id = ")
        .push_bind(tenant.as_str());
    if let Some(status) = query.filter.status() {
        sql.push(" AND f.status = ").push_bind(status.as_str());
    }
    if let Some(email_lower) = email_lower {
        sql.push(" AND f.email_lower = ").push_bind(email_lower);
    }
    if let Some(comp_id) = &query.comp_id {
        sql.push(" AND f.comp_id = ").push_bind(comp_id.as_str());
    }
    if let Some(cursor) = &query.cursor {
        sql.push(" AND (f.created_at, f.id) < (")
            .push_bind(cursor.created_at_us)
            .push(", ")
            .push_bind(cursor.id.as_str())
            .push(")");
    }
    sql.push(" ORDER BY f.created_at DESC, f.id DESC LIMIT ")
        .push_bind(i64::from(query.limit) + 1);
    let rows = sql.build().fetch_all(&pg.pool).await?;
    let rows = rows
        .iter()
        .map(|r| {
            Ok(ListedRow {
                id: r.try_get("id")?,
                message: r.try_get("message")?,
                email: r.try_get("email")?,
                rating: r.try_get("rating")?,
                status: r.try_get("status")?,
                author_kind: r.try_get("author_kind")?,
                created_at: r.try_get("created_at")?,
                comp_id: r.try_get("comp_id")?,
                sync_state: r.try_get("sync_state")?,
                contact_id: r.try_get("contact_id")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(ListedPage::from_rows(rows, query.limit))
}

pub(in crate::store) async fn set_status(
    pg: &Pg,
    tenant: &TenantId,
    id: &str,
    status: FeedbackStatus,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "UPDATE feedback SET status = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4",
    )
    .bind(status.as_str())
    .bind(chrono::Utc::now().timestamp_micros())
    .bind(tenant.as_str())
    .bind(id)
    .execute(&pg.pool)
    .await?;
    Ok(result.rows_affected() > 0)
}

pub(in crate::store) async fn delete(
    pg: &Pg,
    tenant: &TenantId,
    id: &str,
) -> Result<bool, StoreError> {
    let result = sqlx::query("DELETE FROM feedback WHERE instance_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&pg.pool)
        .await?;
    Ok(result.rows_affected() > 0)
}

pub(in crate::store) async fn erase_by_email(
    pg: &Pg,
    tenant: &TenantId,
    email_lower: &str,
) -> Result<u64, StoreError> {
    let mut tx = pg.pool.begin().await?;
    sqlx::query(
        "DELETE FROM contact_sync WHERE instance_id = $1 AND feedback_id IN
           (SELECT id FROM feedback WHERE instance_id = $1 AND email_lower = $2)",
    )
    .bind(tenant.as_str())
    .bind(email_lower)
    .execute(&mut *tx)
    .await?;
    let erased = sqlx::query("DELETE FROM feedback WHERE instance_id = $1 AND email_lower = $2")
        .bind(tenant.as_str())
        .bind(email_lower)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(erased)
}

pub(in crate::store) async fn counts(
    pg: &Pg,
    tenant: &TenantId,
) -> Result<FeedbackCounts, StoreError> {
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS n FROM feedback WHERE instance_id = $1 GROUP BY status",
    )
    .bind(tenant.as_str())
    .fetch_all(&pg.pool)
    .await?;
    let mut counts = FeedbackCounts::default();
    for row in rows {
        counts.add(row.try_get("status")?, row.try_get("n")?);
    }
    Ok(counts)
}
