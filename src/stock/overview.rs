//! The item list: the catalog searched and filtered, each item with what is
//! on hand in the locations the reader may use.
//!
//! Two steps keep it fast on a large catalog: first the page of matching
//! item ids (text search through the trigram index, GTINs and supplier
//! codes through their indexes), then the stock figures for just those ids.

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;
use rusqlite::types::Value;
use serde::Serialize;
use time::Date;

use crate::catalog::items::{self, Item};
use crate::catalog::search::{Index, SearchCache, fold};
use crate::db::id_array;
use crate::domain::barcode::PackCode;

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

impl ItemSummary {
    fn new(item: Item, category: Option<String>) -> ItemSummary {
        ItemSummary {
            item,
            category,
            on_hand: 0,
            quarantined: 0,
            next_expiry: None,
            low: false,
        }
    }
}

/// `location` and every location below it.
fn subtree(conn: &Connection, location: i64) -> rusqlite::Result<HashSet<i64>> {
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE t(id) AS (SELECT ?1 UNION SELECT l.id FROM locations l JOIN t ON l.parent_id = t.id)
         SELECT id FROM t",
    )?;
    stmt.query_map([location], |r| r.get(0))?.collect()
}

/// A page of items matching `filter`, with stock in `allowed` locations,
/// and the number of matches.
///
/// Text is matched in memory ([`SearchCache`]); GTINs and supplier codes
/// through their indexes. A plain search (by name order, no stock filter)
/// is answered from those alone; otherwise the matches go into SQL as one
/// `rarray` parameter with the other filters. Statement texts depend only on
/// which filters are set, so each is compiled once per connection.
pub fn list(
    conn: &Connection,
    search: &SearchCache,
    filter: &Filter,
    allowed: &HashSet<i64>,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<(Vec<ItemSummary>, i64)> {
    let q = filter.q.trim();
    let stock_filters = filter.location_id.is_some() || filter.low || filter.expiring_by.is_some();
    let mut hits: Option<Vec<i64>> = None;
    let index = search.index(conn)?;
    if !q.is_empty() {
        let mut positions = index.positions(&fold(q));
        for id in exact_hits(conn, q)? {
            if let Some(p) = index.position_of(id) {
                positions.push(p);
            }
        }
        positions.sort_unstable();
        positions.dedup();
        positions.retain(|p| index.keeps(*p, filter.include_inactive, filter.category_id));
        if filter.sort == Sort::Name && !stock_filters {
            let total = positions.len() as i64;
            let ids: Vec<i64> = positions
                .into_iter()
                .skip(offset as usize)
                .take(limit as usize)
                .map(|p| index.id_at(p))
                .collect();
            return Ok((summaries(conn, &index, &ids, allowed)?, total));
        }
        hits = Some(positions.into_iter().map(|p| index.id_at(p)).collect());
    }

    // ?1 is always the reader's locations.
    let mut args: Vec<Value> = Vec::new();
    let mut arrays: Vec<std::rc::Rc<Vec<Value>>> = vec![id_array(allowed)];
    let mut binds: Vec<Bind> = vec![Bind::Array(0)];
    let next =
        |args: &Vec<Value>, arrays: &Vec<std::rc::Rc<Vec<Value>>>| args.len() + arrays.len() + 1;
    let mut conds: Vec<String> = Vec::new();
    if let Some(h) = &hits {
        conds.push(format!("i.id IN rarray(?{})", next(&args, &arrays)));
        arrays.push(id_array(h));
        binds.push(Bind::Array(arrays.len() - 1));
    }
    if !filter.include_inactive {
        conds.push("i.active = 1".into());
    }
    if let Some(c) = filter.category_id {
        conds.push(format!("i.category_id = ?{}", next(&args, &arrays)));
        args.push(Value::Integer(c));
        binds.push(Bind::Arg(args.len() - 1));
    }
    if let Some(l) = filter.location_id {
        let within: HashSet<i64> = subtree(conn, l)?
            .into_iter()
            .filter(|id| allowed.contains(id))
            .collect();
        let n = next(&args, &arrays);
        conds.push(format!(
            "(i.id IN (SELECT item_id FROM stock_levels WHERE location_id IN rarray(?{n}) AND quantity > 0)
              OR i.id IN (SELECT item_id FROM item_locations WHERE location_id IN rarray(?{n})))"
        ));
        arrays.push(id_array(&within));
        binds.push(Bind::Array(arrays.len() - 1));
    }
    if filter.low {
        conds.push(format!("i.id IN ({LOW_ITEMS})"));
    }
    if let Some(by) = filter.expiring_by {
        conds.push(format!(
            "i.id IN (SELECT item_id FROM stock_levels WHERE expiry <> '' AND quantity > 0
                AND expiry <= ?{} AND location_id IN rarray(?1))",
            next(&args, &arrays)
        ));
        args.push(Value::Text(by.to_string()));
        binds.push(Bind::Arg(args.len() - 1));
    }
    // `?1` must appear in every statement for the numbering to hold.
    conds.push("(?1 IS NULL OR ?1 IS NOT NULL)".into());
    let where_sql = conds.join(" AND ");
    let order = match filter.sort {
        Sort::Name => "i.name COLLATE NOCASE, i.id",
        Sort::Code => "i.code, i.id",
        Sort::OnHand => {
            "(SELECT coalesce(sum(quantity), 0) FROM stock_levels l
              WHERE l.item_id = i.id AND l.location_id IN rarray(?1)), i.name COLLATE NOCASE, i.id"
        }
        Sort::Expiry => {
            "(SELECT min(expiry) FROM stock_levels l WHERE l.item_id = i.id AND l.quantity > 0
               AND l.expiry <> '' AND l.location_id IN rarray(?1)) IS NULL,
             (SELECT min(expiry) FROM stock_levels l WHERE l.item_id = i.id AND l.quantity > 0
               AND l.expiry <> '' AND l.location_id IN rarray(?1)),
             i.name COLLATE NOCASE, i.id"
        }
    };
    let mut params: Vec<&dyn rusqlite::ToSql> = binds
        .iter()
        .map(|b| match b {
            Bind::Arg(i) => &args[*i] as &dyn rusqlite::ToSql,
            Bind::Array(i) => &arrays[*i] as &dyn rusqlite::ToSql,
        })
        .collect();
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) FROM items i WHERE {where_sql}"))?
        .query_row(params.as_slice(), |r| r.get(0))?;
    let (lim, off) = (i64::from(limit), i64::from(offset));
    params.push(&lim);
    params.push(&off);
    let n = params.len();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT i.id FROM items i WHERE {where_sql} ORDER BY {order} LIMIT ?{} OFFSET ?{n}",
        n - 1
    ))?;
    let ids = stmt
        .query_map(params.as_slice(), |r| r.get(0))?
        .collect::<Result<Vec<i64>, _>>()?;
    Ok((summaries(conn, &index, &ids, allowed)?, total))
}

/// Items `q` names exactly: by a pack's GTIN (any length) or HIBCC
/// primary label, or a supplier's code.
fn exact_hits(conn: &Connection, q: &str) -> rusqlite::Result<Vec<i64>> {
    let mut out = Vec::new();
    // The year only matters for dates, which are not used here.
    if let Ok(code) = PackCode::parse(q, 2000)
        && let Some(pack) = items::find_by_pack_code(conn, &code)?
    {
        out.push(pack.item_id);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT item_id FROM supplier_items WHERE supplier_code = ?1 COLLATE NOCASE",
    )?;
    for id in stmt.query_map([q], |r| r.get(0))? {
        out.push(id?);
    }
    Ok(out)
}

/// Where a placeholder's value comes from.
enum Bind {
    Arg(usize),
    Array(usize),
}

/// Items at or below their reorder point in one of the locations `?1`
/// lists (usable stock: quarantined units do not count).
const LOW_ITEMS: &str = "SELECT t.item_id FROM item_locations t
     WHERE t.reorder_point > 0 AND t.location_id IN rarray(?1)
       AND (SELECT coalesce(sum(l.quantity - l.quarantined), 0) FROM stock_levels l
            WHERE l.item_id = t.item_id AND l.location_id = t.location_id) <= t.reorder_point";

pub(crate) const SUMMARY_ITEMS_SQL: &str =
    "SELECT i.id, i.code, i.name, i.category_id, i.unit, i.lot_tracked, i.expiry_tracked, i.notes,
                i.active, c.name
         FROM rarray(?1) r CROSS JOIN items i ON i.id = r.value
         LEFT JOIN categories c ON c.id = i.category_id";
pub(crate) const SUMMARY_LEVELS_SQL: &str =
    "SELECT l.item_id, l.location_id, l.quantity, l.quarantined, l.expiry
         FROM rarray(?1) r CROSS JOIN stock_levels l ON l.item_id = r.value
         WHERE l.quantity > 0";
pub(crate) const SUMMARY_TARGETS_SQL: &str = "SELECT t.item_id, t.location_id, t.reorder_point
         FROM rarray(?1) r CROSS JOIN item_locations t ON t.item_id = r.value
         WHERE t.reorder_point > 0";

/// The summaries of `ids`, in that order: the items' own columns and
/// reorder points from the in-memory index, the stock on hand from one
/// indexed read for the whole page, added up here. `CROSS JOIN` keeps the
/// id list as the outer loop (one key lookup per id); with `IN rarray(…)`
/// the planner may scan the whole table instead.
fn summaries(
    conn: &Connection,
    index: &Index,
    ids: &[i64],
    allowed: &HashSet<i64>,
) -> rusqlite::Result<Vec<ItemSummary>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut by_id: HashMap<i64, ItemSummary> = HashMap::with_capacity(ids.len());
    let mut points: Vec<(i64, i64, i64)> = Vec::new();
    let mut missing = Vec::new();
    for id in ids {
        match index.entry(*id) {
            Some(e) => {
                by_id.insert(*id, ItemSummary::new(e.item.clone(), e.category.clone()));
                points.extend(e.reorder_points.iter().map(|(l, p)| (*id, *l, *p)));
            }
            None => missing.push(*id),
        }
    }
    // Only an item created after the index was built (the SQL path below
    // may list one) is read here.
    if !missing.is_empty() {
        let missing = id_array(&missing);
        let mut stmt = conn.prepare_cached(SUMMARY_ITEMS_SQL)?;
        let rows = stmt.query_map([&missing], |r| {
            Ok(ItemSummary::new(
                Item {
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
                r.get(9)?,
            ))
        })?;
        for s in rows {
            let s = s?;
            by_id.insert(s.item.id, s);
        }
        let mut stmt = conn.prepare_cached(SUMMARY_TARGETS_SQL)?;
        let rows = stmt.query_map([&missing], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        for p in rows {
            points.push(p?);
        }
    }
    // Usable units per (item, location), for the reorder points below.
    let mut usable: HashMap<(i64, i64), i64> = HashMap::new();
    let mut stmt = conn.prepare_cached(SUMMARY_LEVELS_SQL)?;
    let mut rows = stmt.query([&id_array(ids)])?;
    while let Some(r) = rows.next()? {
        let (item, location): (i64, i64) = (r.get(0)?, r.get(1)?);
        if !allowed.contains(&location) {
            continue;
        }
        let (quantity, quarantined, expiry): (i64, i64, String) = (r.get(2)?, r.get(3)?, r.get(4)?);
        *usable.entry((item, location)).or_default() += quantity - quarantined;
        if let Some(s) = by_id.get_mut(&item) {
            s.on_hand += quantity;
            s.quarantined += quarantined;
            if !expiry.is_empty() && s.next_expiry.as_ref().is_none_or(|e| expiry < *e) {
                s.next_expiry = Some(expiry);
            }
        }
    }
    for (item, location, point) in points {
        if allowed.contains(&location)
            && usable.get(&(item, location)).copied().unwrap_or(0) <= point
            && let Some(s) = by_id.get_mut(&item)
        {
            s.low = true;
        }
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}
