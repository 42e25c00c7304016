-- 0004: the review app's audit trail. `labels` stays the one append-only decision log (rows are never
-- UPDATEd or DELETEd); these columns say what each row was and let journaled decisions be replayed exactly once.
--   action           'decide' (every imported or analyst decision) | 'undo' (an analyst undid a decision)
--   undoes_label_id  for 'undo': the label_id of the decision it reverts. The undo row's label is that
--                    decision's previous_label, or 'none' (= "no decision", never a training label) if it had none.
--   event_id         the review app's journal event id (unique): replaying the journal twice adds nothing
--   recorded_at      when the row reached the warehouse (decided_at is when the analyst decided)
ALTER TABLE labels ADD COLUMN action VARCHAR DEFAULT 'decide';
ALTER TABLE labels ADD COLUMN undoes_label_id BIGINT;
ALTER TABLE labels ADD COLUMN event_id VARCHAR;
ALTER TABLE labels ADD COLUMN recorded_at TIMESTAMP DEFAULT now();
CREATE UNIQUE INDEX idx_labels_event ON labels (event_id);

-- Every case export (referral to police or a hotline) is recorded: who exported which ad, when, in which format.
CREATE SEQUENCE seq_case_exports START 1;
CREATE TABLE case_exports (
    export_id      BIGINT PRIMARY KEY DEFAULT nextval('seq_case_exports'),
    ad_id          BIGINT NOT NULL,
    format         VARCHAR NOT NULL,   -- csv | json
    analyst        VARCHAR NOT NULL,
    exported_at    TIMESTAMP NOT NULL DEFAULT now(),
    linked_ad_ids  JSON NOT NULL       -- the linked ads included in the export
);
