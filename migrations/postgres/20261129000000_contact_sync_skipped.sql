-- PostgreSQL twin of migrations/sqlite/20261129000000_contact_sync_skipped.sql: the state
-- 'skipped' and created_at (unix milliseconds). PostgreSQL changes the table in place.
ALTER TABLE contact_sync DROP CONSTRAINT contact_sync_state_check;
ALTER TABLE contact_sync ADD CONSTRAINT contact_sync_state_check
    CHECK (state IN ('pending', 'synced', 'failed', 'skipped'));
ALTER TABLE contact_sync ADD COLUMN created_at BIGINT;
UPDATE contact_sync s SET created_at = COALESCE(
    (SELECT f.created_at / 1000 FROM feedback f WHERE f.id = s.feedback_id), s.updated_at);
ALTER TABLE contact_sync ALTER COLUMN created_at SET NOT NULL;

DROP INDEX contact_sync_instance;
CREATE INDEX contact_sync_instance_state ON contact_sync (instance_id, state);
