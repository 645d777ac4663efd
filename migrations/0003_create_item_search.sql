-- Item search: a trigram full-text index over item names and codes, so
-- that "any part of the name or code" is answered from an index instead of
-- a scan of every item. External content: the text lives only in `items`;
-- the triggers keep the index in step with it.

CREATE VIRTUAL TABLE items_search USING fts5 (
    name, code,
    content = 'items', content_rowid = 'id',
    tokenize = 'trigram remove_diacritics 1'
);

CREATE TRIGGER items_search_insert AFTER INSERT ON items
BEGIN
    INSERT INTO items_search (rowid, name, code) VALUES (new.id, new.name, new.code);
END;

CREATE TRIGGER items_search_update AFTER UPDATE OF name, code ON items
BEGIN
    INSERT INTO items_search (items_search, rowid, name, code) VALUES ('delete', old.id, old.name, old.code);
    INSERT INTO items_search (rowid, name, code) VALUES (new.id, new.name, new.code);
END;

CREATE TRIGGER items_search_delete AFTER DELETE ON items
BEGIN
    INSERT INTO items_search (items_search, rowid, name, code) VALUES ('delete', old.id, old.name, old.code);
END;

INSERT INTO items_search (items_search) VALUES ('rebuild');

-- Suppliers' codes are searched too (a manager types what the invoice says).
CREATE INDEX supplier_items_by_code ON supplier_items (supplier_code COLLATE NOCASE);
