-- 0009: case exports say whether their contacts were pseudonymised (review_app/routes_review.py). Analysts export
-- pseudonymised cases; an administrator's referral export in clear needs a recorded reason.
ALTER TABLE case_exports ADD COLUMN pseudonymised BOOLEAN DEFAULT false;  -- rows before 0009 were all in clear
ALTER TABLE case_exports ADD COLUMN key_id VARCHAR;                     -- public fingerprint of the key used
ALTER TABLE case_exports ADD COLUMN reason VARCHAR;                     -- why contacts left the app in clear
