-- 0008: data retention (warehouse/retention.py, `lurewatch privacy retention --days N`). Contacts of ads not seen
-- for N days are pseudonymised (keyed HMAC) or deleted, and contact text in the ad and its snapshots is masked.
-- Nothing here alters another table: these tables only record what retention did, so a run is idempotent and
-- auditable.

CREATE SEQUENCE seq_retention_runs START 1;

-- One row per retention run, with what it changed (a dry run rolls back and leaves no row).
CREATE TABLE retention_runs (
    run_id        BIGINT PRIMARY KEY DEFAULT nextval('seq_retention_runs'),
    started_at    TIMESTAMP NOT NULL DEFAULT now(),
    finished_at   TIMESTAMP,
    days          INTEGER NOT NULL,      -- the retention period
    cutoff        TIMESTAMP NOT NULL,    -- ads last seen before this were processed
    mode          VARCHAR NOT NULL,      -- pseudonymise | delete
    dry_run       BOOLEAN NOT NULL,
    key_id        VARCHAR,               -- public fingerprint of the pseudonymisation key (never the key)
    ads           INTEGER NOT NULL DEFAULT 0,   -- ads whose text was masked
    entities      INTEGER NOT NULL DEFAULT 0,   -- entities pseudonymised or deleted
    snapshots     INTEGER NOT NULL DEFAULT 0,   -- snapshots masked
    evidence      INTEGER NOT NULL DEFAULT 0    -- feature rows whose evidence text was masked
);

-- Ads whose contacts were processed (latest time wins). An ad seen again later, or re-extracted with plain
-- contact values, is processed again by the next run once it expires again.
CREATE TABLE retention_ads (
    ad_id         BIGINT PRIMARY KEY,
    processed_at  TIMESTAMP NOT NULL,
    mode          VARCHAR NOT NULL,
    run_id        BIGINT NOT NULL
);

-- Snapshots already masked (a snapshot is identified by its ad, fetch time and content hash).
CREATE TABLE retention_snapshots (
    ad_id         BIGINT NOT NULL,
    fetched_at    TIMESTAMP NOT NULL,
    content_hash  VARCHAR NOT NULL,
    processed_at  TIMESTAMP NOT NULL,
    run_id        BIGINT NOT NULL,
    PRIMARY KEY (ad_id, fetched_at, content_hash)
);
