-- Catalog (items, packs, categories, suppliers), locations with access
-- lists, and the stock ledger. Quantities are integers in the item's
-- stocking unit; money is integer minor units. Nothing with history is
-- deleted: rows are deactivated.

CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    category_id INTEGER REFERENCES categories (id),
    -- The stocking unit every quantity of this item is counted in.
    unit TEXT NOT NULL,
    lot_tracked INTEGER NOT NULL DEFAULT 0 CHECK (lot_tracked IN (0, 1)),
    expiry_tracked INTEGER NOT NULL DEFAULT 0 CHECK (expiry_tracked IN (0, 1)),
    notes TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX items_by_name ON items (name COLLATE NOCASE);
CREATE INDEX items_by_category ON items (category_id);

-- Pack levels: "box = 100 each". A pack may carry the GTIN printed on it;
-- scanning that GTIN means `quantity` stocking units.
CREATE TABLE item_packs (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items (id),
    name TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    gtin TEXT UNIQUE CHECK (gtin IS NULL OR (length(gtin) = 14 AND gtin NOT GLOB '*[^0-9]*')),
    UNIQUE (item_id, name)
) STRICT;
CREATE INDEX item_packs_by_item ON item_packs (item_id);

-- A tree: room → cabinet → shelf (or fridge, drawer …).
CREATE TABLE locations (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES locations (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'other'
        CHECK (kind IN ('site', 'room', 'cabinet', 'shelf', 'fridge', 'freezer', 'drawer', 'other')),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX locations_by_parent ON locations (parent_id);

-- A location with rows here is open only to the listed users (admins see
-- everything); the restriction covers the location's whole subtree.
CREATE TABLE location_access (
    location_id INTEGER NOT NULL REFERENCES locations (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (location_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX location_access_by_user ON location_access (user_id);

-- Reorder point and par level per item and location.
CREATE TABLE item_locations (
    item_id INTEGER NOT NULL REFERENCES items (id),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    reorder_point INTEGER NOT NULL DEFAULT 0 CHECK (reorder_point >= 0),
    par_level INTEGER NOT NULL DEFAULT 0 CHECK (par_level >= 0),
    PRIMARY KEY (item_id, location_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE suppliers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    contact_name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    account_number TEXT NOT NULL DEFAULT '',
    lead_time_days INTEGER NOT NULL DEFAULT 0 CHECK (lead_time_days >= 0),
    notes TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE supplier_items (
    id INTEGER PRIMARY KEY,
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id),
    item_id INTEGER NOT NULL REFERENCES items (id),
    supplier_code TEXT NOT NULL,
    -- Stocking units in one pack as the supplier sells it.
    pack_size INTEGER NOT NULL CHECK (pack_size > 0),
    price_minor INTEGER NOT NULL CHECK (price_minor >= 0),
    currency TEXT NOT NULL CHECK (length(currency) = 3 AND currency NOT GLOB '*[^A-Z]*'),
    preferred INTEGER NOT NULL DEFAULT 0 CHECK (preferred IN (0, 1)),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (supplier_id, supplier_code)
) STRICT;
CREATE INDEX supplier_items_by_item ON supplier_items (item_id);

-- The ledger: the truth about stock, append-only. `id` is the ledger
-- position. Lot and expiry are '' when not tracked (so that they can be
-- part of stock_levels' key); expiry is a plain date YYYY-MM-DD.
CREATE TABLE stock_movements (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('receipt', 'consumption', 'adjustment', 'transfer_out',
        'transfer_in', 'count_correction', 'return', 'disposal')),
    item_id INTEGER NOT NULL REFERENCES items (id),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    lot TEXT NOT NULL DEFAULT '',
    expiry TEXT NOT NULL DEFAULT '',
    quantity INTEGER NOT NULL CHECK (quantity <> 0),
    reason TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    -- The other half of a transfer.
    pair_id INTEGER REFERENCES stock_movements (id),
    user_id INTEGER REFERENCES users (id),
    request_id TEXT,
    at TEXT NOT NULL
) STRICT;
CREATE INDEX stock_movements_by_item_location ON stock_movements (item_id, location_id);
CREATE INDEX stock_movements_by_time ON stock_movements (at);
CREATE INDEX stock_movements_by_lot ON stock_movements (lot) WHERE lot <> '';

CREATE TRIGGER stock_movements_append_only_update BEFORE UPDATE ON stock_movements
BEGIN
    SELECT RAISE(ABORT, 'stock movements are append-only');
END;
CREATE TRIGGER stock_movements_append_only_delete BEFORE DELETE ON stock_movements
BEGIN
    SELECT RAISE(ABORT, 'stock movements are append-only');
END;

-- What is where now: always equal to the sum of the ledger per key, never
-- negative; `quarantined` of it may not be used (recalls).
CREATE TABLE stock_levels (
    item_id INTEGER NOT NULL REFERENCES items (id),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    lot TEXT NOT NULL DEFAULT '',
    expiry TEXT NOT NULL DEFAULT '',
    quantity INTEGER NOT NULL CHECK (quantity >= 0),
    quarantined INTEGER NOT NULL DEFAULT 0 CHECK (quarantined >= 0 AND quarantined <= quantity),
    PRIMARY KEY (item_id, location_id, lot, expiry)
) STRICT, WITHOUT ROWID;
CREATE INDEX stock_levels_by_location ON stock_levels (location_id);
CREATE INDEX stock_levels_by_expiry ON stock_levels (expiry) WHERE expiry <> '' AND quantity > 0;
