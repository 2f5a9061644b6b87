//! Feedback rows: insert, keyset-paginated listing, status changes, deletes and counts.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::Row;

use super::group_commit::FeedbackRow;
use super::{postgres, Db, StoreError, StoreOptions};
use crate::auth::TenantId;
use crate::model::{
    ContactSync, ContactSyncState, FeedbackItem, FeedbackStatus, Role, StatusFilter,
};

/// A submission that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeedback {
    pub message: String,
    pub email: Option<String>,
    pub rating: Option<u8>,
    /// The widget it was left in (a valid Wix `compId`, `default` when none was sent).
    pub comp_id: String,
}

#[derive(Debug, Clone)]
pub struct StoredFeedback {
    pub id: String,
    pub created_at: String,
}

/// How many new feedback items a site may still get this month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quota {
    /// Items per calendar month (UTC) at most; `None` = unlimited (premium).
    pub monthly_limit: Option<u32>,
}

/// The calendar month (UTC) `at` counts towards, as `monthly_submissions.month`.
pub fn month_key(at: DateTime<Utc>) -> String {
    at.format("%Y-%m").to_string()
}

/// An email as stored in `feedback.email_lower`: ASCII letters lower-cased, every other
/// character kept as it is (the same bytes on SQLite and PostgreSQL).
pub fn email_key(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: StatusFilter,
    pub limit: u32,
    pub cursor: Option<PageCursor>,
    /// Only the feedback of this widget; `None` for every widget.
    pub comp_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ListedPage {
    pub items: Vec<FeedbackItem>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedbackCounts {
    pub open: i64,
    pub resolved: i64,
}

/// Position after the last row of a page: `(created_at, id)` of that row, in the list's
/// `created_at DESC, id DESC` order. Opaque to clients (base64url).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor {
    pub(super) created_at_us: i64,
    pub(super) id: String,
}

impl PageCursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.created_at_us, self.id))
    }

    pub fn decode(raw: &str) -> Option<Self> {
        if raw.len() > 200 {
            return None;
        }
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
        let (created, id) = text.split_once(':')?;
        if id.is_empty() {
            return None;
        }
        Some(Self {
            created_at_us: created.parse().ok()?,
            id: id.to_owned(),
        })
    }
}

/// Feedback queries; every one is scoped by a verified tenant.
pub struct FeedbackRepo<'a> {
    db: &'a Db,
    settings: &'a StoreOptions,
}

pub(super) const COLUMNS: &str = "f.id, f.message, f.email, f.rating, f.status, f.author_kind, f.created_at, f.comp_id, s.state AS sync_state, s.contact_id";

impl<'a> FeedbackRepo<'a> {
    pub(super) fn new(db: &'a Db, settings: &'a StoreOptions) -> Self {
        Self { db, settings }
    }

    /// Stores a submission (and its contact-sync outbox row when it has an email); returns once
    /// committed. Concurrent submissions share a commit (see `group_commit.rs`).
    pub async fn insert(
        &self,
        tenant: &TenantId,
        author: Role,
        author_id: Option<&str>,
        new: &NewFeedback,
        quota: Quota,
    ) -> Result<StoredFeedback, StoreError> {
        let now = Utc::now();
        let now_us = now.timestamp_micros();
        // v7 ids sort by creation time, so rows created in the same microsecond keep their order.
        let id = uuid::Uuid::now_v7().to_string();
        let row = FeedbackRow {
            id: id.clone(),
            instance_id: tenant.as_str().to_owned(),
            message: new.message.clone(),
            email: new.email.clone(),
            email_lower: new.email.as_deref().map(email_key),
            rating: new.rating.map(i64::from),
            author_kind: author.as_str(),
            author_id: author_id.map(str::to_owned),
            comp_id: new.comp_id.clone(),
            created_at_us: now_us,
            created_at_ms: now.timestamp_millis(),
            month: month_key(now),
            monthly_limit: quota.monthly_limit.map(i64::from),
        };
        match self.db {
            Db::Sqlite(pools) => pools.feedback_writer.insert(row).await?,
            Db::Postgres(pg) => {
                postgres::feedback::insert(pg, &row, self.settings.outbox_max_pending_per_site)
                    .await?
            }
        }
        Ok(StoredFeedback {
            id,
            created_at: rfc3339(now_us),
        })
    }

    /// One page, newest first.
    pub async fn list(
        &self,
        tenant: &TenantId,
        query: &ListQuery,
    ) -> Result<ListedPage, StoreError> {
        self.list_where(tenant, query, None).await
    }

    /// One page of the tenant's feedback with this email (compared through [`email_key`]).
    pub async fn list_by_email(
        &self,
        tenant: &TenantId,
        query: &ListQuery,
        email: &str,
    ) -> Result<ListedPage, StoreError> {
        self.list_where(tenant, query, Some(&email_key(email)))
            .await
    }

    async fn list_where(
        &self,
        tenant: &TenantId,
        query: &ListQuery,
        email_lower: Option<&str>,
    ) -> Result<ListedPage, StoreError> {
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => {
                return postgres::feedback::list(pg, tenant, query, email_lower).await
            }
        };
        // In place, not through sqlx: see `inline_reads.rs`.
        let (sql, params) = list_sql(tenant, query, email_lower);
        let rows = pools.inline.with(|conn| {
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement.query_map(rusqlite::params_from_iter(params), |row| {
                Ok(ListedRow {
                    id: row.get(0)?,
                    message: row.get(1)?,
                    email: row.get(2)?,
                    rating: row.get(3)?,
                    status: row.get(4)?,
                    author_kind: row.get(5)?,
                    created_at: row.get(6)?,
                    comp_id: row.get(7)?,
                    sync_state: row.get(8)?,
                    contact_id: row.get(9)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        Ok(ListedPage::from_rows(rows, query.limit))
    }

    /// Returns false when no row with this id belongs to the tenant.
    pub async fn set_status(
        &self,
        tenant: &TenantId,
        id: &str,
        status: FeedbackStatus,
    ) -> Result<bool, StoreError> {
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => {
                return postgres::feedback::set_status(pg, tenant, id, status).await
            }
        };
        let result = sqlx::query(
            "UPDATE feedback SET status = ?, updated_at = ? WHERE instance_id = ? AND id = ?",
        )
        .bind(status.as_str())
        .bind(Utc::now().timestamp_micros())
        .bind(tenant.as_str())
        .bind(id)
        .execute(&pools.write)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Returns false when no row with this id belongs to the tenant.
    pub async fn delete(&self, tenant: &TenantId, id: &str) -> Result<bool, StoreError> {
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => return postgres::feedback::delete(pg, tenant, id).await,
        };
        let result = sqlx::query("DELETE FROM feedback WHERE instance_id = ? AND id = ?")
            .bind(tenant.as_str())
            .bind(id)
            .execute(&pools.write)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Deletes every feedback item of the tenant with this email (compared through
    /// [`email_key`]) and their contact-sync rows, in one transaction; returns how many items.
    pub async fn erase_by_email(&self, tenant: &TenantId, email: &str) -> Result<u64, StoreError> {
        let key = email_key(email);
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => return postgres::feedback::erase_by_email(pg, tenant, &key).await,
        };
        let mut tx = pools.write.begin().await?;
        sqlx::query(
            "DELETE FROM contact_sync WHERE instance_id = ?1 AND feedback_id IN
               (SELECT id FROM feedback WHERE instance_id = ?1 AND email_lower = ?2)",
        )
        .bind(tenant.as_str())
        .bind(&key)
        .execute(&mut *tx)
        .await?;
        let erased = sqlx::query("DELETE FROM feedback WHERE instance_id = ? AND email_lower = ?")
            .bind(tenant.as_str())
            .bind(&key)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(erased)
    }

    /// New feedback items of the tenant in the calendar month (UTC) of `at`, deleted ones
    /// included.
    pub async fn month_submissions(
        &self,
        tenant: &TenantId,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let month = month_key(at);
        let n: Option<i64> = match self.db {
            Db::Sqlite(pools) => {
                sqlx::query_scalar(
                    "SELECT n FROM monthly_submissions WHERE instance_id = ? AND month = ?",
                )
                .bind(tenant.as_str())
                .bind(&month)
                .fetch_optional(&pools.read)
                .await?
            }
            Db::Postgres(pg) => {
                sqlx::query_scalar(
                    "SELECT n FROM monthly_submissions WHERE instance_id = $1 AND month = $2",
                )
                .bind(tenant.as_str())
                .bind(&month)
                .fetch_optional(&pg.pool)
                .await?
            }
        };
        Ok(n.unwrap_or(0))
    }

    pub async fn counts(&self, tenant: &TenantId) -> Result<FeedbackCounts, StoreError> {
        let pools = match self.db {
            Db::Sqlite(pools) => pools,
            Db::Postgres(pg) => return postgres::feedback::counts(pg, tenant).await,
        };
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM feedback WHERE instance_id = ? GROUP BY status",
        )
        .bind(tenant.as_str())
        .fetch_all(&pools.read)
        .await?;
        let mut counts = FeedbackCounts::default();
        for row in rows {
            counts.add(row.try_get("status")?, row.try_get("n")?);
        }
        Ok(counts)
    }
}

/// The SQLite list query for these filters (the columns in [`COLUMNS`] order) and its
/// parameters. Up to `limit + 1` rows: the extra one tells whether another page exists.
fn list_sql(
    tenant: &TenantId,
    query: &ListQuery,
    email_lower: Option<&str>,
) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut sql = format!(
        "SELECT {COLUMNS} FROM feedback f LEFT JOIN contact_sync s ON s.feedback_id = f.id \
         WHERE f.instance_id = ?"
    );
    let mut params = vec![Value::Text(tenant.as_str().to_owned())];
    if let Some(status) = query.filter.status() {
        sql.push_str(" AND f.status = ?");
        params.push(Value::Text(status.as_str().to_owned()));
    }
    if let Some(email_lower) = email_lower {
        sql.push_str(" AND f.email_lower = ?");
        params.push(Value::Text(email_lower.to_owned()));
    }
    if let Some(comp_id) = &query.comp_id {
        sql.push_str(" AND f.comp_id = ?");
        params.push(Value::Text(comp_id.clone()));
    }
    if let Some(cursor) = &query.cursor {
        sql.push_str(" AND (f.created_at < ? OR (f.created_at = ? AND f.id < ?))");
        params.push(Value::Integer(cursor.created_at_us));
        params.push(Value::Integer(cursor.created_at_us));
        params.push(Value::Text(cursor.id.clone()));
    }
    sql.push_str(" ORDER BY f.created_at DESC, f.id DESC LIMIT ?");
    params.push(Value::Integer(i64::from(query.limit) + 1));
    (sql, params)
}

impl FeedbackCounts {
    /// Adds one `(status, count)` row of a `GROUP BY status` query.
    pub(super) fn add(&mut self, status: &str, n: i64) {
        match status.parse() {
            Ok(FeedbackStatus::Open) => self.open = n,
            Ok(FeedbackStatus::Resolved) => self.resolved = n,
            Err(_) => {}
        }
    }
}

impl ListedPage {
    /// A page from up to `limit + 1` rows in list order: the extra row only says another page
    /// exists, and the last row of a page that has a successor becomes its cursor.
    pub(super) fn from_rows(mut rows: Vec<ListedRow>, limit: u32) -> Self {
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = rows.last().filter(|_| has_more).map(|last| {
            PageCursor {
                created_at_us: last.created_at,
                id: last.id.clone(),
            }
            .encode()
        });
        let items = rows.into_iter().map(ListedRow::into_item).collect();
        Self { items, next_cursor }
    }
}

/// One listed row, as either engine reads it.
#[derive(Debug)]
pub(super) struct ListedRow {
    pub id: String,
    pub message: String,
    pub email: Option<String>,
    pub rating: Option<i64>,
    pub status: String,
    pub author_kind: String,
    pub created_at: i64,
    pub comp_id: String,
    pub sync_state: Option<String>,
    pub contact_id: Option<String>,
}

impl ListedRow {
    fn into_item(self) -> FeedbackItem {
        FeedbackItem {
            rating: self.rating.and_then(|r| u8::try_from(r).ok()),
            status: self.status.parse().unwrap_or(FeedbackStatus::Open),
            created_at: rfc3339(self.created_at),
            author_kind: self.author_kind.parse().unwrap_or(Role::Visitor),
            contact: self
                .sync_state
                .as_deref()
                .and_then(|state| state.parse::<ContactSyncState>().ok())
                .map(|state| ContactSync {
                    state,
                    contact_id: self.contact_id,
                }),
            id: self.id,
            message: self.message,
            email: self.email,
            comp_id: self.comp_id,
        }
    }
}

pub(super) fn rfc3339(micros: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(email_key(" Ann.ÉLAN@Example.COM "), "ann.Élan@example.com");
        let at = DateTime::<Utc>::from_timestamp(1_767_323_045, 0).unwrap();
        assert_eq!(month_key(at), "2026-01");
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = PageCursor {
            created_at_us: 1_700_000_000_123_456,
            id: "0190-abc".into(),
        };
        assert_eq!(PageCursor::decode(&c.encode()), Some(c));
        for bad in [
            "",
            "!!",
            "bm9jb2xvbg",
            "OmFiYw",
            "eHg6YWJj",
            &"A".repeat(300),
        ] {
            assert_eq!(PageCursor::decode(bad), None, "{bad}");
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Client-supplied cursors: any text decodes to a cursor or to `None`, never a panic,
        /// and whatever decodes re-encodes to a cursor that decodes the same.
        #[test]
        fn any_text_decodes_or_is_refused(raw in "\\PC{0,260}") {
            if let Some(c) = PageCursor::decode(&raw) {
                prop_assert!(!c.id.is_empty());
                prop_assert_eq!(PageCursor::decode(&c.encode()), Some(c));
            }
        }

        #[test]
        fn base64_of_any_bytes_decodes_or_is_refused(bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
            let _ = PageCursor::decode(&URL_SAFE_NO_PAD.encode(&bytes));
        }

        #[test]
        fn cursors_round_trip(created_at_us in any::<i64>(), id in "\\PC{1,60}") {
            let c = PageCursor { created_at_us, id };
            let encoded = c.encode();
            if encoded.len() <= 200 {
                prop_assert_eq!(PageCursor::decode(&encoded), Some(c));
            } else {
                prop_assert_eq!(PageCursor::decode(&encoded), None);
            }
        }

        #[test]
        fn any_timestamp_renders(micros in any::<i64>()) {
            prop_assert!(!rfc3339(micros).is_empty());
        }
    }
}
