-- 0007: weekly NGO digests. Every rendered digest is archived on disk and recorded here with the fingerprint of
-- its inputs (query results + templates + the recipient's thresholds), so an identical digest is never rendered
-- twice and any sent digest can be traced to exactly what produced it. Deliveries are logged per attempt.
CREATE SEQUENCE seq_digest_archive START 1;

CREATE TABLE digest_archive (
    digest_id      BIGINT PRIMARY KEY DEFAULT nextval('seq_digest_archive'),
    recipient_id   VARCHAR NOT NULL,
    week_start     DATE NOT NULL,            -- Monday of the reported ISO week
    fingerprint    VARCHAR NOT NULL,         -- sha256 over the four hashes below
    data_hash      VARCHAR NOT NULL,         -- sha256 of the canonical JSON of the query results
    templates_hash VARCHAR NOT NULL,         -- sha256 of every template file the renderer could use
    settings_hash  VARCHAR NOT NULL,         -- sha256 of the recipient's template, formats, filters, thresholds
    thresholds     JSON NOT NULL,            -- the thresholds themselves, for reading the archive later
    model_version  VARCHAR NOT NULL,         -- whose scores defined "high-risk"
    archive_path   VARCHAR NOT NULL,         -- folder holding the files
    files          JSON NOT NULL,            -- [{name, bytes, sha256, mime}]
    created_at     TIMESTAMP NOT NULL DEFAULT now(),
    UNIQUE (recipient_id, week_start, fingerprint)
);

CREATE TABLE digest_deliveries (
    digest_id     BIGINT NOT NULL,           -- digest_archive.digest_id
    recipient_id  VARCHAR NOT NULL,
    addresses     JSON NOT NULL,             -- the NGO's configured addresses the message went to
    status        VARCHAR NOT NULL,          -- sent | failed
    message_id    VARCHAR,
    error         VARCHAR,
    attempted_at  TIMESTAMP NOT NULL DEFAULT now()
);
CREATE INDEX idx_digest_deliveries_digest ON digest_deliveries (digest_id);
