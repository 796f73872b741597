-- 007_ci.sql: what the CI world needs (issue 15): the guest's boot time for /metrics, a feed of
-- what happened (the server-sent events of GET /api/v1/events, and what the notifier works
-- from), subscriptions and their durable outbox (webhooks, mail), and the mark of a pruned job.
-- Times are ms since the epoch.

-- The guest's boot: t_us of the gen-1 boot record of the job's latest attempt (its histogram in
-- /metrics). Kept by a trigger like artifacts_version (003).
ALTER TABLE jobs ADD COLUMN boot_us INTEGER;
CREATE TRIGGER jobs_boot_us AFTER INSERT ON events
WHEN new.seq < 128 AND json_extract(new.record, '$.ev') = 'boot'
    AND json_extract(new.record, '$.gen') = 1
    AND json_type(new.record, '$.t_us') = 'integer'
BEGIN
	UPDATE jobs SET boot_us = json_extract(new.record, '$.t_us') WHERE id = new.job_id;
END;

-- When `wakefarm-controller prune` (or --retain-days) dropped the job's logs and records.
ALTER TABLE jobs ADD COLUMN pruned_at INTEGER;

-- The feed: one row per change worth telling (a job's, run's, bisect's or host's state; the
-- notifier's regressions, fixed and new failures), in the transaction that made the change
-- (triggers), so nothing is told that did not happen and nothing that happened is missed.
-- AUTOINCREMENT: ids are never reused, they are the events' ids for Last-Event-ID.
CREATE TABLE feed (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	at		INTEGER NOT NULL,
	kind		TEXT NOT NULL,		-- job, run, bisect, host, regression, fixed, new-failure
	run_id		INTEGER,
	job_id		INTEGER,
	bisect_id	INTEGER,
	data		TEXT NOT NULL		-- JSON: what the event says
);
CREATE INDEX feed_at ON feed(at);

CREATE TRIGGER feed_job AFTER UPDATE OF state ON jobs WHEN old.state IS NOT new.state
BEGIN
	INSERT INTO feed (at, kind, run_id, job_id, data) VALUES (
	    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 'job', new.run_id, new.id,
	    json_object('job', new.id, 'run', new.run_id, 'scenario', new.scenario,
		'state', new.state, 'attempt', new.attempt, 'verdict', new.verdict,
		'as_expected', new.as_expected));
END;

CREATE TRIGGER feed_run_new AFTER INSERT ON runs
BEGIN
	INSERT INTO feed (at, kind, run_id, data) VALUES (
	    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 'run', new.id,
	    json_object('run', new.id, 'kind', new.kind, 'state', new.state));
END;

CREATE TRIGGER feed_run AFTER UPDATE OF state ON runs WHEN old.state IS NOT new.state
BEGIN
	INSERT INTO feed (at, kind, run_id, data) VALUES (
	    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 'run', new.id,
	    json_object('run', new.id, 'kind', new.kind, 'state', new.state,
		'jobs_total', new.jobs_total, 'jobs_as_expected', new.jobs_as_expected,
		'jobs_unexpected', new.jobs_unexpected));
END;

CREATE TRIGGER feed_bisect_new AFTER INSERT ON bisects
BEGIN
	INSERT INTO feed (at, kind, bisect_id, data) VALUES (
	    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 'bisect', new.id,
	    json_object('bisect', new.id, 'scenario', new.scenario, 'state', new.state));
END;

CREATE TRIGGER feed_bisect AFTER UPDATE OF state ON bisects WHEN old.state IS NOT new.state
BEGIN
	INSERT INTO feed (at, kind, bisect_id, data) VALUES (
	    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 'bisect', new.id,
	    json_object('bisect', new.id, 'scenario', new.scenario, 'state', new.state,
		'first_bad', new.first_bad, 'confidence', new.confidence, 'message', new.message));
END;

CREATE TRIGGER feed_host AFTER UPDATE OF state ON hosts WHEN old.state IS NOT new.state
BEGIN
	INSERT INTO feed (at, kind, data) VALUES (
	    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 'host',
	    json_object('host', new.name, 'state', new.state, 'was', old.state));
END;

-- Who hears about what: events (a JSON array of regression, new-failure, fixed, run-finished,
-- bisect-finished), narrowed to a schedule (NULL: any run) and to scenario and kernel globs
-- (fnmatch; the test kernel is "test-kernel"); a webhook (target: its URL, secret: the HMAC
-- key) or mail (target: the recipients, comma-separated).
CREATE TABLE subscriptions (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	events		TEXT NOT NULL,
	schedule	TEXT,
	scenario	TEXT NOT NULL DEFAULT '*',
	kernel		TEXT NOT NULL DEFAULT '*',
	kind		TEXT NOT NULL CHECK (kind IN ('webhook', 'email')),
	target		TEXT NOT NULL,
	secret		TEXT NOT NULL DEFAULT '',
	created_at	INTEGER NOT NULL
);

-- How far the notifier has read the feed: it reads a row, and in the same transaction queues
-- the notifications it makes and moves this on.
CREATE TABLE notify_cursor (
	id		INTEGER PRIMARY KEY CHECK (id = 1),
	feed_id		INTEGER NOT NULL
);
INSERT INTO notify_cursor (id, feed_id) VALUES (1, 0);

-- The outbox: one row per notification and subscription, UNIQUE on what it is about (queued once
-- whatever happens), sent from here with retries and backoff until it is taken or too old.
CREATE TABLE outbox (
	id		INTEGER PRIMARY KEY,
	subscription_id	INTEGER NOT NULL REFERENCES subscriptions(id),
	event		TEXT NOT NULL,
	event_key	TEXT NOT NULL,		-- e.g. regression:run-7:job-12
	delivery	TEXT NOT NULL,		-- the id receivers deduplicate on
	subject		TEXT NOT NULL DEFAULT '',	-- mail
	body		TEXT NOT NULL,		-- the JSON posted, or the mail's text
	state		TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
	attempts	INTEGER NOT NULL DEFAULT 0,
	next_at		INTEGER NOT NULL,
	last_error	TEXT NOT NULL DEFAULT '',
	created_at	INTEGER NOT NULL,
	sent_at		INTEGER,
	UNIQUE (subscription_id, event_key)
);
CREATE INDEX outbox_due ON outbox(state, next_at);
