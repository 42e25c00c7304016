-- 0014: per-ad failures of feature extraction and scoring (pipeline/feature_store.py, pipeline/score.py). An ad whose
-- extraction (or the scoring of its features) raises is recorded here and skipped; the rest of its batch and every
-- later batch go on. The ad stays pending, so every later run retries it (after a code fix it goes through); the
-- run that succeeds deletes its row. `lurewatch extract` / `lurewatch score` report the failures of their run,
-- `lurewatch crawl-health` shows the count. (Numbered 0014 so it cannot clash with another branch's 0011-0013;
-- migrate.py applies every number the file has not recorded, in order.)
CREATE TABLE ad_failures (
    ad_id            BIGINT NOT NULL,
    stage            VARCHAR NOT NULL,             -- 'extract' or 'score'
    content_hash     VARCHAR,                      -- ads.content_hash of the text that failed
    version          VARCHAR,                      -- extractor version ('extract') or model version ('score')
    error            VARCHAR NOT NULL,             -- exception type and message (no ad text: numbers, e-mails, URLs
                                                   -- and handles masked; 300 characters at most) and where it was
                                                   -- raised (file:line in function)
    attempts         INTEGER NOT NULL DEFAULT 1,   -- runs that failed on this ad since it last succeeded
    first_failed_at  TIMESTAMP NOT NULL DEFAULT now(),
    last_failed_at   TIMESTAMP NOT NULL DEFAULT now(),
    PRIMARY KEY (ad_id, stage)
);
