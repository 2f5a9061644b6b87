//! Rate limits shared by every replica (PostgreSQL only): one row per key holding the GCRA
//! "theoretical arrival time", advanced in one statement timed by the database's clock, so a
//! client spread over N replicas gets one budget, not N, and replicas' clocks do not matter.
//! On SQLite (one process) the limits stay in memory (`crate::limiter`).

use sqlx::PgPool;

use super::postgres::NOW_US;
use super::StoreError;

/// A rate and a burst: `per_minute` requests a minute on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedQuota {
    pub per_minute: u32,
    pub burst: u32,
}

impl SharedQuota {
    /// Microseconds between two requests at the sustained rate; at least 1, or a rate above
    /// 60 million a minute would round to 0 and the burst test (`tat - now <= burst × 0`) would
    /// refuse every request after the first.
    fn interval_us(self) -> i64 {
        (60_000_000 / i64::from(self.per_minute.max(1))).max(1)
    }
}

pub struct RateLimitRepo<'a> {
    pool: &'a PgPool,
}

impl<'a> RateLimitRepo<'a> {
    pub(super) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    /// Counts one request for `key`: `Ok(Ok(()))` when allowed, `Ok(Err(seconds))` with the
    /// wait before the next one would be when limited (nothing counted then).
    pub async fn check(
        &self,
        key: &str,
        quota: SharedQuota,
    ) -> Result<Result<(), u64>, StoreError> {
        let interval = quota.interval_us();
        // A request is allowed when, after it, the arrival time is at most `burst` intervals
        // ahead of now (GCRA). A refused request leaves the row as it was.
        let allowed = sqlx::query_scalar::<_, i64>(&format!(
            "WITH now AS (SELECT {NOW_US} AS us)
             INSERT INTO rate_limits AS r (key, tat)
             SELECT $1, now.us + $2 FROM now
             ON CONFLICT (key) DO UPDATE
               SET tat = GREATEST(r.tat, (SELECT us FROM now)) + $2
               WHERE GREATEST(r.tat, (SELECT us FROM now)) + $2 - (SELECT us FROM now) <= $3
             RETURNING r.tat"
        ))
        .bind(key)
        .bind(interval)
        .bind(interval * i64::from(quota.burst.max(1)))
        .fetch_optional(self.pool)
        .await?;
        if allowed.is_some() {
            return Ok(Ok(()));
        }
        let wait_us: i64 = sqlx::query_scalar(&format!(
            "SELECT tat + $2 - $3 - {NOW_US} FROM rate_limits WHERE key = $1"
        ))
        .bind(key)
        .bind(interval)
        .bind(interval * i64::from(quota.burst.max(1)))
        .fetch_optional(self.pool)
        .await?
        .unwrap_or(0);
        Ok(Err(u64::try_from(wait_us)
            .unwrap_or(0)
            .div_ceil(1_000_000)
            .max(1)))
    }

    /// Forgets keys whose budget is full again (nothing to remember); returns how many.
    pub async fn prune(&self) -> Result<u64, StoreError> {
        let result = sqlx::query(&format!("DELETE FROM rate_limits WHERE tat < {NOW_US}"))
            .execute(self.pool)
            .await?;
        Ok(result.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::SharedQuota;

    #[test]
    fn the_interval_never_rounds_down_to_zero() {
        let at = |per_minute| {
            SharedQuota {
                per_minute,
                burst: 1,
            }
            .interval_us()
        };
        assert_eq!(at(60), 1_000_000);
        assert_eq!(at(0), 60_000_000, "a zero rate is treated as one a minute");
        assert_eq!(at(60_000_000), 1);
        assert_eq!(
            at(u32::MAX),
            1,
            "above 60M a minute the interval would round to 0"
        );
    }
}
