-- PostgreSQL twin of migrations/sqlite/20261201000001_widget_settings.sql.
CREATE TABLE widget_settings (
    instance_id   TEXT    NOT NULL,
    comp_id       TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    prompt        TEXT    NOT NULL,
    ask_email     BOOLEAN NOT NULL,
    ask_rating    BOOLEAN NOT NULL,
    accent_color  TEXT    NOT NULL,
    updated_at    BIGINT  NOT NULL, -- unix epoch microseconds, UTC
    PRIMARY KEY (instance_id, comp_id)
);

CREATE TABLE widget_settings_origin (
    instance_id         TEXT   PRIMARY KEY,
    origin_instance_id  TEXT   NOT NULL,
    copied_rows         BIGINT NOT NULL,
    copied_at           BIGINT NOT NULL
);

ALTER TABLE feedback ADD COLUMN comp_id TEXT NOT NULL DEFAULT 'default';
CREATE INDEX feedback_instance_comp_created ON feedback (instance_id, comp_id, created_at DESC, id DESC);
