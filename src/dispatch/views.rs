//! What the order page, the receive screen and the supplier page show, read
//! in one go: the order with what sending it has done (its channel, the
//! latest send, the supplier's answers) and, for receiving, the codes its
//! items scan by and the lots ship notices announced; the supplier with its
//! lines, open credits and sending channel. Here because they join orders
//! and the catalog with dispatch, which sits above both.

use std::collections::HashMap;

use rusqlite::Connection;

use super::Channel;
use super::inbox::{Answers, ExpectedLot};
use crate::catalog::items;
use crate::catalog::locations::{self, Location};
use crate::catalog::suppliers::{self, Supplier, SupplierItem};
use crate::db::DbError;
use crate::domain::Permission;
use crate::domain::actor::Actor;
use crate::domain::order::OrderState;
use crate::jobs::Job;
use crate::orders::returns::Credit;
use crate::orders::{self, Order, OrderDetail, OrderLine};

/// The order page.
pub struct OrderView {
    pub detail: OrderDetail,
    /// While a draft the actor may change: the supplier's active lines.
    pub catalogue: Vec<SupplierItem>,
    /// While a draft the actor may change: (id, path) of the open places
    /// they may order for, plus each line's own place.
    pub locations: Vec<(i64, String)>,
    pub channel: Channel,
    /// When it could not be sent and the supplier's channel changed since
    /// it was queued: the channel it was queued for.
    pub queued_for: Option<Channel>,
    /// While queued or failed: the latest job sending it.
    pub job: Option<Job>,
    pub answers: Answers,
}

/// The order page for `actor`; `None` for no such order.
pub fn order(
    c: &Connection,
    actor: &Actor,
    id: i64,
    today: time::Date,
) -> Result<Option<OrderView>, DbError> {
    let Some(detail) = orders::detail_for(c, &actor.places(), id, today)? else {
        return Ok(None);
    };
    let drafting = detail.order.state.editable()
        && actor
            .role()
            .is_some_and(|r| r.may(Permission::RequestOrders));
    let (catalogue, locations) = if drafting {
        let catalogue = suppliers::for_supplier(c, detail.order.supplier_id)?
            .into_iter()
            .filter(|l| l.active)
            .collect();
        let mut places: Vec<(i64, String)> = locations::usable_with_paths(c, actor)?
            .into_iter()
            .filter(|(l, _)| l.active)
            .map(|(l, p)| (l.id, p))
            .collect();
        // A line's current location stays choosable even when the actor
        // may not pick it for new lines.
        for line in &detail.lines {
            if !places.iter().any(|(id, _)| *id == line.location_id) {
                places.push((line.location_id, locations::path_name(c, line.location_id)?));
            }
        }
        (catalogue, places)
    } else {
        (Vec::new(), Vec::new())
    };
    let channel = super::channel_of(c, detail.order.supplier_id)?;
    let job = if matches!(
        detail.order.state,
        OrderState::Queued | OrderState::DispatchFailed
    ) {
        orders::jobs::latest_send(c, id)?
    } else {
        None
    };
    let queued_for = if detail.order.state == OrderState::DispatchFailed {
        super::pinned(c, id)?.filter(|was| *was != channel)
    } else {
        None
    };
    let answers = super::inbox::answers(c, id)?;
    Ok(Some(OrderView {
        detail,
        catalogue,
        locations,
        channel,
        queued_for,
        job,
        answers,
    }))
}

/// The receive screen.
pub struct ReceivingView {
    pub order: Order,
    pub lines: Vec<OrderLine>,
    /// Per item: (GTIN or HIBCC code, units in that pack).
    pub packs: HashMap<i64, Vec<(String, i64)>>,
    /// Open places the actor may receive into, each named by its path.
    pub locations: Vec<Location>,
    /// Lots ship notices announced and no receipt has taken in yet.
    pub expected: Vec<ExpectedLot>,
    /// Lines the ship notices say shipped more of than was ordered.
    pub over_shipped: Vec<String>,
}

/// The receive screen for `actor`; `None` for no such order.
pub fn receiving(
    c: &Connection,
    actor: &Actor,
    id: i64,
    today: time::Date,
) -> Result<Option<ReceivingView>, DbError> {
    let Some(order) = orders::get(c, id, today)? else {
        return Ok(None);
    };
    let places = actor.places();
    if !orders::may_see(c, &places, id)? {
        return Ok(None);
    }
    // Only lines for places the actor may use can be received here.
    let mut lines = orders::lines(c, id)?;
    lines.retain(|l| places.contains(l.location_id));
    let mut packs: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
    for line in &lines {
        if packs.contains_key(&line.item_id) {
            continue;
        }
        let codes = items::packs(c, line.item_id)?
            .into_iter()
            .flat_map(|p| {
                [p.gtin, p.hibcc]
                    .into_iter()
                    .flatten()
                    .map(move |code| (code, p.quantity))
            })
            .collect();
        packs.insert(line.item_id, codes);
    }
    let locations = locations::usable_with_paths(c, actor)?
        .into_iter()
        .filter(|(l, _)| l.active)
        .map(|(mut l, path)| {
            l.name = path;
            l
        })
        .collect();
    let expected = super::inbox::expected_lots(c, id)?;
    let over_shipped = super::inbox::over_shipped(&super::inbox::answers(c, id)?, &lines);
    Ok(Some(ReceivingView {
        order,
        lines,
        packs,
        locations,
        expected,
        over_shipped,
    }))
}

/// The supplier page.
pub struct SupplierView {
    pub supplier: Supplier,
    pub lines: Vec<SupplierItem>,
    /// Credits the supplier still owes.
    pub open_credits: Vec<Credit>,
    pub channel: Channel,
    /// The latest test of the sending channel.
    pub last_test: Option<Job>,
}

/// The supplier page; `None` for no such supplier.
pub fn supplier(c: &Connection, id: i64) -> Result<Option<SupplierView>, DbError> {
    let Some(supplier) = suppliers::get(c, id)? else {
        return Ok(None);
    };
    Ok(Some(SupplierView {
        supplier,
        lines: suppliers::for_supplier(c, id)?,
        open_credits: orders::returns::credits(c, Some(id), true)?,
        channel: super::channel_of(c, id)?,
        last_test: super::last_test(c, id)?,
    }))
}
