-- How orders reach each supplier: `manual` (placed by phone or portal and
-- marked as sent), or a channel stockroom sends through (`csv_folder` now;
-- email, X12 EDI and webhook later), with its settings as JSON. Checked in
-- code, so that new channels need no table rebuild.

ALTER TABLE suppliers ADD COLUMN dispatch_channel TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE suppliers ADD COLUMN dispatch_settings TEXT NOT NULL DEFAULT '{}'
    CHECK (json_valid(dispatch_settings));
