//! Purchase ordering: orders and their lines, the lifecycle (every change
//! of state goes through `domain::order::transition`), approvals, receiving
//! against an order, returns to suppliers and their credits, and reorder
//! suggestions. Service functions take a transaction, the audit context and
//! who acts; each change writes its timeline event and audit row in the
//! same transaction. No HTTP types here.

pub mod check;
pub mod drafting;
pub mod forms;
pub mod jobs;
pub mod lifecycle;
pub mod receiving;
pub mod refusals;
pub mod returns;
pub mod rules;
pub mod suggest;

use crate::domain::actor::Places;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use time::Date;

use crate::db::{Cached, DbError};
use crate::domain::Role;
use crate::domain::order::OrderState;
use crate::domain::refusal::{Code, Refusal};
use crate::stock::StockError;
use crate::validation::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum OrdersError {
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    #[error("no such order")]
    NoSuchOrder,
    /// Another record named in the path does not exist.
    #[error("no such {0}")]
    Missing(&'static str),
    /// An action not allowed now (state, approval rules, role): the code
    /// names the rule, the message says why, and nothing was changed.
    #[error(transparent)]
    Refused(Refusal),
    #[error(transparent)]
    Stock(StockError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl OrdersError {
    /// A refusal with its code and the sentence for this case.
    pub fn refused(code: Code, message: impl Into<String>) -> OrdersError {
        OrdersError::Refused(Refusal::new(code, message))
    }
}

impl From<rusqlite::Error> for OrdersError {
    fn from(e: rusqlite::Error) -> Self {
        OrdersError::Db(DbError::Sqlite(e))
    }
}

impl From<FieldErrors> for OrdersError {
    fn from(e: FieldErrors) -> Self {
        OrdersError::Invalid(e)
    }
}

impl crate::validation::FormError for OrdersError {
    fn into_field_errors(self) -> Result<FieldErrors, Self> {
        match self {
            OrdersError::Invalid(e) => Ok(e),
            other => Err(other),
        }
    }

    fn from_field_errors(errors: FieldErrors) -> Self {
        OrdersError::Invalid(errors)
    }
}

impl From<StockError> for OrdersError {
    fn from(e: StockError) -> Self {
        match e {
            StockError::Invalid(f) => OrdersError::Invalid(f),
            StockError::Db(d) => OrdersError::Db(d),
            e => OrdersError::Stock(e),
        }
    }
}

impl From<crate::catalog::CatalogError> for OrdersError {
    fn from(e: crate::catalog::CatalogError) -> Self {
        use crate::catalog::CatalogError as C;
        match e {
            C::Invalid(f) => OrdersError::Invalid(f),
            C::Db(d) => OrdersError::Db(d),
            other => OrdersError::refused(refusals::RECORD_MISSING, other.to_string()),
        }
    }
}

/// What the practice's configuration and the clock add to a call.
#[derive(Debug, Clone)]
pub struct Env {
    /// The practice's one currency.
    pub currency: String,
    /// Today in the practice's time zone.
    pub today: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Order {
    pub id: i64,
    /// Human number, e.g. PO-2026-00042.
    pub number: String,
    pub supplier_id: i64,
    pub supplier_name: String,
    pub state: OrderState,
    pub currency: String,
    /// Minor units. Captured at submission; for a draft, the lines at
    /// today's catalog prices.
    pub total_minor: i64,
    pub note: String,
    /// Expected delivery (YYYY-MM-DD), or empty.
    pub expected_on: String,
    /// Delivery is expected before today and lines are still open.
    pub overdue: bool,
    /// How it went out: empty until sent, `manual` when placed outside
    /// stockroom.
    pub channel: String,
    pub supplier_reference: String,
    /// Why it was last rejected, closed short or cancelled.
    pub reason: String,
    pub created_by: Option<i64>,
    pub created_by_name: String,
    pub submitted_by: Option<i64>,
    pub created_at: String,
    pub submitted_at: Option<String>,
    pub approved_at: Option<String>,
    pub sent_at: Option<String>,
    pub acknowledged_at: Option<String>,
    pub received_at: Option<String>,
    pub closed_at: Option<String>,
    pub cancelled_at: Option<String>,
}

impl Order {
    pub fn state_label(&self) -> &'static str {
        self.state.label()
    }
}

/// States in which delivery is awaited (overdue applies).
const AWAITING: &str = "('sent', 'acknowledged', 'partially_received')";

fn order_select() -> String {
    format!(
        "SELECT o.id, o.number, o.supplier_id, s.name, o.state, o.currency,
            CASE WHEN o.state IN ('draft', 'rejected') THEN
                (SELECT coalesce(sum(l.packs * si.price_minor), 0) FROM order_lines l
                 JOIN supplier_items si ON si.id = l.supplier_item_id WHERE l.order_id = o.id)
            ELSE o.total_minor END,
            o.note, o.expected_on,
            o.state IN {AWAITING} AND o.expected_on <> '' AND o.expected_on < ?1,
            o.channel, o.supplier_reference, o.reason, o.created_by, coalesce(u.display_name, ''),
            o.submitted_by, o.created_at, o.submitted_at, o.approved_at, o.sent_at,
            o.acknowledged_at, o.received_at, o.closed_at, o.cancelled_at
         FROM purchase_orders o JOIN suppliers s ON s.id = o.supplier_id
         LEFT JOIN users u ON u.id = o.created_by"
    )
}

fn map_order(r: &rusqlite::Row) -> rusqlite::Result<Order> {
    let state: String = r.get(4)?;
    Ok(Order {
        id: r.get(0)?,
        number: r.get(1)?,
        supplier_id: r.get(2)?,
        supplier_name: r.get(3)?,
        state: OrderState::parse(&state).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                4,
                rusqlite::types::Type::Text,
                format!("unknown order state {state}").into(),
            )
        })?,
        currency: r.get(5)?,
        total_minor: r.get(6)?,
        note: r.get(7)?,
        expected_on: r.get(8)?,
        overdue: r.get(9)?,
        channel: r.get(10)?,
        supplier_reference: r.get(11)?,
        reason: r.get(12)?,
        created_by: r.get(13)?,
        created_by_name: r.get(14)?,
        submitted_by: r.get(15)?,
        created_at: r.get(16)?,
        submitted_at: r.get(17)?,
        approved_at: r.get(18)?,
        sent_at: r.get(19)?,
        acknowledged_at: r.get(20)?,
        received_at: r.get(21)?,
        closed_at: r.get(22)?,
        cancelled_at: r.get(23)?,
    })
}

pub fn get(conn: &Connection, id: i64, today: Date) -> rusqlite::Result<Option<Order>> {
    conn.row_cached(
        &format!("{} WHERE o.id = ?2", order_select()),
        params![today.to_string(), id],
        map_order,
    )
    .optional()
}

pub fn find_by_number(
    conn: &Connection,
    number: &str,
    today: Date,
) -> rusqlite::Result<Option<Order>> {
    conn.row_cached(
        &format!("{} WHERE o.number = ?2", order_select()),
        params![today.to_string(), number.trim().to_ascii_uppercase()],
        map_order,
    )
    .optional()
}

/// Stock of an item on its way: a line of an order the supplier has, not
/// yet received in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub order_id: i64,
    pub number: String,
    pub supplier: String,
    pub location_id: i64,
    /// In stocking units.
    pub outstanding: i64,
}

/// What is on its way of `item_id` to the places in `places`, oldest
/// order first: goods that arrive for it belong on that order's receipt,
/// or they are counted twice when the order is received.
pub fn expected(
    conn: &Connection,
    item_id: i64,
    places: &std::collections::HashSet<i64>,
) -> rusqlite::Result<Vec<Expected>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.number, s.name, l.location_id, sum(l.quantity - l.received)
         FROM order_lines l
         JOIN purchase_orders o ON o.id = l.order_id
         JOIN suppliers s ON s.id = o.supplier_id
         WHERE l.item_id = ?1 AND l.quantity > l.received
           AND o.state IN ('sent', 'acknowledged', 'partially_received')
         GROUP BY o.id, l.location_id
         ORDER BY o.id, l.location_id",
    )?;
    let rows = stmt.query_map([item_id], |r| {
        Ok(Expected {
            order_id: r.get(0)?,
            number: r.get(1)?,
            supplier: r.get(2)?,
            location_id: r.get(3)?,
            outstanding: r.get(4)?,
        })
    })?;
    let mut out = Vec::new();
    for row in rows {
        let row = row?;
        if places.contains(&row.location_id) {
            out.push(row);
        }
    }
    Ok(out)
}

/// Which orders a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub states: Vec<OrderState>,
    pub supplier_id: Option<i64>,
    pub overdue: bool,
    /// Part of the order number or the supplier's reference.
    pub number: String,
}

/// Orders matching `filter` that someone with `places` may see (see
/// [`detail_for`]), newest first, and how many match in all.
pub fn list(
    conn: &Connection,
    filter: &Filter,
    places: &Places,
    today: Date,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<(Vec<Order>, i64)> {
    let states: Vec<rusqlite::types::Value> = filter
        .states
        .iter()
        .map(|s| rusqlite::types::Value::Text(s.as_str().into()))
        .collect();
    let where_ = format!(
        "(?2 = 0 OR o.state IN rarray(?3)) AND (?4 IS NULL OR o.supplier_id = ?4)
         AND (?5 = 0 OR (o.state IN {AWAITING} AND o.expected_on <> '' AND o.expected_on < ?1))
         AND (?6 = '' OR instr(o.number, ?6) > 0 OR instr(upper(o.supplier_reference), ?6) > 0)
         AND (?7 = 1 OR NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)
              OR EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id
                         AND l.location_id IN rarray(?8)))"
    );
    let (everywhere, usable) = match places {
        Places::All => (true, Vec::new()),
        Places::Only(ids) => (
            false,
            ids.iter()
                .map(|id| rusqlite::types::Value::Integer(*id))
                .collect(),
        ),
    };
    let number = filter.number.trim().to_uppercase();
    let p = params![
        today.to_string(),
        states.len() as i64,
        std::rc::Rc::new(states),
        filter.supplier_id,
        filter.overdue,
        number,
        everywhere,
        std::rc::Rc::new(usable),
    ];
    let total = conn.row_cached(
        &format!("SELECT count(*) FROM purchase_orders o WHERE {where_}"),
        p,
        |r| r.get(0),
    )?;
    let sql = format!(
        "{} WHERE {where_} ORDER BY o.id DESC LIMIT {limit} OFFSET {offset}",
        order_select()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(p, map_order)?;
    Ok((rows.collect::<Result<_, _>>()?, total))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OrderLine {
    pub id: i64,
    pub order_id: i64,
    pub item_id: i64,
    pub item_name: String,
    pub item_code: String,
    /// The item's stocking unit.
    pub unit: String,
    pub lot_tracked: bool,
    pub expiry_tracked: bool,
    pub supplier_item_id: i64,
    pub supplier_code: String,
    /// Where the goods are meant to go.
    pub location_id: i64,
    pub location_name: String,
    /// Stocking units in one supplier pack.
    pub pack_size: i64,
    pub packs: i64,
    /// packs × pack_size, in stocking units.
    pub quantity: i64,
    /// Per pack, minor units: captured at submission (today's catalog price
    /// while a draft).
    pub unit_price_minor: i64,
    pub line_total_minor: i64,
    /// Good units of this item received so far.
    pub received: i64,
    /// Units that arrived damaged (not stocked).
    pub damaged: i64,
    /// Units of another item received in this line's place.
    pub substituted: i64,
    /// Units still to come: quantity − received − substituted, at least 0.
    pub outstanding: i64,
    pub note: String,
}

const LINE_SELECT: &str = "SELECT l.id, l.order_id, l.item_id, i.name, i.code, i.unit, i.lot_tracked,
        i.expiry_tracked, l.supplier_item_id, l.supplier_code, l.location_id, loc.name, l.pack_size,
        l.packs, l.quantity,
        CASE WHEN o.state IN ('draft', 'rejected') THEN si.price_minor ELSE l.unit_price_minor END,
        CASE WHEN o.state IN ('draft', 'rejected') THEN si.price_minor * l.packs ELSE l.line_total_minor END,
        l.received, l.damaged, l.substituted, l.note
     FROM order_lines l JOIN purchase_orders o ON o.id = l.order_id
     JOIN items i ON i.id = l.item_id JOIN locations loc ON loc.id = l.location_id
     JOIN supplier_items si ON si.id = l.supplier_item_id";

fn map_line(r: &rusqlite::Row) -> rusqlite::Result<OrderLine> {
    let quantity: i64 = r.get(14)?;
    let received: i64 = r.get(17)?;
    let substituted: i64 = r.get(19)?;
    Ok(OrderLine {
        id: r.get(0)?,
        order_id: r.get(1)?,
        item_id: r.get(2)?,
        item_name: r.get(3)?,
        item_code: r.get(4)?,
        unit: r.get(5)?,
        lot_tracked: r.get(6)?,
        expiry_tracked: r.get(7)?,
        supplier_item_id: r.get(8)?,
        supplier_code: r.get(9)?,
        location_id: r.get(10)?,
        location_name: r.get(11)?,
        pack_size: r.get(12)?,
        packs: r.get(13)?,
        quantity,
        unit_price_minor: r.get(15)?,
        line_total_minor: r.get(16)?,
        received,
        damaged: r.get(18)?,
        substituted,
        outstanding: (quantity - received - substituted).max(0),
        note: r.get(20)?,
    })
}

/// The lines of an order, in the order they were added.
pub fn lines(conn: &Connection, order_id: i64) -> rusqlite::Result<Vec<OrderLine>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{LINE_SELECT} WHERE l.order_id = ?1 ORDER BY l.id"
    ))?;
    let rows = stmt.query_map([order_id], map_line)?;
    rows.collect()
}

/// One entry of an order's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: i64,
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    /// Who: a user's name, "stockroom" or "supplier".
    pub actor: String,
    pub user_id: Option<i64>,
    pub reason: String,
    pub receipt_id: Option<i64>,
    pub at: String,
}

pub fn events(conn: &Connection, order_id: i64) -> rusqlite::Result<Vec<Event>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, action, from_state, to_state, actor, user_id, reason, receipt_id, at
         FROM order_events WHERE order_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([order_id], |r| {
        Ok(Event {
            id: r.get(0)?,
            action: r.get(1)?,
            from_state: r.get(2)?,
            to_state: r.get(3)?,
            actor: r.get(4)?,
            user_id: r.get(5)?,
            reason: r.get(6)?,
            receipt_id: r.get(7)?,
            at: r.get(8)?,
        })
    })?;
    rows.collect()
}

/// One approval step of the current submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Approval {
    pub id: i64,
    /// The role that must approve: manager or admin.
    pub role: Role,
    /// The rules that asked for it, as they read at submission.
    pub rules: String,
    pub approver_id: Option<i64>,
    pub approver_name: String,
    pub decided_at: Option<String>,
}

pub fn approvals(conn: &Connection, order_id: i64) -> rusqlite::Result<Vec<Approval>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.role, a.rules, a.approver_id, coalesce(u.display_name, ''), a.decided_at
         FROM order_approvals a LEFT JOIN users u ON u.id = a.approver_id
         WHERE a.order_id = ?1 AND a.superseded = 0 ORDER BY a.id",
    )?;
    let rows = stmt.query_map([order_id], |r| {
        let role: String = r.get(1)?;
        Ok(Approval {
            id: r.get(0)?,
            role: role.parse().unwrap_or(Role::Admin),
            rules: r.get(2)?,
            approver_id: r.get(3)?,
            approver_name: r.get(4)?,
            decided_at: r.get(5)?,
        })
    })?;
    rows.collect()
}

/// An order with everything its page shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderDetail {
    pub order: Order,
    pub lines: Vec<OrderLine>,
    pub approvals: Vec<Approval>,
    pub events: Vec<Event>,
    pub receipts: Vec<receiving::Receipt>,
    /// Lines (and received lines) for places the reader may not use, left
    /// out above; the order's total still counts them.
    #[serde(default)]
    pub hidden_lines: u32,
}

pub fn detail(conn: &Connection, id: i64, today: Date) -> rusqlite::Result<Option<OrderDetail>> {
    let Some(order) = get(conn, id, today)? else {
        return Ok(None);
    };
    Ok(Some(OrderDetail {
        lines: lines(conn, id)?,
        approvals: approvals(conn, id)?,
        events: events(conn, id)?,
        receipts: receiving::receipts(conn, id)?,
        order,
        hidden_lines: 0,
    }))
}

/// How much of an order someone can reach: its lines, and how many of
/// them are at places they may use. The one rule for location access on
/// orders: an order is *seen* when any line is usable (or it has none),
/// with the other lines hidden; it is *decided* (approved, rejected) only
/// by someone who may use every line's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    pub lines: usize,
    pub usable: usize,
}

impl Reach {
    pub fn of(line_places: &[i64], places: &Places) -> Reach {
        Reach {
            lines: line_places.len(),
            usable: line_places.iter().filter(|l| places.contains(**l)).count(),
        }
    }

    /// The order is shown (an order without lines is seen by all who may
    /// see orders).
    pub fn sees(self) -> bool {
        self.lines == 0 || self.usable > 0
    }

    /// Every line is at a usable place: the order may be decided.
    pub fn sees_all(self) -> bool {
        self.usable == self.lines
    }
}

/// [`Reach`] of order `id` for someone with `places`.
pub fn reach(conn: &Connection, places: &Places, id: i64) -> rusqlite::Result<Reach> {
    let mut stmt =
        conn.prepare_cached("SELECT location_id FROM order_lines WHERE order_id = ?1")?;
    let at: Vec<i64> = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Reach::of(&at, places))
}

/// Whether someone with `places` may see order `id` (see [`Reach`]).
pub fn may_see(conn: &Connection, places: &Places, id: i64) -> rusqlite::Result<bool> {
    if matches!(places, Places::All) {
        return Ok(true);
    }
    Ok(reach(conn, places, id)?.sees())
}

/// The order as someone with `places` sees it: lines (and received lines)
/// at places they may not use are left out and counted in `hidden_lines`.
/// `None` when there is no such order, or when every one of its lines is at
/// a place they may not use (an order without lines is seen by all who may
/// see orders).
pub fn detail_for(
    conn: &Connection,
    places: &Places,
    id: i64,
    today: Date,
) -> rusqlite::Result<Option<OrderDetail>> {
    let Some(mut d) = detail(conn, id, today)? else {
        return Ok(None);
    };
    if matches!(places, Places::All) {
        return Ok(Some(d));
    }
    let at: Vec<i64> = d.lines.iter().map(|l| l.location_id).collect();
    let all = at.len();
    if !Reach::of(&at, places).sees() {
        return Ok(None);
    }
    d.lines.retain(|l| places.contains(l.location_id));
    let mut hidden = all - d.lines.len();
    for r in &mut d.receipts {
        let before = r.lines.len();
        r.lines.retain(|l| places.contains(l.location_id));
        hidden += before - r.lines.len();
    }
    d.receipts.retain(|r| !r.lines.is_empty());
    d.hidden_lines = hidden as u32;
    Ok(Some(d))
}

/// The next human number of `kind` in `year`: `PO-2026-00042`.
pub(crate) fn next_number(
    tx: &Transaction,
    kind: &str,
    year: i32,
    width: usize,
) -> rusqlite::Result<String> {
    let n: i64 = tx.row_cached(
        "INSERT INTO number_sequences (kind, year, last) VALUES (?1, ?2, 1)
         ON CONFLICT (kind, year) DO UPDATE SET last = last + 1 RETURNING last",
        params![kind, year],
        |r| r.get(0),
    )?;
    Ok(format!("{kind}-{year}-{n:0width$}"))
}

/// A timeline entry to write.
pub(crate) struct Step<'a> {
    pub action: &'a str,
    pub from: OrderState,
    pub to: OrderState,
    pub reason: &'a str,
    pub receipt_id: Option<i64>,
}

impl<'a> Step<'a> {
    /// A change that keeps the state (a line added, a date changed).
    pub fn within(action: &'a str, state: OrderState) -> Self {
        Step {
            action,
            from: state,
            to: state,
            reason: "",
            receipt_id: None,
        }
    }
}

/// Appends a timeline entry.
pub(crate) fn add_event(
    tx: &Transaction,
    ctx: &crate::audit::Context,
    order_id: i64,
    step: Step,
) -> rusqlite::Result<()> {
    let Step {
        action,
        from,
        to,
        reason,
        receipt_id,
    } = step;
    tx.exec_cached(
        "INSERT INTO order_events (order_id, action, from_state, to_state, actor, user_id, reason,
            receipt_id, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            order_id,
            action,
            from.as_str(),
            to.as_str(),
            ctx.actor.display_name(),
            ctx.actor.user_id(),
            reason,
            receipt_id,
            ctx.at.to_db()
        ],
    )?;
    Ok(())
}

/// The order as it is in the transaction, for a change.
pub(crate) fn for_change(tx: &Transaction, id: i64, today: Date) -> Result<Order, OrdersError> {
    get(tx, id, today)?.ok_or(OrdersError::NoSuchOrder)
}

/// The order `actor` is about to change: for a person, not found (as for
/// the pages) when every line is at a place they may not use (see
/// [`Reach`]). The system and a supplier (answering its own order, checked
/// by its link or its EDI identity) are not bound by locations.
pub(crate) fn for_change_by(
    tx: &Transaction,
    actor: &crate::domain::actor::Actor,
    id: i64,
    today: Date,
) -> Result<Order, OrdersError> {
    let order = for_change(tx, id, today)?;
    if actor.person().is_some() && !reach(tx, &actor.places(), id)?.sees() {
        return Err(OrdersError::NoSuchOrder);
    }
    Ok(order)
}

#[cfg(test)]
mod tests;
