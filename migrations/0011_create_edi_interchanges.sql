-- X12 interchanges stockroom has written: one row per delivery (a send
-- job), so a retried send writes the same file with the same control
-- numbers, and numbers are never reused. Control numbers come from
-- number_sequences ('X12', year 0): unique and increasing per installation.

CREATE TABLE edi_interchanges (
    id INTEGER PRIMARY KEY,
    delivery_id TEXT NOT NULL UNIQUE,
    order_id INTEGER REFERENCES purchase_orders (id),
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id),
    transaction_set TEXT NOT NULL CHECK (transaction_set IN ('850')),
    control_number INTEGER NOT NULL UNIQUE CHECK (control_number BETWEEN 1 AND 999999999),
    -- Practice-local date and time written into ISA/GS/BEG.
    local_time TEXT NOT NULL,
    file_name TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE INDEX edi_interchanges_by_order ON edi_interchanges (order_id);
