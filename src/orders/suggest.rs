//! Reorder suggestions: every item and location at or below its reorder
//! point, with the quantity that brings it back to par net of what open
//! orders will still deliver there, rounded up to whole packs of the
//! supplier to order from (the preferred line, else the cheapest per
//! unit), grouped by supplier. One action turns a supplier's group into a
//! draft order; the figures are computed again inside that transaction.

use std::collections::BTreeMap;

use rusqlite::{Connection, Transaction};
use serde::Serialize;

use super::lifecycle::{self, LineInput, NewOrder};
use super::{Env, Order, OrdersError};
use crate::audit::Context;
use crate::db::Cached;
use crate::domain::actor::{Actor, Places};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub item_id: i64,
    pub item_name: String,
    pub item_code: String,
    pub unit: String,
    pub location_id: i64,
    pub location_name: String,
    /// Usable stock there now (quarantined units do not count).
    pub on_hand: i64,
    pub reorder_point: i64,
    pub par_level: i64,
    /// Units open orders will still deliver there.
    pub on_order: i64,
    /// Units needed to reach par (or the reorder point, when par is lower).
    pub need: i64,
    /// The supplier line to order from; none when no supplier sells it.
    pub supplier_item_id: Option<i64>,
    pub supplier_code: String,
    pub pack_size: i64,
    /// Whole packs covering `need`.
    pub packs: i64,
    /// packs × pack_size.
    pub units: i64,
    pub price_minor: i64,
    pub line_total_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SupplierGroup {
    /// None: items no active supplier sells (add a supplier line first).
    pub supplier_id: Option<i64>,
    pub supplier_name: String,
    pub total_minor: i64,
    pub lines: Vec<Suggestion>,
}

struct Line {
    id: i64,
    supplier_id: i64,
    supplier_name: String,
    code: String,
    pack_size: i64,
    price: i64,
}

/// The suggestions for the locations in `places`, grouped by supplier
/// (by name; items without a supplier last).
pub fn suggestions(conn: &Connection, places: &Places) -> rusqlite::Result<Vec<SupplierGroup>> {
    let mut stmt = conn.prepare_cached(
        "SELECT * FROM (
            SELECT t.item_id, i.name, i.code, i.unit, t.location_id, loc.name, t.reorder_point,
                t.par_level,
                (SELECT coalesce(sum(l.quantity - l.quarantined), 0) FROM stock_levels l
                 WHERE l.item_id = t.item_id AND l.location_id = t.location_id) AS on_hand,
                (SELECT coalesce(sum(max(ol.quantity - ol.received - ol.substituted, 0)), 0)
                 FROM order_lines ol JOIN purchase_orders o ON o.id = ol.order_id
                 WHERE ol.item_id = t.item_id AND ol.location_id = t.location_id
                   AND o.state NOT IN ('received', 'closed', 'cancelled')) AS on_order
            FROM item_locations t JOIN items i ON i.id = t.item_id AND i.active = 1
            JOIN locations loc ON loc.id = t.location_id AND loc.active = 1
            WHERE t.reorder_point > 0)
         WHERE on_hand <= reorder_point
         ORDER BY 2 COLLATE NOCASE, 6 COLLATE NOCASE",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, i64>(6)?,
            r.get::<_, i64>(7)?,
            r.get::<_, i64>(8)?,
            r.get::<_, i64>(9)?,
        ))
    })?;
    let mut groups: BTreeMap<(bool, String, i64), SupplierGroup> = BTreeMap::new();
    for row in rows {
        let (
            item_id,
            item_name,
            item_code,
            unit,
            location_id,
            location_name,
            point,
            par,
            on_hand,
            on_order,
        ) = row?;
        if !places.contains(location_id) {
            continue;
        }
        let need = par.max(point) - on_hand - on_order;
        if need <= 0 {
            continue;
        }
        let line = line_for(conn, item_id)?;
        let (packs, pack_size, price) = match &line {
            Some(l) => ((need + l.pack_size - 1) / l.pack_size, l.pack_size, l.price),
            None => (0, 1, 0),
        };
        let key = match &line {
            Some(l) => (false, l.supplier_name.to_lowercase(), l.supplier_id),
            None => (true, String::new(), 0),
        };
        let group = groups.entry(key).or_insert_with(|| SupplierGroup {
            supplier_id: line.as_ref().map(|l| l.supplier_id),
            supplier_name: line
                .as_ref()
                .map(|l| l.supplier_name.clone())
                .unwrap_or_else(|| "No supplier".into()),
            total_minor: 0,
            lines: Vec::new(),
        });
        group.total_minor += packs * price;
        group.lines.push(Suggestion {
            item_id,
            item_name,
            item_code,
            unit,
            location_id,
            location_name,
            on_hand,
            reorder_point: point,
            par_level: par,
            on_order,
            need,
            supplier_item_id: line.as_ref().map(|l| l.id),
            supplier_code: line.as_ref().map(|l| l.code.clone()).unwrap_or_default(),
            pack_size,
            packs,
            units: packs * pack_size,
            price_minor: price,
            line_total_minor: packs * price,
        });
    }
    Ok(groups.into_values().collect())
}

/// The line to order an item from: the preferred one of an active
/// supplier, else the cheapest per stocking unit.
fn line_for(conn: &Connection, item_id: i64) -> rusqlite::Result<Option<Line>> {
    use rusqlite::OptionalExtension;
    conn.row_cached(
        "SELECT si.id, si.supplier_id, s.name, si.supplier_code, si.pack_size, si.price_minor
         FROM supplier_items si JOIN suppliers s ON s.id = si.supplier_id AND s.active = 1
         WHERE si.item_id = ?1 AND si.active = 1
         ORDER BY si.preferred DESC, CAST(si.price_minor AS REAL) / si.pack_size, si.id LIMIT 1",
        [item_id],
        |r| {
            Ok(Line {
                id: r.get(0)?,
                supplier_id: r.get(1)?,
                supplier_name: r.get(2)?,
                code: r.get(3)?,
                pack_size: r.get(4)?,
                price: r.get(5)?,
            })
        },
    )
    .optional()
}

/// Turns the suggestions for one supplier into a draft order (the first
/// `MAX_LINES` of them; the rest stay suggested for another draft).
pub fn draft_from(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    supplier_id: i64,
    places: &Places,
) -> Result<Order, OrdersError> {
    let group = suggestions(tx, places)?
        .into_iter()
        .find(|g| g.supplier_id == Some(supplier_id));
    let Some(group) = group else {
        return Err(OrdersError::refused(
            super::refusals::NOTHING_TO_ORDER,
            "Nothing to order from this supplier: no item it supplies is at or below its reorder point without enough on order",
        ));
    };
    let input = NewOrder {
        supplier_id,
        note: String::new(),
        lines: group
            .lines
            .iter()
            .take(lifecycle::MAX_LINES)
            .map(|s| LineInput {
                supplier_item_id: s.supplier_item_id,
                item_id: None,
                location_id: s.location_id,
                packs: s.packs,
                note: String::new(),
            })
            .collect(),
    };
    lifecycle::create(tx, ctx, env, &input)
}

/// [`suggestions`] for the locations `actor` may order for.
pub fn suggestions_for(conn: &Connection, actor: &Actor) -> rusqlite::Result<Vec<SupplierGroup>> {
    suggestions(conn, &actor.places())
}

/// [`draft_from`] by the actor, for the locations they may order for.
pub fn draft_for(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    supplier_id: i64,
) -> Result<Order, OrdersError> {
    draft_from(tx, ctx, env, supplier_id, &ctx.actor.places())
}
