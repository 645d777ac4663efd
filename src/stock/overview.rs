//! The item list: the catalog searched and filtered, each item with what is
//! on hand in the locations the reader may use.
//!
//! Two steps keep it fast on a large catalog: first the page of matching
//! item ids (text search through the trigram index, GTINs and supplier
//! codes through their indexes), then the stock figures for just those ids.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};
use serde::Serialize;
use time::Date;

use crate::catalog::items::Item;
use crate::domain::barcode::Gtin;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Name,
    Code,
    /// Least on hand first.
    OnHand,
    /// Soonest expiry first; items without expiring stock last.
    Expiry,
}

impl Sort {
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::Code => "code",
            Sort::OnHand => "on_hand",
            Sort::Expiry => "expiry",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Part of the name or code, a GTIN, or a supplier's code.
    pub q: String,
    pub category_id: Option<i64>,
    /// Items with stock (or a reorder point) in this location or below it.
    pub location_id: Option<i64>,
    /// Only items at or below their reorder point somewhere.
    pub low: bool,
    /// Only items with stock expiring on or before this date.
    pub expiring_by: Option<Date>,
    pub include_inactive: bool,
    pub sort: Sort,
}

/// One line of the item list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ItemSummary {
    #[serde(flatten)]
    pub item: Item,
    pub category: Option<String>,
    /// In the stocking unit, in the locations the reader may use.
    pub on_hand: i64,
    /// Of that, quarantined (recalled) and not to be used.
    pub quarantined: i64,
    /// The earliest expiry among the stock on hand (YYYY-MM-DD).
    pub next_expiry: Option<String>,
    /// At or below the reorder point in at least one location.
    pub low: bool,
}

/// "1,2,3": location ids from the database, safe to put in SQL text.
fn id_list(ids: &HashSet<i64>) -> String {
    if ids.is_empty() {
        return "NULL".into();
    }
    let mut s = String::new();
    for (n, id) in ids.iter().enumerate() {
        if n > 0 {
            s.push(',');
        }
        let _ = write!(s, "{id}");
    }
    s
}

/// The trigram index finds substrings of three or more characters; the
/// query is one quoted phrase so that nothing in it is FTS syntax.
fn fts_phrase(q: &str) -> String {
    format!("\"{}\"", q.replace('"', "\"\""))
}

/// `location` and every location below it.
fn subtree(conn: &Connection, location: i64) -> rusqlite::Result<HashSet<i64>> {
    let mut stmt = conn.prepare(
        "WITH RECURSIVE t(id) AS (SELECT ?1 UNION SELECT l.id FROM locations l JOIN t ON l.parent_id = t.id)
         SELECT id FROM t",
    )?;
    stmt.query_map([location], |r| r.get(0))?.collect()
}

/// A page of items matching `filter`, with stock in `allowed` locations,
/// and the number of matches.
pub fn list(
    conn: &Connection,
    filter: &Filter,
    allowed: &HashSet<i64>,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<(Vec<ItemSummary>, i64)> {
    let allowed_sql = id_list(allowed);
    let mut args: Vec<Value> = Vec::new();
    let mut from = String::from("items i");
    let q = filter.q.trim();
    if !q.is_empty() {
        // Every way `q` can name an item, each through an index.
        let mut hits = Vec::new();
        if q.chars().count() >= 3 {
            args.push(Value::Text(fts_phrase(q)));
            hits.push(format!(
                "SELECT rowid AS id FROM items_search WHERE items_search MATCH ?{}",
                args.len()
            ));
        } else {
            // Too short for trigrams: the code's start or an exact name.
            args.push(Value::Text(q.to_string()));
            let n = args.len();
            hits.push(format!(
                "SELECT id FROM items WHERE code = ?{n} OR name = ?{n} COLLATE NOCASE"
            ));
        }
        if let Ok(g) = Gtin::parse(q) {
            args.push(Value::Text(g.as_str().to_string()));
            hits.push(format!(
                "SELECT item_id AS id FROM item_packs WHERE gtin = ?{}",
                args.len()
            ));
        }
        args.push(Value::Text(q.to_string()));
        hits.push(format!(
            "SELECT item_id AS id FROM supplier_items WHERE supplier_code = ?{} COLLATE NOCASE",
            args.len()
        ));
        from = format!("({}) h JOIN items i ON i.id = h.id", hits.join(" UNION "));
    }
    let mut conds: Vec<String> = Vec::new();
    if !filter.include_inactive {
        conds.push("i.active = 1".into());
    }
    if let Some(c) = filter.category_id {
        args.push(Value::Integer(c));
        conds.push(format!("i.category_id = ?{}", args.len()));
    }
    if let Some(l) = filter.location_id {
        let within: HashSet<i64> = subtree(conn, l)?
            .into_iter()
            .filter(|id| allowed.contains(id))
            .collect();
        let within = id_list(&within);
        conds.push(format!(
            "(i.id IN (SELECT item_id FROM stock_levels WHERE location_id IN ({within}) AND quantity > 0)
              OR i.id IN (SELECT item_id FROM item_locations WHERE location_id IN ({within})))"
        ));
    }
    if filter.low {
        conds.push(format!("i.id IN ({})", low_items_sql(&allowed_sql)));
    }
    if let Some(by) = filter.expiring_by {
        args.push(Value::Text(by.to_string()));
        conds.push(format!(
            "i.id IN (SELECT item_id FROM stock_levels WHERE expiry <> '' AND quantity > 0
                AND expiry <= ?{} AND location_id IN ({allowed_sql}))",
            args.len()
        ));
    }
    let where_sql = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    let order = match filter.sort {
        Sort::Name => "i.name COLLATE NOCASE, i.id".to_string(),
        Sort::Code => "i.code, i.id".to_string(),
        Sort::OnHand => format!(
            "(SELECT coalesce(sum(quantity), 0) FROM stock_levels l
              WHERE l.item_id = i.id AND l.location_id IN ({allowed_sql})), i.name COLLATE NOCASE, i.id"
        ),
        Sort::Expiry => format!(
            "(SELECT min(expiry) FROM stock_levels l WHERE l.item_id = i.id AND l.quantity > 0
               AND l.expiry <> '' AND l.location_id IN ({allowed_sql})) IS NULL,
             (SELECT min(expiry) FROM stock_levels l WHERE l.item_id = i.id AND l.quantity > 0
               AND l.expiry <> '' AND l.location_id IN ({allowed_sql})),
             i.name COLLATE NOCASE, i.id"
        ),
    };
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM {from} {where_sql}"),
        params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    let page_args: Vec<Value> = args
        .iter()
        .cloned()
        .chain([Value::Integer(limit.into()), Value::Integer(offset.into())])
        .collect();
    let ids: Vec<i64> = {
        let mut stmt = conn.prepare(&format!(
            "SELECT i.id FROM {from} {where_sql} ORDER BY {order} LIMIT ?{} OFFSET ?{}",
            args.len() + 1,
            args.len() + 2
        ))?;
        stmt.query_map(params_from_iter(page_args.iter()), |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    Ok((summaries(conn, &ids, &allowed_sql)?, total))
}

/// Items at or below their reorder point in a location `allowed_sql` lists.
fn low_items_sql(allowed_sql: &str) -> String {
    format!(
        "SELECT t.item_id FROM item_locations t
         WHERE t.reorder_point > 0 AND t.location_id IN ({allowed_sql})
           AND (SELECT coalesce(sum(l.quantity - l.quarantined), 0) FROM stock_levels l
                WHERE l.item_id = t.item_id AND l.location_id = t.location_id) <= t.reorder_point"
    )
}

/// The summaries of `ids`, in that order.
fn summaries(
    conn: &Connection,
    ids: &[i64],
    allowed_sql: &str,
) -> rusqlite::Result<Vec<ItemSummary>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let mut stmt = conn.prepare(&format!(
        "SELECT i.id, i.code, i.name, i.category_id, i.unit, i.lot_tracked, i.expiry_tracked, i.notes,
                i.active, c.name,
                (SELECT coalesce(sum(quantity), 0) FROM stock_levels l
                  WHERE l.item_id = i.id AND l.location_id IN ({allowed_sql})),
                (SELECT coalesce(sum(quarantined), 0) FROM stock_levels l
                  WHERE l.item_id = i.id AND l.location_id IN ({allowed_sql})),
                (SELECT min(expiry) FROM stock_levels l WHERE l.item_id = i.id AND l.quantity > 0
                  AND l.expiry <> '' AND l.location_id IN ({allowed_sql})),
                i.id IN ({low})
         FROM items i LEFT JOIN categories c ON c.id = i.category_id
         WHERE i.id IN ({list})",
        low = low_items_sql(allowed_sql).replace(
            "WHERE t.reorder_point > 0",
            "WHERE t.item_id = i.id AND t.reorder_point > 0"
        ),
    ))?;
    let mut by_id: HashMap<i64, ItemSummary> = stmt
        .query_map([], |r| {
            Ok(ItemSummary {
                item: Item {
                    id: r.get(0)?,
                    code: r.get(1)?,
                    name: r.get(2)?,
                    category_id: r.get(3)?,
                    unit: r.get(4)?,
                    lot_tracked: r.get(5)?,
                    expiry_tracked: r.get(6)?,
                    notes: r.get(7)?,
                    active: r.get(8)?,
                },
                category: r.get(9)?,
                on_hand: r.get(10)?,
                quarantined: r.get(11)?,
                next_expiry: r.get(12)?,
                low: r.get(13)?,
            })
        })?
        .map(|s| s.map(|s| (s.item.id, s)))
        .collect::<Result<_, _>>()?;
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}
