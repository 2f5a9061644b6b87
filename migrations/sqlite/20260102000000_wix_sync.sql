-- App-identity access tokens from POST /oauth2/token, shared by restarts and replicas.
CREATE TABLE wix_app_tokens (
    instance_id   TEXT   PRIMARY KEY,
    access_token  TEXT   NOT NULL,
    expires_at    BIGINT NOT NULL -- unix seconds
);

-- Outbox: feedback with an email becomes a Wix contact, done by a background worker with
-- retries. Committed in the same transaction as the feedback, so nothing is lost on a crash.
CREATE TABLE contact_sync (
    feedback_id      TEXT    PRIMARY KEY REFERENCES feedback (id) ON DELETE CASCADE,
    instance_id      TEXT    NOT NULL,
    email            TEXT    NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'synced', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT  NOT NULL, -- unix milliseconds
    contact_id       TEXT,
    last_error       TEXT,
    updated_at       BIGINT  NOT NULL
);

CREATE INDEX contact_sync_due ON contact_sync (state, next_attempt_at);
CREATE INDEX contact_sync_instance ON contact_sync (instance_id);
