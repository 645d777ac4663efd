-- The lane a job runs in: for sending, the channel it goes by (email, a CSV
-- folder, a webhook, EDI). A lane may use at most half of its kind's slots,
-- so one stalled mail server cannot hold every slot while an order to a
-- folder waits behind it. NULL: no lane (any slot).
ALTER TABLE jobs ADD COLUMN lane TEXT;
