-- 005_bisect.sql: bisects the controller drives (controller/bisect.c).
-- A bisect has candidates in order (0 the good end, the last the bad end):
-- git revisions built on the controller's host, or kernel artifacts. Each
-- step runs one candidate `repeat` times as a run of kind 'bisect'.

CREATE TABLE bisects (
	id		INTEGER PRIMARY KEY,
	state		TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed', 'cancelled')),
	scenario	TEXT NOT NULL,
	request		TEXT NOT NULL,		-- the submitted JSON body
	submitter	TEXT NOT NULL DEFAULT '',
	created_at	INTEGER NOT NULL,
	finished_at	INTEGER,
	first_bad	INTEGER,		-- candidate index (DONE)
	last_good	INTEGER,
	confidence	REAL,
	flake_rate	REAL,
	message		TEXT NOT NULL DEFAULT '',
	regression_run	INTEGER REFERENCES runs(id),	-- "bisect this" from a nightly
	regression_case	TEXT
);

CREATE TABLE bisect_candidates (
	bisect_id	INTEGER NOT NULL REFERENCES bisects(id),
	idx		INTEGER NOT NULL,
	rev		TEXT NOT NULL,		-- commit id, or the artifact
	subject		TEXT NOT NULL DEFAULT '',
	verdict		TEXT NOT NULL DEFAULT 'untested'
			CHECK (verdict IN ('untested', 'good', 'bad', 'skip')),
	runs		INTEGER NOT NULL DEFAULT 0,
	fails		INTEGER NOT NULL DEFAULT 0,
	infra		INTEGER NOT NULL DEFAULT 0,
	build		TEXT NOT NULL DEFAULT 'none' CHECK (build IN ('none', 'ok', 'failed')),
	build_log	TEXT,
	blob		TEXT,			-- sha256 of the built image
	PRIMARY KEY (bisect_id, idx)
);

CREATE TABLE bisect_steps (
	bisect_id	INTEGER NOT NULL REFERENCES bisects(id),
	step		INTEGER NOT NULL,
	idx		INTEGER NOT NULL,
	run_id		INTEGER REFERENCES runs(id),	-- NULL: a build failure
	runs		INTEGER NOT NULL DEFAULT 0,
	passes		INTEGER NOT NULL DEFAULT 0,
	fails		INTEGER NOT NULL DEFAULT 0,
	infra		INTEGER NOT NULL DEFAULT 0,
	verdict		TEXT,			-- the candidate's after this step
	why		TEXT NOT NULL DEFAULT '',
	started_at	INTEGER NOT NULL,
	finished_at	INTEGER,
	PRIMARY KEY (bisect_id, step)
);
CREATE INDEX bisect_steps_run ON bisect_steps(run_id);
