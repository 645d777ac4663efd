-- The audit log is append-only, as the ledger is: no statement of the
-- application (or injected into it) may change or remove an entry. Someone
-- with write access to the file can drop these triggers; the hash chain and
-- off-box backups are what expose that.
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
