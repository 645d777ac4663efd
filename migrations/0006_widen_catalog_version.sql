-- The in-memory item index (src/catalog/search.rs) now also answers the
-- item list's own columns (unit, tracking flags, notes, category name) and
-- reorder points, so `catalog_version` must move whenever any of them
-- changes: every update of an item, any deletion, a category's rename, and
-- every change to a reorder point.

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

-- Reorder points are held in the same copy, for the list's "low" flag.
CREATE TRIGGER catalog_version_target_insert AFTER INSERT ON item_locations
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER catalog_version_target_update AFTER UPDATE ON item_locations
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER catalog_version_target_delete AFTER DELETE ON item_locations
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;
