-- PostgreSQL twin of migrations/sqlite/20260101000000_feedback.sql (same version, same schema;
-- whole-number columns are BIGINT so both engines decode them as i64).
CREATE TABLE feedback (
    id           TEXT    COLLATE "C" PRIMARY KEY, -- byte order, like SQLite: cursors compare ids
    instance_id  TEXT    NOT NULL,
    message      TEXT    NOT NULL,
    email        TEXT,
    rating       BIGINT  CHECK (rating BETWEEN 1 AND 5),
    status       TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    author_kind  TEXT    NOT NULL CHECK (author_kind IN ('owner', 'member', 'visitor')),
    author_id    TEXT,
    created_at   BIGINT  NOT NULL, -- unix epoch microseconds, UTC
    updated_at   BIGINT  NOT NULL
);

CREATE INDEX feedback_instance_created ON feedback (instance_id, created_at DESC, id DESC);
CREATE INDEX feedback_instance_status_created ON feedback (instance_id, status, created_at DESC, id DESC);
