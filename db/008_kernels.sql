-- 008_kernels.sql: what a newcomer's first hour needs from the database
-- (issue 19): the scenarios a nightly left out, a job's own run time, and
-- the kernels users upload.

-- The scenario files a run of the nightly matrix could not load when it was
-- made (JSON array of {"file", "message"}; [] when none).
ALTER TABLE runs ADD COLUMN left_out TEXT NOT NULL DEFAULT '[]';

-- The agent's own measure of a job's run (ms, from the runner's start to
-- the guest's end), sent at finish; NULL when the agent did not say.
ALTER TABLE jobs ADD COLUMN run_ms INTEGER;
