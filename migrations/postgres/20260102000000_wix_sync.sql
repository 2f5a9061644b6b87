-- PostgreSQL twin of migrations/sqlite/20260102000000_wix_sync.sql.
CREATE TABLE wix_app_tokens (
    instance_id   TEXT   PRIMARY KEY,
    access_token  TEXT   NOT NULL,
    expires_at    BIGINT NOT NULL -- unix seconds
);

CREATE TABLE contact_sync (
    feedback_id      TEXT    PRIMARY KEY REFERENCES feedback (id) ON DELETE CASCADE,
    instance_id      TEXT    NOT NULL,
    email            TEXT    NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'synced', 'failed')),
    attempts         BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT  NOT NULL, -- unix milliseconds
    contact_id       TEXT,
    last_error       TEXT,
    updated_at       BIGINT  NOT NULL
);

CREATE INDEX contact_sync_due ON contact_sync (state, next_attempt_at);
CREATE INDEX contact_sync_instance ON contact_sync (instance_id);
