-- Replicas: an outbox row is claimed by one worker until claimed_until (unix milliseconds), so
-- several replicas never sync the same row at once; a claim that outlives its worker (a crash)
-- expires and the row is taken again. Rate limits shared by all replicas live in rate_limits:
-- one GCRA "theoretical arrival time" per key, in microseconds of the database's clock.
ALTER TABLE contact_sync ADD COLUMN claimed_until BIGINT;

CREATE TABLE rate_limits (
    key  TEXT   PRIMARY KEY,
    tat  BIGINT NOT NULL
);
