-- A pack can be named by a HIBCC primary label as well as (or instead of)
-- a GTIN: labeler code, product number and unit of measure, upper case,
-- without the leading `+` and the check character ("A123BJC5D6E71").

ALTER TABLE item_packs ADD COLUMN hibcc TEXT
    CHECK (hibcc IS NULL OR (length(hibcc) BETWEEN 6 AND 23 AND hibcc NOT GLOB '*[^0-9A-Z]*'));

CREATE UNIQUE INDEX item_packs_by_hibcc ON item_packs (hibcc) WHERE hibcc IS NOT NULL;
