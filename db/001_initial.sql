-- 001_initial.sql: the first schema of the wakefarm database.
-- Applied by wakefarm-controller (migrate, and at serve start) inside one
-- transaction that also sets PRAGMA user_version = 1.
-- Times are milliseconds since the Unix epoch (INTEGER).

CREATE TABLE tokens (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL,
	role		TEXT NOT NULL CHECK (role IN ('admin', 'submitter', 'agent', 'reader')),
	hash		BLOB NOT NULL UNIQUE,		-- SHA-256 of the token's text
	created_at	INTEGER NOT NULL,
	revoked		INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE hosts (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	slots		INTEGER NOT NULL,
	libvirt_uri	TEXT NOT NULL,
	state		TEXT NOT NULL DEFAULT 'good' CHECK (state IN ('good', 'bad', 'maintenance')),
	token_id	INTEGER REFERENCES tokens(id),	-- the agent token it registered with
	registered_at	INTEGER NOT NULL,
	last_seen	INTEGER NOT NULL
);

-- Content-addressed: sha256 of the canonical (sorted, compact) JSON.
CREATE TABLE scenarios (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL,
	sha256		TEXT NOT NULL UNIQUE,
	body		TEXT NOT NULL,
	created_at	INTEGER NOT NULL
);

CREATE TABLE runs (
	id		INTEGER PRIMARY KEY,
	kind		TEXT NOT NULL CHECK (kind IN ('nightly', 'adhoc', 'bisect')),
	state		TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'cancelled')),
	priority	INTEGER NOT NULL DEFAULT 0,
	submitter	TEXT NOT NULL DEFAULT '',
	request		TEXT NOT NULL,			-- the submitted JSON body
	created_at	INTEGER NOT NULL,
	finished_at	INTEGER,
	jobs_total	INTEGER NOT NULL DEFAULT 0,
	jobs_done	INTEGER NOT NULL DEFAULT 0,	-- done or cancelled
	jobs_as_expected INTEGER NOT NULL DEFAULT 0,
	jobs_unexpected	INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_kind_state ON runs(kind, state);

CREATE TABLE jobs (
	id		INTEGER PRIMARY KEY,
	run_id		INTEGER NOT NULL REFERENCES runs(id),
	scenario_id	INTEGER NOT NULL REFERENCES scenarios(id),
	scenario	TEXT NOT NULL,			-- its name, for display
	case_index	INTEGER NOT NULL,
	matrix		TEXT NOT NULL,			-- {"axis": value} of this case
	params		TEXT NOT NULL,			-- the run spec as JSON
	priority	INTEGER NOT NULL DEFAULT 0,
	state		TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'running', 'done', 'cancelled')),
	attempt		INTEGER NOT NULL DEFAULT 1,
	lease_host	INTEGER REFERENCES hosts(id),
	lease_expires	INTEGER,
	last_host	INTEGER REFERENCES hosts(id),	-- ran the previous attempt
	next_batch	INTEGER NOT NULL DEFAULT 0,	-- event batch expected next (this attempt)
	next_seq	INTEGER NOT NULL DEFAULT 0,	-- events.seq of the next record
	expected_verdict TEXT NOT NULL,
	expected_failing TEXT NOT NULL,		-- JSON array of check names
	verdict		TEXT,
	as_expected	INTEGER,
	failing		TEXT,				-- JSON array of check names
	reason		TEXT,
	outcome		TEXT,
	detail		TEXT,
	created_at	INTEGER NOT NULL,
	leased_at	INTEGER,
	started_at	INTEGER,
	finished_at	INTEGER
);
CREATE INDEX jobs_run ON jobs(run_id);
CREATE INDEX jobs_queue ON jobs(state, priority, id);
CREATE INDEX jobs_lease ON jobs(lease_host, state);

-- Acknowledged event batches (idempotency of POST /jobs/{id}/events).
CREATE TABLE batches (
	job_id		INTEGER NOT NULL REFERENCES jobs(id),
	attempt		INTEGER NOT NULL,
	batch		INTEGER NOT NULL,
	records		INTEGER NOT NULL,
	received_at	INTEGER NOT NULL,
	PRIMARY KEY (job_id, attempt, batch)
);

CREATE TABLE events (
	id		INTEGER PRIMARY KEY,
	job_id		INTEGER NOT NULL REFERENCES jobs(id),
	attempt		INTEGER NOT NULL,
	seq		INTEGER NOT NULL,		-- per job, over every attempt
	record		TEXT NOT NULL,
	UNIQUE (job_id, seq)
);

CREATE TABLE generations (
	job_id		INTEGER NOT NULL REFERENCES jobs(id),
	gen		INTEGER NOT NULL,
	data		TEXT NOT NULL,			-- the row of inv_evaluate
	PRIMARY KEY (job_id, gen)
);

CREATE TABLE checks (
	id		INTEGER PRIMARY KEY,
	job_id		INTEGER NOT NULL REFERENCES jobs(id),
	gen		INTEGER NOT NULL,		-- 0: over the whole run
	check_name	TEXT NOT NULL,
	ok		INTEGER NOT NULL,
	expected	TEXT NOT NULL,
	observed	TEXT NOT NULL
);
CREATE INDEX checks_job ON checks(job_id);

-- Guest output per serial port, in chunks; size-capped per job and port.
CREATE TABLE logs (
	job_id		INTEGER NOT NULL REFERENCES jobs(id),
	port		INTEGER NOT NULL,
	chunk		INTEGER NOT NULL,
	data		BLOB NOT NULL,
	PRIMARY KEY (job_id, port, chunk)
);
CREATE TABLE log_ports (
	job_id		INTEGER NOT NULL REFERENCES jobs(id),
	port		INTEGER NOT NULL,
	size		INTEGER NOT NULL,		-- bytes stored, marker included
	chunks		INTEGER NOT NULL,
	truncated	INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (job_id, port)
);

CREATE TABLE known_issues (
	id		INTEGER PRIMARY KEY,
	scenario	TEXT NOT NULL,			-- scenario name, or '*'
	check_name	TEXT NOT NULL,
	description	TEXT NOT NULL,
	url		TEXT NOT NULL DEFAULT '',
	created_at	INTEGER NOT NULL
);
