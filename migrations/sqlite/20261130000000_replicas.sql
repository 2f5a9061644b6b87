-- Keeps the schema in step with migrations/postgres/20261130000000_replicas.sql. A SQLite
-- database has one process (one replica), which claims outbox rows and rate-limits in memory;
-- the column and table exist so both engines share one schema.
ALTER TABLE contact_sync ADD COLUMN claimed_until BIGINT;

CREATE TABLE rate_limits (
    key  TEXT   PRIMARY KEY,
    tat  BIGINT NOT NULL
);
