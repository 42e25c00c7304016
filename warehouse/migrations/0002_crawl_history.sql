-- 0002: crawl history. Ads are never deleted: an ad missing from a complete crawl of its site gets
-- removed_at (cleared when it reappears); every distinct page text an ad showed is kept as evidence; HTTP
-- validators and body hashes per fetched page let re-crawls skip unchanged pages.
ALTER TABLE ads ADD COLUMN removed_at TIMESTAMP;            -- NULL while the ad is live

ALTER TABLE crawl_runs ADD COLUMN ads_unchanged INTEGER NOT NULL DEFAULT 0;  -- seen again, same text
ALTER TABLE crawl_runs ADD COLUMN not_modified INTEGER NOT NULL DEFAULT 0;   -- 304 or same body: not re-parsed
ALTER TABLE crawl_runs ADD COLUMN ads_removed INTEGER NOT NULL DEFAULT 0;    -- removed_at set by this run
ALTER TABLE crawl_runs ADD COLUMN complete BOOLEAN NOT NULL DEFAULT false;   -- every entry page read: removals allowed

-- One row per ad per change of its page text (a re-crawl of an unchanged page adds nothing).
CREATE TABLE ad_snapshots (
    ad_id         BIGINT NOT NULL,
    run_id        BIGINT,
    fetched_at    TIMESTAMP NOT NULL,
    content_hash  VARCHAR NOT NULL,    -- sha256 of page_text
    page_text     VARCHAR NOT NULL     -- visible text of the ad's page (or listing element) when fetched
);
CREATE INDEX idx_ad_snapshots_ad ON ad_snapshots (ad_id);

-- What the crawler remembers per fetched detail page, for conditional requests and skipping re-parses.
CREATE TABLE crawl_pages (
    url            VARCHAR PRIMARY KEY,   -- the URL as requested (before redirects)
    site_id        VARCHAR NOT NULL,      -- the site config that fetched it (crawl_runs.site_id)
    ad_url         VARCHAR,               -- the ad the page produced (ads.url)
    etag           VARCHAR,
    last_modified  VARCHAR,
    body_hash      VARCHAR NOT NULL,      -- sha256 of the raw response body
    config_hash    VARCHAR NOT NULL,      -- site config it was parsed with (a config change forces re-parsing)
    fetched_at     TIMESTAMP NOT NULL,
    run_id         BIGINT
);
