-- The lifecycle of each Wix app instance (one site), as told by Wix's webhooks.
-- An instance with no row here was never mentioned by a webhook and counts as active (sites that
-- installed before the webhook endpoint existed).
-- Times are unix epoch microseconds, UTC, like feedback.created_at. Portable types only.
CREATE TABLE instances (
    instance_id    TEXT    PRIMARY KEY,
    status         TEXT    NOT NULL CHECK (status IN ('active', 'removed')),
    installed_at   BIGINT,          -- event time of the install that made it active (NULL if never seen)
    removed_at     BIGINT,          -- event time of the removal; NULL while active
    last_event_at  BIGINT  NOT NULL, -- event time of the newest event applied; older events are ignored
    purged_at      BIGINT,          -- when the removed instance's data was deleted
    updated_at     BIGINT  NOT NULL  -- when this row last changed (server clock)
);

CREATE INDEX instances_status_removed ON instances (status, removed_at);

-- Webhook deliveries already processed, for idempotency: Wix may deliver an event twice.
-- event_key is the hex SHA-256 of the token as received.
CREATE TABLE webhook_events (
    event_key    TEXT    PRIMARY KEY,
    event_type   TEXT    NOT NULL,
    instance_id  TEXT,
    event_at     BIGINT  NOT NULL,
    received_at  BIGINT  NOT NULL
);

CREATE INDEX webhook_events_received ON webhook_events (received_at);
