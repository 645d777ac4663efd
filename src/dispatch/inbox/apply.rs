//! Applying one supplier file in the caller's write transaction: what it
//! says goes onto the orders (through `lifecycle`, as the supplier) and
//! the file's row is written — or, when any part of it cannot be applied,
//! nothing of it is kept and the row says why. Database errors are not
//! rejections: they undo the whole write, and the file is tried again.

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;

use crate::audit::{self, Context, Event};
use crate::db::{Cached, DbError};
use crate::dispatch::x12::Inbound;
use crate::domain::Timestamp;
use crate::domain::actor::Actor;
use crate::domain::order::OrderState;
use crate::orders::lifecycle::{self, HeaderChange};
use crate::orders::{self, Env, Order, OrdersError};

/// A file as read from an inbox.
pub(crate) struct Incoming {
    pub supplier_id: i64,
    pub supplier: String,
    pub file_name: String,
    pub sha256: String,
    pub size: u64,
    /// Its transaction sets, or why it cannot be read.
    pub parsed: Result<Vec<Inbound>, String>,
}

/// How a file was taken up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Applied { summary: String },
    Rejected { reason: String },
}

/// What [`record`] did with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// Recorded before: only its move is left.
    Known(Outcome),
    /// Recorded now.
    New(Outcome),
    /// Not recorded: it is for a later look (the reason is logged).
    Waiting(String),
}

/// Why a part of a file was not applied.
pub(super) enum Problem {
    /// For the admin, in words.
    Reject(String),
    /// Try the whole file again at the next look.
    Wait(String),
    Db(DbError),
}

impl From<rusqlite::Error> for Problem {
    fn from(e: rusqlite::Error) -> Self {
        Problem::Db(DbError::Sqlite(e))
    }
}

impl From<OrdersError> for Problem {
    fn from(e: OrdersError) -> Self {
        match e {
            OrdersError::Db(e) => Problem::Db(e),
            OrdersError::Refused(r) => Problem::Reject(r.message),
            OrdersError::Invalid(f) => Problem::Reject(f.to_string()),
            other => Problem::Reject(other.to_string()),
        }
    }
}

/// The context the supplier's changes are audited under: the supplier
/// through this file.
fn audit_context(now: Timestamp, file: &Incoming) -> Context {
    Context {
        actor: Actor::Supplier {
            via: format!("{} (EDI file {})", file.supplier, file.file_name),
        },
        ip: None,
        request_id: Some(format!("edi-{}", &file.sha256[..16.min(file.sha256.len())])),
        at: now,
    }
}

/// Applies and records `file`, or finds it recorded already.
pub(crate) fn record(
    tx: &Transaction,
    env: &Env,
    now: Timestamp,
    file: &Incoming,
) -> Result<Recorded, DbError> {
    let known: Option<(String, String, String)> = tx
        .row_cached(
            "SELECT outcome, reason, summary FROM edi_inbound_files
             WHERE supplier_id = ?1 AND sha256 = ?2",
            params![file.supplier_id, file.sha256],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if let Some((outcome, reason, summary)) = known {
        return Ok(Recorded::Known(if outcome == "applied" {
            Outcome::Applied { summary }
        } else {
            Outcome::Rejected { reason }
        }));
    }
    let ctx = audit_context(now, file);
    let sets = match &file.parsed {
        Ok(sets) => sets,
        Err(reason) => {
            let outcome = Outcome::Rejected {
                reason: sentence(reason),
            };
            insert(tx, &ctx, file, &Row::default(), &outcome)?;
            return Ok(Recorded::New(outcome));
        }
    };
    let row = Row::of(tx, env, file.supplier_id, sets)?;
    tx.execute_batch("SAVEPOINT edi_apply")?;
    let applied = insert(
        tx,
        &ctx,
        file,
        &row,
        &Outcome::Applied {
            summary: String::new(),
        },
    )
    .map_err(Problem::Db)
    .and_then(|id| apply(tx, &ctx, env, id, file, sets).map(|s| (id, s)));
    match applied {
        Ok((id, summary)) => {
            tx.execute_batch("RELEASE edi_apply")?;
            tx.exec_cached(
                "UPDATE edi_inbound_files SET summary = ?1 WHERE id = ?2",
                params![summary, id],
            )?;
            audit(tx, &ctx, id, file, &row, "applied", "", &summary)?;
            Ok(Recorded::New(Outcome::Applied { summary }))
        }
        Err(problem) => {
            tx.execute_batch("ROLLBACK TO edi_apply; RELEASE edi_apply")?;
            match problem {
                Problem::Reject(reason) => {
                    let outcome = Outcome::Rejected {
                        reason: sentence(&reason),
                    };
                    insert(tx, &ctx, file, &row, &outcome)?;
                    Ok(Recorded::New(outcome))
                }
                Problem::Wait(why) => Ok(Recorded::Waiting(why)),
                Problem::Db(e) => Err(e),
            }
        }
    }
}

/// A capitalised sentence ending with a full stop.
fn sentence(text: &str) -> String {
    let text = crate::validation::capitalised(text.trim());
    if text.ends_with(['.', '!', '?']) {
        text
    } else {
        format!("{text}.")
    }
}

/// What the file row says besides its outcome.
#[derive(Default)]
struct Row {
    transaction_sets: String,
    po_numbers: String,
    order_id: Option<i64>,
}

impl Row {
    fn of(
        tx: &Transaction,
        env: &Env,
        supplier_id: i64,
        sets: &[Inbound],
    ) -> rusqlite::Result<Row> {
        let mut codes: Vec<&str> = Vec::new();
        let mut numbers: Vec<&str> = Vec::new();
        for set in sets {
            let (code, number) = match set {
                Inbound::Ack(a) => ("855", Some(a.po_number.as_str())),
                Inbound::Ship(s) => ("856", Some(s.po_number.as_str())),
                Inbound::Other { code } => (code.as_str(), None),
            };
            if !codes.contains(&code) {
                codes.push(code);
            }
            if let Some(n) = number.filter(|n| !n.is_empty() && !numbers.contains(n)) {
                numbers.push(n);
            }
        }
        let mut order_id = None;
        for n in &numbers {
            if let Some(o) = orders::find_by_number(tx, n, env.today)?
                && o.supplier_id == supplier_id
            {
                order_id = Some(o.id);
                break;
            }
        }
        Ok(Row {
            transaction_sets: codes.join(" "),
            po_numbers: numbers.join(" "),
            order_id,
        })
    }
}

fn insert(
    tx: &Transaction,
    ctx: &Context,
    file: &Incoming,
    row: &Row,
    outcome: &Outcome,
) -> Result<i64, DbError> {
    let (name, reason) = match outcome {
        Outcome::Applied { .. } => ("applied", ""),
        Outcome::Rejected { reason } => ("rejected", reason.as_str()),
    };
    tx.exec_cached(
        "INSERT INTO edi_inbound_files (supplier_id, file_name, sha256, size, transaction_sets,
            po_numbers, order_id, outcome, reason, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            file.supplier_id,
            file.file_name,
            file.sha256,
            file.size as i64,
            row.transaction_sets,
            row.po_numbers,
            row.order_id,
            name,
            reason,
            ctx.at.to_db()
        ],
    )?;
    let id = tx.last_insert_rowid();
    if name == "rejected" {
        audit(tx, ctx, id, file, row, name, reason, "")?;
    }
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
fn audit(
    tx: &Transaction,
    ctx: &Context,
    id: i64,
    file: &Incoming,
    row: &Row,
    outcome: &str,
    reason: &str,
    summary: &str,
) -> rusqlite::Result<()> {
    audit::record(
        tx,
        ctx,
        Event::new("edi.inbound", "edi_inbound_file", id).after(json!({
            "supplier_id": file.supplier_id, "file_name": file.file_name, "sha256": file.sha256,
            "transaction_sets": row.transaction_sets, "po_numbers": row.po_numbers,
            "order_id": row.order_id, "outcome": outcome, "reason": reason, "summary": summary,
        })),
    )?;
    Ok(())
}

/// Applies every transaction set of the file; the summary of what changed.
fn apply(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    file_id: i64,
    file: &Incoming,
    sets: &[Inbound],
) -> Result<String, Problem> {
    let mut done = Vec::new();
    let mut others = Vec::new();
    for set in sets {
        match set {
            Inbound::Ack(a) => done.push(super::ack855::apply(tx, ctx, env, file_id, file, a)?),
            Inbound::Ship(s) => done.push(super::ship856::apply(tx, ctx, env, file_id, file, s)?),
            Inbound::Other { code } => others.push(code.clone()),
        }
    }
    if done.is_empty() {
        return Err(Problem::Reject(match others.as_slice() {
            [] => "the file holds no transaction set".into(),
            codes => format!(
                "the file holds only {} ({}), which stockroom does not read; nothing was changed",
                if codes.len() == 1 {
                    "a transaction set"
                } else {
                    "transaction sets"
                },
                codes.join(", ")
            ),
        }));
    }
    if !others.is_empty() {
        done.push(format!("not read: {}", others.join(", ")));
    }
    Ok(done.join("; "))
}

/// The order `number` names, if it is one of this supplier's.
pub(super) fn order_of(
    tx: &Transaction,
    env: &Env,
    file: &Incoming,
    number: &str,
    what: &str,
) -> Result<Order, Problem> {
    if number.trim().is_empty() {
        return Err(Problem::Reject(format!("the {what} names no order number")));
    }
    let Some(order) = orders::find_by_number(tx, number, env.today)? else {
        return Err(Problem::Reject(format!(
            "the {what} names order {number}, which stockroom does not know: check the order number with {}",
            file.supplier
        )));
    };
    if order.supplier_id != file.supplier_id {
        return Err(Problem::Reject(format!(
            "the {what} names order {}, which was ordered from {}, not from {}",
            order.number, order.supplier_name, file.supplier
        )));
    }
    Ok(order)
}

/// Whether the order can take a supplier's answer now.
pub(super) fn awaited(order: &Order, what: &str) -> Result<(), Problem> {
    match order.state {
        OrderState::Sent | OrderState::Acknowledged | OrderState::PartiallyReceived => Ok(()),
        OrderState::Queued => Err(Problem::Wait(format!(
            "{} is still being sent; the {what} waits for it",
            order.number
        ))),
        state => Err(Problem::Reject(format!(
            "the {what} is for order {}, which is {}: only an order that was sent and is still awaited takes it",
            order.number,
            state.label().to_lowercase()
        ))),
    }
}

pub(super) fn same(a: &str, b: &str) -> bool {
    !b.trim().is_empty() && a.trim().eq_ignore_ascii_case(b.trim())
}

pub(super) fn describe_part(vendor: &str, buyer: &str) -> String {
    match (vendor.trim(), buyer.trim()) {
        ("", "") => "an item without a code".into(),
        (v, "") => format!("their code {v}"),
        ("", b) => format!("our code {b}"),
        (v, b) => format!("their code {v}, our code {b}"),
    }
}

/// Sets the expected delivery as the supplier.
pub(super) fn expect(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    order: &Order,
    date: String,
) -> Result<(), Problem> {
    lifecycle::update_header(
        tx,
        ctx,
        env,
        order.id,
        &HeaderChange {
            note: None,
            expected_on: Some(date),
        },
    )?;
    Ok(())
}
