-- Feedback left through the site widget. Every row belongs to one Wix app instance (one site);
-- every query filters on instance_id first, and the indexes lead with it.
-- Types are kept portable (TEXT, INTEGER, BIGINT) so a PostgreSQL backend can reuse this schema.
CREATE TABLE feedback (
    id           TEXT    PRIMARY KEY,
    instance_id  TEXT    NOT NULL,
    message      TEXT    NOT NULL,
    email        TEXT,
    rating       INTEGER CHECK (rating BETWEEN 1 AND 5),
    status       TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    author_kind  TEXT    NOT NULL CHECK (author_kind IN ('owner', 'member', 'visitor')),
    author_id    TEXT,
    created_at   BIGINT  NOT NULL, -- unix epoch milliseconds, UTC
    updated_at   BIGINT  NOT NULL
);

CREATE INDEX feedback_instance_created ON feedback (instance_id, created_at DESC, id DESC);
CREATE INDEX feedback_instance_status_created ON feedback (instance_id, status, created_at DESC, id DESC);
