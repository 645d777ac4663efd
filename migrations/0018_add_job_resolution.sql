-- A dead job needs a person until it is resolved: when a later job of the
-- same kind about the same thing succeeds (the order was sent after all),
-- or when someone dismisses it. Health counts only unresolved dead jobs.
ALTER TABLE jobs ADD COLUMN resolved_at TEXT;
ALTER TABLE jobs ADD COLUMN resolved_by TEXT;
