-- 0005: model registry — champion/challenger history, evaluation on the frozen set, rollback.
-- models.status: champion (scores new ads; exactly one) | challenger (registered, not decided) |
--                rejected (lost its comparison) | retired (replaced by a better model) | rolled_back
ALTER TABLE models ADD COLUMN promoted_at TIMESTAMP;            -- last time it became champion
ALTER TABLE models ADD COLUMN threshold DOUBLE;                 -- alert threshold for the review budget
ALTER TABLE models ADD COLUMN review_budget INTEGER;            -- ads per week the threshold was set for
ALTER TABLE models ADD COLUMN expected_precision DOUBLE;        -- expected precision at that budget
ALTER TABLE models ADD COLUMN n_train INTEGER;                  -- labelled examples it was trained on
ALTER TABLE models ADD COLUMN label_watermark BIGINT;           -- max(labels.label_id) when its data was read
ALTER TABLE models ADD COLUMN parent_version VARCHAR;           -- the champion when it was trained

-- Every status change of a model, in order (rollback walks back through the 'promoted' events).
CREATE SEQUENCE seq_model_events START 1;
CREATE TABLE model_events (
    event_id    BIGINT PRIMARY KEY DEFAULT nextval('seq_model_events'),
    version     VARCHAR NOT NULL,
    event       VARCHAR NOT NULL,   -- registered | promoted | rejected | retired | rolled_back
    actor       VARCHAR NOT NULL,
    happened_at TIMESTAMP NOT NULL DEFAULT now(),
    details     JSON
);
CREATE INDEX idx_model_events_version ON model_events (version);

-- Champion vs challenger on the same frozen evaluation set (rows either model trained on are left out).
CREATE SEQUENCE seq_model_comparisons START 1;
CREATE TABLE model_comparisons (
    comparison_id       BIGINT PRIMARY KEY DEFAULT nextval('seq_model_comparisons'),
    challenger          VARCHAR NOT NULL,
    champion            VARCHAR,            -- NULL: there was none (first model, promoted automatically)
    eval_fingerprint    VARCHAR NOT NULL,   -- identifies the frozen evaluation set (texts + labels)
    eval_rows           INTEGER NOT NULL,   -- rows scored by both models
    challenger_metrics  JSON NOT NULL,      -- {"overall": {...}, "source=fixture": {...}, ...}
    champion_metrics    JSON,
    decision            VARCHAR NOT NULL,   -- promoted | rejected
    reason              VARCHAR NOT NULL,
    compared_by         VARCHAR NOT NULL,
    compared_at         TIMESTAMP NOT NULL DEFAULT now()
);
