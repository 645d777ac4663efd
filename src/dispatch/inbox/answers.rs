//! Reading back what suppliers answered: per order, each line's latest
//! acknowledgment and the ship notices (for the order page), the shipped
//! lots not received yet (for the receive screen), and the files taken up
//! per supplier (for the admin page).

use std::collections::HashMap;

use rusqlite::{Connection, params};
use serde::Serialize;

/// One line's answer from an acknowledgment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineAnswer {
    pub order_line_id: i64,
    /// accepted, backordered, rejected, substituted or changed.
    pub status: String,
    /// In the unit the order was sent in.
    pub quantity: Option<i64>,
    /// YYYY-MM-DD, or empty.
    pub date: String,
    /// The supplier's code of what comes instead.
    pub substitute_part: String,
}

impl LineAnswer {
    /// "back-ordered until 2026-01-30", "substituted by MK-3" …
    pub fn describe(&self) -> String {
        let mut s = match self.status.as_str() {
            "backordered" if !self.date.is_empty() => {
                format!("back-ordered until {}", self.date)
            }
            "backordered" => "back-ordered".into(),
            "substituted" => format!("substituted by {}", self.substitute_part),
            other => other.to_string(),
        };
        if let Some(q) = self.quantity {
            s = format!("{q} {s}");
        }
        if !self.date.is_empty() && self.status != "backordered" {
            s.push_str(&format!(" (expected {})", self.date));
        }
        s
    }
}

/// One shipped item of a ship notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShippedLine {
    pub order_line_id: i64,
    pub vendor_part: String,
    /// In the unit the supplier ships in.
    pub quantity: i64,
    pub lot: String,
    pub expiry: String,
}

/// A ship notice for one order, as last sent under its shipment id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shipment {
    pub shipment_id: String,
    pub received_at: String,
    pub file_name: String,
    pub lines: Vec<ShippedLine>,
}

/// What the supplier answered to one order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Answers {
    /// Each line's answers from the newest acknowledgment that named it
    /// (two for a line split in two).
    pub lines: Vec<LineAnswer>,
    pub shipments: Vec<Shipment>,
}

impl Answers {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.shipments.is_empty()
    }

    pub fn for_line(&self, order_line_id: i64) -> Vec<&LineAnswer> {
        self.lines
            .iter()
            .filter(|a| a.order_line_id == order_line_id)
            .collect()
    }
}

/// The supplier's answers to `order_id`.
/// Lines that ship notices say shipped more of than was ordered, in words
/// ("Gloves M (GL-100): 99 shipped, 1 ordered"), summed over every ship
/// notice and compared in the unit the order was sent in (packs; units
/// for items ordered one by one).
pub fn over_shipped(answers: &Answers, lines: &[crate::orders::OrderLine]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| {
            let shipped: i64 = answers
                .shipments
                .iter()
                .flat_map(|s| &s.lines)
                .filter(|s| s.order_line_id == l.id)
                .map(|s| s.quantity)
                .sum();
            (shipped > l.packs).then(|| {
                format!(
                    "{} ({}): {shipped} shipped, {} ordered",
                    l.item_name, l.supplier_code, l.packs
                )
            })
        })
        .collect()
}

pub fn answers(conn: &Connection, order_id: i64) -> rusqlite::Result<Answers> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.order_line_id, a.status, a.quantity, a.date, a.substitute_part, a.inbound_file_id
         FROM edi_line_acks a JOIN order_lines l ON l.id = a.order_line_id
         WHERE l.order_id = ?1 ORDER BY a.id",
    )?;
    let all: Vec<(LineAnswer, i64)> = stmt
        .query_map([order_id], |r| {
            Ok((
                LineAnswer {
                    order_line_id: r.get(0)?,
                    status: r.get(1)?,
                    quantity: r.get(2)?,
                    date: r.get(3)?,
                    substitute_part: r.get(4)?,
                },
                r.get(5)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut newest: HashMap<i64, i64> = HashMap::new();
    for (a, file) in &all {
        let n = newest.entry(a.order_line_id).or_insert(*file);
        *n = (*n).max(*file);
    }
    let lines = all
        .into_iter()
        .filter(|(a, file)| newest.get(&a.order_line_id) == Some(file))
        .map(|(a, _)| a)
        .collect();
    Ok(Answers {
        lines,
        shipments: shipments(conn, order_id)?,
    })
}

/// The order's ship notices, each as its newest file has it, oldest first.
fn shipments(conn: &Connection, order_id: i64) -> rusqlite::Result<Vec<Shipment>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.shipment_id, s.inbound_file_id, f.received_at, f.file_name, s.order_line_id,
            s.vendor_part, s.quantity, s.lot, s.expiry
         FROM edi_shipped_lines s JOIN order_lines l ON l.id = s.order_line_id
         JOIN edi_inbound_files f ON f.id = s.inbound_file_id
         WHERE l.order_id = ?1 ORDER BY s.inbound_file_id, s.id",
    )?;
    let mut out: Vec<(i64, Shipment)> = Vec::new();
    let rows = stmt.query_map([order_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            ShippedLine {
                order_line_id: r.get(4)?,
                vendor_part: r.get(5)?,
                quantity: r.get(6)?,
                lot: r.get(7)?,
                expiry: r.get(8)?,
            },
        ))
    })?;
    for row in rows {
        let (shipment_id, file, received_at, file_name, line) = row?;
        match out.iter_mut().find(|(_, s)| s.shipment_id == shipment_id) {
            // The same notice sent again: the newer file replaces it.
            Some((f, s)) if *f != file => {
                *f = file;
                *s = Shipment {
                    shipment_id,
                    received_at,
                    file_name,
                    lines: vec![line],
                };
            }
            Some((_, s)) => s.lines.push(line),
            None => out.push((
                file,
                Shipment {
                    shipment_id,
                    received_at,
                    file_name,
                    lines: vec![line],
                },
            )),
        }
    }
    Ok(out.into_iter().map(|(_, s)| s).collect())
}

/// A lot a ship notice announced for an order line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedLot {
    pub order_line_id: i64,
    pub lot: String,
    /// YYYY-MM-DD, or empty.
    pub expiry: String,
    /// As shipped, in the supplier's unit.
    pub quantity: i64,
    pub shipment_id: String,
}

/// The lots ship notices announced for `order_id` that no receipt of the
/// line has taken in yet (a lot, or for items without one an expiry),
/// one per line, lot and expiry.
pub fn expected_lots(conn: &Connection, order_id: i64) -> rusqlite::Result<Vec<ExpectedLot>> {
    let mut received = conn.prepare_cached(
        "SELECT rl.order_line_id, upper(trim(rl.lot)), rl.expiry FROM receipt_lines rl
         JOIN order_lines l ON l.id = rl.order_line_id WHERE l.order_id = ?1",
    )?;
    let received: Vec<(i64, String, String)> = received
        .query_map(params![order_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut out: Vec<ExpectedLot> = Vec::new();
    for s in shipments(conn, order_id)? {
        for l in s.lines {
            if l.lot.is_empty() && l.expiry.is_empty() {
                continue;
            }
            let lot_key = l.lot.trim().to_uppercase();
            let taken_in = received.iter().any(|(line, lot, expiry)| {
                *line == l.order_line_id
                    && if lot_key.is_empty() {
                        *expiry == l.expiry
                    } else {
                        *lot == lot_key
                    }
            });
            if taken_in {
                continue;
            }
            match out.iter_mut().find(|e| {
                e.order_line_id == l.order_line_id
                    && e.lot.to_uppercase() == lot_key
                    && e.expiry == l.expiry
            }) {
                Some(e) => e.quantity += l.quantity,
                None => out.push(ExpectedLot {
                    order_line_id: l.order_line_id,
                    lot: l.lot,
                    expiry: l.expiry,
                    quantity: l.quantity,
                    shipment_id: s.shipment_id.clone(),
                }),
            }
        }
    }
    Ok(out)
}

/// A file taken up from a supplier's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboundFile {
    pub id: i64,
    pub supplier_id: i64,
    pub supplier_name: String,
    pub file_name: String,
    pub transaction_sets: String,
    pub po_numbers: String,
    pub order_id: Option<i64>,
    pub order_number: String,
    /// applied or rejected.
    pub outcome: String,
    pub reason: String,
    pub summary: String,
    pub received_at: String,
}

/// The newest `per_supplier` files of each supplier: rejected first, then
/// newest first, grouped by supplier in id order.
pub fn recent_files(conn: &Connection, per_supplier: u32) -> rusqlite::Result<Vec<InboundFile>> {
    let mut stmt = conn.prepare_cached(
        "SELECT f.id, f.supplier_id, s.name, f.file_name, f.transaction_sets, f.po_numbers,
            f.order_id, coalesce(o.number, ''), f.outcome, f.reason, f.summary, f.received_at
         FROM (SELECT *, row_number() OVER (PARTITION BY supplier_id ORDER BY id DESC) AS n
               FROM edi_inbound_files) f
         JOIN suppliers s ON s.id = f.supplier_id
         LEFT JOIN purchase_orders o ON o.id = f.order_id
         WHERE f.n <= ?1
         ORDER BY f.supplier_id, f.outcome = 'rejected' DESC, f.id DESC",
    )?;
    let rows = stmt.query_map([per_supplier], |r| {
        Ok(InboundFile {
            id: r.get(0)?,
            supplier_id: r.get(1)?,
            supplier_name: r.get(2)?,
            file_name: r.get(3)?,
            transaction_sets: r.get(4)?,
            po_numbers: r.get(5)?,
            order_id: r.get(6)?,
            order_number: r.get(7)?,
            outcome: r.get(8)?,
            reason: r.get(9)?,
            summary: r.get(10)?,
            received_at: r.get(11)?,
        })
    })?;
    rows.collect()
}

/// A supplier's EDI inbox as the admin page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxInfo {
    pub supplier_id: i64,
    pub supplier: String,
    pub folder: String,
    /// Why it is not looked into, when it is not.
    pub problem: Option<String>,
}

/// The suppliers that trade by EDI with an inbox.
pub fn edi_inboxes(conn: &Connection) -> rusqlite::Result<Vec<InboxInfo>> {
    Ok(super::inboxes(conn)?
        .into_iter()
        .map(|i| InboxInfo {
            folder: i.settings.inbox.trim().to_string(),
            supplier_id: i.supplier_id,
            supplier: i.supplier,
            problem: i.conflict,
        })
        .collect())
}
