-- 004_host_health.sql: a host whose jobs keep ending as infra is taken out
-- of the queue (state 'bad') until an admin puts it back.  infra_streak
-- counts consecutive infra finishes; any other finish resets it.
ALTER TABLE hosts ADD COLUMN infra_streak INTEGER NOT NULL DEFAULT 0;
