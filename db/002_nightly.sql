-- 002_nightly.sql: nightly schedules, the runs they started, the outcome of
-- every attempt of a job (a job row keeps only the last), and a log regex
-- for known issues. See controller/README.md ("Nightly runs").

-- A schedule starts a run of kind 'nightly' once a day at at_minute (UTC).
CREATE TABLE schedules (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	request		TEXT NOT NULL,			-- the POST /runs body it submits
	at_minute	INTEGER NOT NULL CHECK (at_minute BETWEEN 0 AND 1439),
	retries		INTEGER NOT NULL DEFAULT 2,	-- more attempts before a regression
	created_at	INTEGER NOT NULL		-- ms, by the scheduler's clock
);

-- Linked by the schedule's name: removing and adding a schedule again keeps
-- its history. UNIQUE (schedule, day): never twice on one day.
CREATE TABLE schedule_runs (
	run_id		INTEGER PRIMARY KEY REFERENCES runs(id),
	schedule	TEXT NOT NULL,
	day		TEXT NOT NULL,			-- YYYY-MM-DD (UTC)
	retries		INTEGER NOT NULL,		-- the schedule's, when it fired
	UNIQUE (schedule, day)
);

-- One row per finished attempt of a job: infra, or judged.
CREATE TABLE attempts (
	job_id		INTEGER NOT NULL REFERENCES jobs(id),
	attempt		INTEGER NOT NULL,
	verdict		TEXT NOT NULL,
	as_expected	INTEGER NOT NULL,
	failing		TEXT NOT NULL,			-- JSON array of check names
	reason		TEXT NOT NULL,
	finished_at	INTEGER NOT NULL,
	PRIMARY KEY (job_id, attempt)
);

-- POSIX extended regex over the job's guest logs; '' matches any.
ALTER TABLE known_issues ADD COLUMN log_regex TEXT NOT NULL DEFAULT '';
