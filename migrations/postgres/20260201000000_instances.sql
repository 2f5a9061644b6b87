-- PostgreSQL twin of migrations/sqlite/20260201000000_instances.sql.
CREATE TABLE instances (
    instance_id    TEXT    PRIMARY KEY,
    status         TEXT    NOT NULL CHECK (status IN ('active', 'removed')),
    installed_at   BIGINT,
    removed_at     BIGINT,
    last_event_at  BIGINT  NOT NULL,
    purged_at      BIGINT,
    updated_at     BIGINT  NOT NULL
);

CREATE INDEX instances_status_removed ON instances (status, removed_at);

CREATE TABLE webhook_events (
    event_key    TEXT    PRIMARY KEY,
    event_type   TEXT    NOT NULL,
    instance_id  TEXT,
    event_at     BIGINT  NOT NULL,
    received_at  BIGINT  NOT NULL
);

CREATE INDEX webhook_events_received ON webhook_events (received_at);
