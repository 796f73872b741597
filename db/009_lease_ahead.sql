-- 009_lease_ahead.sql: a host whose agent leases one job ahead per slot
-- (agent/README.md, "Lease ahead") may hold twice its slots in leases: a
-- running guest and a prepared one per slot.
ALTER TABLE hosts ADD COLUMN lease_ahead INTEGER NOT NULL DEFAULT 0;
