-- 006_reliability.sql: what a job's failure is explained by is decided once
-- (when the job finishes, and again by the classifier thread when a known
-- issue is added), stored, and only read afterwards; log chunks exactly once;
-- the domains an agent could not remove.

-- The known issues that cover some failing check of a finished job (the
-- verdict's name when none failed), and the log line their regex matched.
CREATE TABLE job_known (
	job_id		INTEGER NOT NULL REFERENCES jobs(id),
	issue_id	INTEGER NOT NULL REFERENCES known_issues(id),
	checks		TEXT NOT NULL,			-- JSON array: the checks it covers
	log		TEXT,				-- JSON {"port", "line_no", "line"} or NULL
	PRIMARY KEY (job_id, issue_id)
);
-- known: those issues explain every failing check; known_rev: the highest
-- known issue id the job was classified against (the classifier thread takes
-- finished jobs below the newest issue).
ALTER TABLE jobs ADD COLUMN known INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN known_rev INTEGER NOT NULL DEFAULT 0;

-- POST /jobs/{id}/logs/{port}?offset=N: the bytes of the agent's stream of
-- this port and attempt taken so far (stored or cut by the cap), so that a
-- chunk sent again is recognised.
ALTER TABLE log_ports ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE log_ports ADD COLUMN received INTEGER NOT NULL DEFAULT 0;

-- Domains the host's agent found left behind and could not destroy (JSON
-- array of names, from its heartbeat).
ALTER TABLE hosts ADD COLUMN leftovers TEXT NOT NULL DEFAULT '[]';
