-- Where an order already queued to be sent goes when its supplier's channel
-- changes before it is sent: the channel it was queued for, kept until the
-- order is sent, or until someone retries it to the new destination.
CREATE TABLE dispatch_pins (
    order_id INTEGER PRIMARY KEY REFERENCES purchase_orders (id),
    channel TEXT NOT NULL,
    settings TEXT NOT NULL CHECK (json_valid(settings)),
    pinned_at TEXT NOT NULL
) STRICT;
