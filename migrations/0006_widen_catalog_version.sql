-- The in-memory item index (src/catalog/search.rs) now also answers the
-- item list's own columns (unit, tracking flags, notes, category name), so
-- `catalog_version` must move whenever any of them changes: every update
-- of an item, any deletion, and a category's rename.

DROP TRIGGER catalog_version_item_update;

CREATE TRIGGER catalog_version_item_update AFTER UPDATE ON items
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER catalog_version_item_delete AFTER DELETE ON items
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER catalog_version_category_update AFTER UPDATE OF name ON categories
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER catalog_version_category_delete AFTER DELETE ON categories
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;
