-- 0010: retention also rewrites contact values in analysts' decision notes (warehouse/retention.py). This is the one
-- deliberate exception to `labels` being append-only (0004): a retention run replaces only the contact substrings
-- inside labels.note of the ads it processes (keyed pseudonym, or masked with • in delete mode); label, analyst,
-- decided_at, action, event_id and every other column stay, and no row is added or removed.
-- (Numbered 0010, not 0009, so it cannot clash with another branch's 0009; migrate.py applies every number the file
-- has not recorded, in order, whatever was merged first.)
ALTER TABLE retention_runs ADD COLUMN notes INTEGER DEFAULT 0;   -- labels whose note had contact values rewritten
