-- Purchase ordering: orders and their lines, the timeline of every
-- transition, approval rules and the steps an order waits for, receipts
-- against orders, returns to suppliers and the credits they owe. Money is
-- integer minor units in the practice currency; quantities are stocking
-- units unless the column says packs. Dates people mean as dates
-- (expected delivery) are YYYY-MM-DD; '' when unknown.

-- Practice settings a manager changes in daily life (name and address on
-- printed orders): one row per key.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Human numbers per kind and year: PO-2026-00042, RET-2026-0007.
CREATE TABLE number_sequences (
    kind TEXT NOT NULL,
    year INTEGER NOT NULL,
    last INTEGER NOT NULL CHECK (last > 0),
    PRIMARY KEY (kind, year)
) STRICT, WITHOUT ROWID;

CREATE TABLE approval_rules (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('amount_over', 'category')),
    amount_minor INTEGER CHECK (amount_minor IS NULL OR amount_minor >= 0),
    category_id INTEGER REFERENCES categories (id),
    role TEXT NOT NULL CHECK (role IN ('manager', 'admin')),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((kind = 'amount_over' AND amount_minor IS NOT NULL AND category_id IS NULL)
        OR (kind = 'category' AND category_id IS NOT NULL AND amount_minor IS NULL))
) STRICT;

CREATE TABLE purchase_orders (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id),
    state TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'approved', 'rejected', 'queued',
        'dispatch_failed', 'sent', 'acknowledged', 'partially_received', 'received', 'closed',
        'cancelled')),
    currency TEXT NOT NULL,
    -- Captured at submission (the sum of the lines' totals); 0 in a draft.
    total_minor INTEGER NOT NULL DEFAULT 0 CHECK (total_minor >= 0),
    -- For the supplier, printed on the order.
    note TEXT NOT NULL DEFAULT '',
    expected_on TEXT NOT NULL DEFAULT '',
    -- How it went out: '' until sent, 'manual' when placed outside stockroom.
    channel TEXT NOT NULL DEFAULT '',
    -- The supplier's reference from their confirmation.
    supplier_reference TEXT NOT NULL DEFAULT '',
    -- Why it was rejected, closed short or cancelled (the latest).
    reason TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users (id),
    submitted_by INTEGER REFERENCES users (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    submitted_at TEXT,
    approved_at TEXT,
    sent_at TEXT,
    acknowledged_at TEXT,
    received_at TEXT,
    closed_at TEXT,
    cancelled_at TEXT
) STRICT;
CREATE INDEX purchase_orders_by_state ON purchase_orders (state, supplier_id);
CREATE INDEX purchase_orders_by_supplier ON purchase_orders (supplier_id, id);

CREATE TABLE order_lines (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES purchase_orders (id),
    item_id INTEGER NOT NULL REFERENCES items (id),
    supplier_item_id INTEGER NOT NULL REFERENCES supplier_items (id),
    -- Where it is meant to go (receiving proposes it).
    location_id INTEGER NOT NULL REFERENCES locations (id),
    -- Copied from the supplier item when the line is written.
    supplier_code TEXT NOT NULL,
    pack_size INTEGER NOT NULL CHECK (pack_size > 0),
    packs INTEGER NOT NULL CHECK (packs > 0),
    -- packs × pack_size.
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    -- Per pack; captured at submission (0 in a draft).
    unit_price_minor INTEGER NOT NULL DEFAULT 0 CHECK (unit_price_minor >= 0),
    line_total_minor INTEGER NOT NULL DEFAULT 0 CHECK (line_total_minor >= 0),
    -- What arrived so far: good stock of this item, damaged (not stocked),
    -- and units of another item sent in its place.
    received INTEGER NOT NULL DEFAULT 0 CHECK (received >= 0),
    damaged INTEGER NOT NULL DEFAULT 0 CHECK (damaged >= 0),
    substituted INTEGER NOT NULL DEFAULT 0 CHECK (substituted >= 0),
    note TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX order_lines_by_order ON order_lines (order_id);
CREATE INDEX order_lines_by_item ON order_lines (item_id, location_id);

-- The timeline: every transition and receipt, who, when and why.
CREATE TABLE order_events (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES purchase_orders (id),
    action TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    -- Who: a user's display name, "system", or "supplier".
    actor TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id),
    reason TEXT NOT NULL DEFAULT '',
    receipt_id INTEGER,
    at TEXT NOT NULL
) STRICT;
CREATE INDEX order_events_by_order ON order_events (order_id, id);

-- The approval steps an order needs, fixed at submission: one per role.
CREATE TABLE order_approvals (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES purchase_orders (id),
    role TEXT NOT NULL CHECK (role IN ('manager', 'admin')),
    -- Why: the rules as they read at submission.
    rules TEXT NOT NULL,
    approver_id INTEGER REFERENCES users (id),
    decided_at TEXT,
    -- Cleared steps of an earlier submission stay, marked superseded.
    superseded INTEGER NOT NULL DEFAULT 0 CHECK (superseded IN (0, 1))
) STRICT;
CREATE INDEX order_approvals_by_order ON order_approvals (order_id);
CREATE INDEX order_approvals_open ON order_approvals (role) WHERE approver_id IS NULL AND superseded = 0;

CREATE TABLE receipts (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES purchase_orders (id),
    -- The supplier's delivery note number, if given.
    delivery_note TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    user_id INTEGER REFERENCES users (id),
    at TEXT NOT NULL
) STRICT;
CREATE INDEX receipts_by_order ON receipts (order_id);

CREATE TABLE receipt_lines (
    id INTEGER PRIMARY KEY,
    receipt_id INTEGER NOT NULL REFERENCES receipts (id),
    order_line_id INTEGER NOT NULL REFERENCES order_lines (id),
    -- The item that arrived: the line's own, or its substitute.
    item_id INTEGER NOT NULL REFERENCES items (id),
    substitute INTEGER NOT NULL DEFAULT 0 CHECK (substitute IN (0, 1)),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    lot TEXT NOT NULL DEFAULT '',
    expiry TEXT NOT NULL DEFAULT '',
    quantity INTEGER NOT NULL CHECK (quantity >= 0),
    damaged INTEGER NOT NULL DEFAULT 0 CHECK (damaged >= 0),
    -- The receipt movement (none when only damaged goods came).
    movement_id INTEGER REFERENCES stock_movements (id),
    CHECK (quantity > 0 OR damaged > 0)
) STRICT;
CREATE INDEX receipt_lines_by_receipt ON receipt_lines (receipt_id);
CREATE INDEX receipt_lines_by_order_line ON receipt_lines (order_line_id);

CREATE TABLE supplier_returns (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id),
    order_id INTEGER REFERENCES purchase_orders (id),
    reason TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    user_id INTEGER REFERENCES users (id),
    at TEXT NOT NULL
) STRICT;
CREATE INDEX supplier_returns_by_supplier ON supplier_returns (supplier_id);

CREATE TABLE return_lines (
    id INTEGER PRIMARY KEY,
    return_id INTEGER NOT NULL REFERENCES supplier_returns (id),
    item_id INTEGER NOT NULL REFERENCES items (id),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    lot TEXT NOT NULL DEFAULT '',
    expiry TEXT NOT NULL DEFAULT '',
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    movement_id INTEGER NOT NULL REFERENCES stock_movements (id)
) STRICT;
CREATE INDEX return_lines_by_return ON return_lines (return_id);

-- What a supplier owes us: for a return, or for goods that came damaged.
CREATE TABLE credits (
    id INTEGER PRIMARY KEY,
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id),
    return_id INTEGER REFERENCES supplier_returns (id),
    order_id INTEGER REFERENCES purchase_orders (id),
    expected_minor INTEGER NOT NULL CHECK (expected_minor >= 0),
    credit_note TEXT NOT NULL DEFAULT '',
    received_minor INTEGER CHECK (received_minor IS NULL OR received_minor >= 0),
    received_on TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX credits_open_by_supplier ON credits (supplier_id) WHERE received_minor IS NULL;
