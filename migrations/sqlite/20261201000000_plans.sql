-- Paid plans and privacy requests (twin: migrations/postgres/20261201000000_plans.sql).
--
-- instance_plans: the plan billing webhooks last set for an instance, ordered by the events' own
-- time (plan_event_at, unix microseconds), a clock separate from instances.last_event_at so a
-- plan event never makes a reinstall look stale.
CREATE TABLE instance_plans (
    instance_id    TEXT    PRIMARY KEY,
    plan_id        TEXT,            -- vendorProductId; NULL = free
    plan_event_at  BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);

-- New feedback per site per calendar month (UTC, 'YYYY-MM'), counted in the insert's
-- transaction: deleting feedback does not give quota back.
CREATE TABLE monthly_submissions (
    instance_id  TEXT    NOT NULL,
    month        TEXT    NOT NULL,
    n            BIGINT  NOT NULL,
    PRIMARY KEY (instance_id, month)
);

-- The email lower-cased in ASCII only (A-Z -> a-z, every other byte kept), written with the row,
-- for case-insensitive privacy look-ups. SQLite's lower() is ASCII-only, the same bytes as the
-- PostgreSQL twin's translate() and Rust's to_ascii_lowercase().
ALTER TABLE feedback ADD COLUMN email_lower TEXT;
UPDATE feedback SET email_lower = lower(email) WHERE email IS NOT NULL;
CREATE INDEX feedback_instance_email_lower ON feedback (instance_id, email_lower);
