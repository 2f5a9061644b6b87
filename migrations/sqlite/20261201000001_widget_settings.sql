-- Keeps the schema in step with migrations/postgres/20261201000001_widget_settings.sql.
-- Settings of each copy of the site widget: one row per (instance, Wix compId). A site without
-- a row for a compId gets the defaults (crate::model::WidgetSettings::default).
CREATE TABLE widget_settings (
    instance_id   TEXT    NOT NULL,
    comp_id       TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    prompt        TEXT    NOT NULL,
    ask_email     INTEGER NOT NULL CHECK (ask_email IN (0, 1)),
    ask_rating    INTEGER NOT NULL CHECK (ask_rating IN (0, 1)),
    accent_color  TEXT    NOT NULL,
    updated_at    BIGINT  NOT NULL, -- unix epoch microseconds, UTC
    PRIMARY KEY (instance_id, comp_id)
);

-- A duplicated site (Wix's originInstanceId) whose origin's settings were copied, once.
CREATE TABLE widget_settings_origin (
    instance_id         TEXT   PRIMARY KEY,
    origin_instance_id  TEXT   NOT NULL,
    copied_rows         BIGINT NOT NULL,
    copied_at           BIGINT NOT NULL
);

-- Which widget a piece of feedback came from.
ALTER TABLE feedback ADD COLUMN comp_id TEXT NOT NULL DEFAULT 'default';
CREATE INDEX feedback_instance_comp_created ON feedback (instance_id, comp_id, created_at DESC, id DESC);
