-- Contact syncs gain the state 'skipped' (feedback stored while its site already had
-- OUTBOX_MAX_PENDING_PER_SITE syncs waiting gets no Wix contact; the feedback itself is kept)
-- and created_at (unix milliseconds), so rows older than OUTBOX_MAX_AGE_HOURS can be given up.
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt with its rows.
CREATE TABLE contact_sync_new (
    feedback_id      TEXT    PRIMARY KEY REFERENCES feedback (id) ON DELETE CASCADE,
    instance_id      TEXT    NOT NULL,
    email            TEXT    NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'synced', 'failed', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT  NOT NULL, -- unix milliseconds
    contact_id       TEXT,
    last_error       TEXT,
    updated_at       BIGINT  NOT NULL,
    created_at       BIGINT  NOT NULL -- unix milliseconds
);

-- feedback.created_at is unix microseconds (its migration's comment says milliseconds; the
-- code has always written microseconds).
INSERT INTO contact_sync_new (feedback_id, instance_id, email, state, attempts, next_attempt_at, contact_id, last_error, updated_at, created_at)
SELECT s.feedback_id, s.instance_id, s.email, s.state, s.attempts, s.next_attempt_at, s.contact_id, s.last_error, s.updated_at,
       COALESCE((SELECT f.created_at / 1000 FROM feedback f WHERE f.id = s.feedback_id), s.updated_at)
FROM contact_sync s;

DROP TABLE contact_sync;
ALTER TABLE contact_sync_new RENAME TO contact_sync;

CREATE INDEX contact_sync_due ON contact_sync (state, next_attempt_at);
-- Per-site pending counts (the cap) and per-site fairness read this one.
CREATE INDEX contact_sync_instance_state ON contact_sync (instance_id, state);
