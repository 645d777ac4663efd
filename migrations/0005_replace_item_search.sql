-- Item search moves into memory (src/catalog/search.rs): a scan of every
-- item's folded name and code answers a substring search faster than the
-- trigram index of 0003, finds one- and two-letter parts too, and needs no
-- index maintenance on writes. What it needs is to know when the catalog
-- changed: `catalog_version` counts changes to the searched columns, from
-- whichever process makes them (the server, an import, the CLI).

DROP TRIGGER items_search_insert;
DROP TRIGGER items_search_update;
DROP TRIGGER items_search_delete;
DROP TABLE items_search;

CREATE TABLE catalog_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;
INSERT INTO catalog_version (id, version) VALUES (1, 1);

CREATE TRIGGER catalog_version_item_insert AFTER INSERT ON items
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER catalog_version_item_update AFTER UPDATE OF name, code, active, category_id ON items
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;
