-- What a job's last failed attempt tried to reach: the mail server, a
-- supplier's folder or webhook host. When a job reaches a target again,
-- the jobs waiting to retry on the same target are due at once, instead
-- of each waiting out its own back-off.
ALTER TABLE jobs ADD COLUMN target TEXT;
CREATE INDEX jobs_waiting_by_target ON jobs (target) WHERE state = 'failed';
