-- Lock-outs apply to one username from one client address, so someone
-- failing from their own machine cannot lock the real user out everywhere.
-- Lock-outs in force when this runs are dropped (they named no address);
-- the failures that caused them were already forgotten.
DROP TABLE lockouts;
CREATE TABLE lockouts (
    username_key TEXT NOT NULL,
    ip TEXT NOT NULL,
    locked_until TEXT NOT NULL,
    PRIMARY KEY (username_key, ip)
) STRICT;
UPDATE login_failures SET ip = '' WHERE ip IS NULL;
CREATE INDEX login_failures_by_key_ip ON login_failures (username_key, ip, failed_at);
