-- 008_kernels.sql: what a newcomer's first hour needs from the database
-- (issue 19): the scenarios a nightly left out, a job's own run time, and
-- the kernels users upload.

-- The scenario files a run of the nightly matrix could not load when it was
-- made (JSON array of {"file", "message"}; [] when none).
ALTER TABLE runs ADD COLUMN left_out TEXT NOT NULL DEFAULT '[]';

-- The agent's own measure of a job's run (ms, from the runner's start to
-- the guest's end), sent at finish; NULL when the agent did not say.
ALTER TABLE jobs ADD COLUMN run_ms INTEGER;

-- Kernels users add (`wakefarm kernel add FILE|URL`): the bzImage (and an
-- optional initrd) stored as content-addressed blobs in DB_DIR/blobs/SHA256,
-- the directory bisect images use, and named by jobs as "sha256:HEX".
-- header_version: the version string of the bzImage's setup header;
-- version: `uname -r` from the first job that booted it (artifacts).
CREATE TABLE kernels (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	sha256		TEXT NOT NULL,
	size		INTEGER NOT NULL,
	initrd_sha256	TEXT,
	source		TEXT NOT NULL,			-- "upload" or the URL
	header_version	TEXT,
	created_at	INTEGER NOT NULL
);
CREATE INDEX kernels_sha256 ON kernels(sha256);
