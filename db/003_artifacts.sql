-- 003_artifacts.sql: kernel artifacts, the kernels jobs boot besides our test
-- kernel: a Debian package name (unpacked on the agent's host) or an absolute
-- path there. Kept by two triggers, so every way a job is created records its
-- kernel: a job whose params name one adds the artifact; the first `boot`
-- record of generation 1 (the reporter's, with `release` = uname -r) fills in
-- its version.

CREATE TABLE artifacts (
	name		TEXT PRIMARY KEY,		-- package name or path
	kind		TEXT NOT NULL CHECK (kind IN ('package', 'path')),
	version		TEXT				-- uname -r; NULL until a job booted it
);

CREATE TRIGGER artifacts_from_jobs AFTER INSERT ON jobs
WHEN json_extract(new.params, '$.kernel_package') IS NOT NULL
    OR json_extract(new.params, '$.kernel') IS NOT NULL
BEGIN
	INSERT OR IGNORE INTO artifacts (name, kind) VALUES (
	    coalesce(json_extract(new.params, '$.kernel_package'),
		json_extract(new.params, '$.kernel')),
	    CASE WHEN json_extract(new.params, '$.kernel_package') IS NOT NULL
		THEN 'package' ELSE 'path' END);
END;

-- The boot record comes within the first records of a run (after fw-ready
-- and one fw-wake per AP); the seq test keeps the cost off every other event.
CREATE TRIGGER artifacts_version AFTER INSERT ON events
WHEN new.seq < 128 AND json_extract(new.record, '$.ev') = 'boot'
    AND json_extract(new.record, '$.gen') = 1
    AND json_extract(new.record, '$.release') IS NOT NULL
BEGIN
	UPDATE artifacts SET version = json_extract(new.record, '$.release')
	WHERE version IS NULL AND name = (SELECT coalesce(
	    json_extract(params, '$.kernel_package'),
	    json_extract(params, '$.kernel')) FROM jobs WHERE id = new.job_id);
END;
