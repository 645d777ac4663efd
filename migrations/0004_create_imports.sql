-- CSV imports kept between the preview and the commit: the file as
-- uploaded (decoded to UTF-8, byte-order mark removed), who uploaded it and
-- whether it has been committed. A commit re-validates this content; only
-- the uploader may commit it, and only once.

CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('items', 'suppliers', 'supplier_items', 'opening_stock')),
    file_name TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL,
    committed_at TEXT
) STRICT;
CREATE INDEX imports_by_user ON imports (user_id, created_at);
