-- What EDI suppliers send back, read from their inbox folders: every file
-- stockroom took up (applied or rejected, with the reason), the
-- acknowledgments (855) per order line and the lots shipped (856) per
-- order line.
--
-- A file is known by its content: UNIQUE (supplier_id, sha256) makes each
-- file count once, even when the supplier drops the same file twice or
-- stockroom stops between recording a file and moving it out of the inbox
-- (the next run finds the row and only finishes the move).

CREATE TABLE edi_inbound_files (
    id INTEGER PRIMARY KEY,
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id),
    -- The name it had in the inbox.
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    size INTEGER NOT NULL CHECK (size >= 0),
    -- The transaction sets it held (855, 856, 997 …), space separated;
    -- '' when it could not be read.
    transaction_sets TEXT NOT NULL DEFAULT '',
    -- The order numbers it named, as the supplier wrote them, space separated.
    po_numbers TEXT NOT NULL DEFAULT '',
    -- The first order of this supplier it named, applied or not.
    order_id INTEGER REFERENCES purchase_orders (id),
    outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'rejected')),
    -- Why it was rejected, for the practice's administrator.
    reason TEXT NOT NULL DEFAULT '',
    -- What applying it changed, in words.
    summary TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL,
    UNIQUE (supplier_id, sha256),
    CHECK ((outcome = 'rejected') = (reason <> ''))
) STRICT;

CREATE INDEX edi_inbound_files_by_supplier ON edi_inbound_files (supplier_id, id);
CREATE INDEX edi_inbound_files_by_order ON edi_inbound_files (order_id) WHERE order_id IS NOT NULL;

-- An acknowledgment's answer for one order line. A line split by the
-- supplier (6 accepted, 4 back-ordered) has two rows from the same file; a
-- later acknowledgment's rows supersede an earlier one's for that line.
CREATE TABLE edi_line_acks (
    id INTEGER PRIMARY KEY,
    inbound_file_id INTEGER NOT NULL REFERENCES edi_inbound_files (id),
    order_line_id INTEGER NOT NULL REFERENCES order_lines (id),
    status TEXT NOT NULL
        CHECK (status IN ('accepted', 'backordered', 'rejected', 'substituted', 'changed')),
    -- In the unit the order was sent in (packs, or units for packs of one).
    quantity INTEGER CHECK (quantity IS NULL OR quantity >= 0),
    -- Expected shipment or delivery (YYYY-MM-DD), or ''.
    date TEXT NOT NULL DEFAULT '',
    -- The supplier's code of what comes instead (substituted only).
    substitute_part TEXT NOT NULL DEFAULT '',
    CHECK (status = 'substituted' OR substitute_part = '')
) STRICT;

CREATE INDEX edi_line_acks_by_line ON edi_line_acks (order_line_id);
CREATE INDEX edi_line_acks_by_file ON edi_line_acks (inbound_file_id);

-- What a ship notice says is on its way for one order line: quantity, lot
-- and expiry, which the receive screen fills in until that lot is
-- received. A notice sent again under the same shipment id supersedes the
-- earlier one's rows.
CREATE TABLE edi_shipped_lines (
    id INTEGER PRIMARY KEY,
    inbound_file_id INTEGER NOT NULL REFERENCES edi_inbound_files (id),
    order_line_id INTEGER NOT NULL REFERENCES order_lines (id),
    -- BSN02, the supplier's shipment id.
    shipment_id TEXT NOT NULL,
    -- The supplier's code as shipped (a substitute's, when it differs).
    vendor_part TEXT NOT NULL DEFAULT '',
    -- In the unit the supplier ships in.
    quantity INTEGER NOT NULL CHECK (quantity >= 0),
    lot TEXT NOT NULL DEFAULT '',
    -- YYYY-MM-DD, or ''.
    expiry TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX edi_shipped_lines_by_line ON edi_shipped_lines (order_line_id);
CREATE INDEX edi_shipped_lines_by_file ON edi_shipped_lines (inbound_file_id);
