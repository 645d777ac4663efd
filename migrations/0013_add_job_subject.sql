-- What a job is about — the order it sends, the supplier whose channel it
-- tests — as plain columns with an index, so "the newest send of this
-- order" (the order page asks every few seconds) is an index lookup
-- instead of reading the JSON of every job. Filled on enqueue from the
-- job's typed payload; NULL for jobs about nothing in particular (the
-- digest, the EDI inbox) and for kinds this version does not know.

ALTER TABLE jobs ADD COLUMN subject_type TEXT;
ALTER TABLE jobs ADD COLUMN subject_id INTEGER;

-- Jobs enqueued before this migration: the same subjects, from their
-- payloads (a payload without a whole-number id stays without a subject).
UPDATE jobs SET subject_type = 'order', subject_id = json_extract(payload, '$.order_id')
 WHERE kind IN ('order.dispatch', 'order.cancel_notice')
   AND json_type(payload, '$.order_id') = 'integer';
UPDATE jobs SET subject_type = 'supplier', subject_id = json_extract(payload, '$.supplier_id')
 WHERE kind = 'supplier.dispatch_test'
   AND json_type(payload, '$.supplier_id') = 'integer';

-- The row id rides along in the index, so "newest first" needs no sort.
CREATE INDEX jobs_by_subject ON jobs (subject_type, subject_id, kind)
 WHERE subject_type IS NOT NULL;
