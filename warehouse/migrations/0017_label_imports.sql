-- 0017: labelled data brought in with `lurewatch labels import FILE` (pipeline/label_import.py). Numbered 0017 so it
-- cannot clash with another branch's 0011-0016; migrate.py applies every number the file has not recorded.
--   label_imports   one row per imported file: where it came from (file name and SHA-256), when, how many rows
--   imported_labels rows given by their text (ads that were never crawled here, e.g. a partner NGO's decisions):
--                   training reads the latest row per (source, text) as an "imported (<source>)" label.
-- Rows given by `ad_id` (ads crawled into this warehouse) go to `labels` like every other decision
-- (source = the file's source, analyst = 'import:<import_id>').
CREATE SEQUENCE seq_label_imports START 1;
CREATE TABLE label_imports (
    import_id     BIGINT PRIMARY KEY DEFAULT nextval('seq_label_imports'),
    file_name     VARCHAR NOT NULL,
    file_sha256   VARCHAR NOT NULL,
    imported_by   VARCHAR NOT NULL,
    imported_at   TIMESTAMP NOT NULL DEFAULT now(),
    rows_read     INTEGER NOT NULL,
    rows_new      INTEGER NOT NULL,
    rows_skipped  INTEGER NOT NULL,   -- bad rows left out under --skip-bad, and rows already present
    sources       JSON NOT NULL       -- {source: rows}
);
CREATE SEQUENCE seq_imported_labels START 1;
CREATE TABLE imported_labels (
    imported_label_id BIGINT PRIMARY KEY DEFAULT nextval('seq_imported_labels'),
    import_id         BIGINT NOT NULL,
    line              INTEGER NOT NULL,   -- line of the row in its file
    text              VARCHAR NOT NULL,
    label             VARCHAR NOT NULL,   -- lure | not_lure
    source            VARCHAR NOT NULL,
    lang              VARCHAR,
    note              VARCHAR
);
CREATE INDEX idx_imported_labels_source ON imported_labels (source);
