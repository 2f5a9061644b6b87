-- PostgreSQL twin of migrations/sqlite/20261201000000_plans.sql.
CREATE TABLE instance_plans (
    instance_id    TEXT    PRIMARY KEY,
    plan_id        TEXT,
    plan_event_at  BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);

CREATE TABLE monthly_submissions (
    instance_id  TEXT    NOT NULL,
    month        TEXT    NOT NULL,
    n            BIGINT  NOT NULL,
    PRIMARY KEY (instance_id, month)
);

-- ASCII-only lower case, byte for byte what SQLite's lower() and Rust's to_ascii_lowercase()
-- give (PostgreSQL's lower() would also fold non-ASCII letters by the collation).
ALTER TABLE feedback ADD COLUMN email_lower TEXT;
UPDATE feedback
   SET email_lower = translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
 WHERE email IS NOT NULL;
CREATE INDEX feedback_instance_email_lower ON feedback (instance_id, email_lower);
