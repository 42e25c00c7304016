-- 0001: the core tables of the walking skeleton.
CREATE SEQUENCE seq_crawl_runs START 1;
CREATE SEQUENCE seq_ads START 1;
CREATE SEQUENCE seq_entities START 1;
CREATE SEQUENCE seq_labels START 1;

CREATE TABLE sites (
    site_id      VARCHAR PRIMARY KEY,
    spider       VARCHAR NOT NULL,
    base_url     VARCHAR NOT NULL,
    config_hash  VARCHAR,
    updated_at   TIMESTAMP NOT NULL DEFAULT now()
);

CREATE TABLE crawl_runs (
    run_id          BIGINT PRIMARY KEY DEFAULT nextval('seq_crawl_runs'),
    site_id         VARCHAR NOT NULL,
    started_at      TIMESTAMP NOT NULL DEFAULT now(),
    finished_at     TIMESTAMP,
    status          VARCHAR NOT NULL DEFAULT 'running',  -- running | finished | failed
    pages           INTEGER NOT NULL DEFAULT 0,
    items           INTEGER NOT NULL DEFAULT 0,
    ads_inserted    INTEGER NOT NULL DEFAULT 0,
    ads_updated     INTEGER NOT NULL DEFAULT 0,
    errors          INTEGER NOT NULL DEFAULT 0,
    selector_misses INTEGER NOT NULL DEFAULT 0,
    stats           JSON
);

CREATE TABLE ads (
    ad_id         BIGINT PRIMARY KEY DEFAULT nextval('seq_ads'),
    site_id       VARCHAR NOT NULL,
    url           VARCHAR NOT NULL UNIQUE,
    external_id   VARCHAR,
    title         VARCHAR NOT NULL,
    body          VARCHAR NOT NULL,
    company       VARCHAR,
    location      VARCHAR,
    country       VARCHAR,
    salary_text   VARCHAR,
    contact_text  VARCHAR,
    page_language VARCHAR,
    posted        DATE,
    first_seen    TIMESTAMP NOT NULL,
    last_seen     TIMESTAMP NOT NULL,
    content_hash  VARCHAR NOT NULL,
    last_run_id   BIGINT
);

CREATE TABLE features (
    ad_id               BIGINT PRIMARY KEY,
    content_hash        VARCHAR NOT NULL,
    extractor_version   VARCHAR NOT NULL,
    language            VARCHAR NOT NULL,
    language_confidence DOUBLE,
    vector              JSON NOT NULL,   -- {feature name: value}
    evidence            JSON NOT NULL,   -- [{indicator, start, end, text, pattern}] offsets into ad_text(title, body)
    extracted_at        TIMESTAMP NOT NULL DEFAULT now()
);

CREATE TABLE entities (
    entity_id  BIGINT PRIMARY KEY DEFAULT nextval('seq_entities'),
    ad_id      BIGINT NOT NULL,
    kind       VARCHAR NOT NULL,   -- phone | email | whatsapp | telegram | viber | url
    value      VARCHAR NOT NULL,   -- normalised (E.164, lower-case e-mail, @handle)
    raw        VARCHAR NOT NULL,
    start_pos  INTEGER NOT NULL,
    end_pos    INTEGER NOT NULL,
    free_mail  BOOLEAN
);
CREATE INDEX idx_entities_value ON entities (kind, value);
CREATE INDEX idx_entities_ad ON entities (ad_id);

CREATE TABLE models (
    version              VARCHAR PRIMARY KEY,
    created_at           TIMESTAMP NOT NULL DEFAULT now(),
    created_by           VARCHAR NOT NULL,
    path                 VARCHAR NOT NULL,
    status               VARCHAR NOT NULL DEFAULT 'challenger',  -- champion | challenger | retired
    training_fingerprint VARCHAR NOT NULL,
    feature_names        JSON NOT NULL,
    metrics              JSON NOT NULL,
    params               JSON
);

CREATE TABLE scores (
    ad_id          BIGINT NOT NULL,
    model_version  VARCHAR NOT NULL,
    score          DOUBLE NOT NULL,
    content_hash   VARCHAR NOT NULL,
    scored_at      TIMESTAMP NOT NULL DEFAULT now(),
    PRIMARY KEY (ad_id, model_version)
);

CREATE TABLE labels (
    label_id       BIGINT PRIMARY KEY DEFAULT nextval('seq_labels'),
    ad_id          BIGINT NOT NULL,
    label          VARCHAR NOT NULL,   -- lure | not_lure | unsure | skip
    source         VARCHAR NOT NULL,   -- analyst | fixture | import
    analyst        VARCHAR NOT NULL,
    decided_at     TIMESTAMP NOT NULL DEFAULT now(),
    note           VARCHAR,
    previous_label VARCHAR
);
CREATE INDEX idx_labels_ad ON labels (ad_id);
