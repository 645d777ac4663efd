//! Reading what a supplier sends back: 855 acknowledgments and 856 ship
//! notices, after the envelope check in `syntax`. Only what stockroom uses
//! is read; a value it uses but cannot read (a date that is not a date, a
//! status code it does not know) refuses the file rather than guessing.

use jiff::civil::Date;

use super::X12Error;
use super::syntax::{Segment, Transaction, transactions};

/// One transaction set from a supplier's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    Ack(Ack855),
    Ship(Ship856),
    /// A transaction set stockroom does not read (a 997, an invoice …).
    Other {
        code: String,
    },
}

/// A purchase order acknowledgment (855).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack855 {
    /// BAK03: the order number stockroom sent.
    pub po_number: String,
    /// BAK02: AC with detail and change, AD with detail no change, AK no
    /// detail, RD rejected with detail, RJ rejected …
    pub ack_type: String,
    /// One per ACK segment, so a line split (5 accepted, 5 backordered)
    /// appears twice with the same `line`; a PO1 without ACK reads as one
    /// line with the status of the whole acknowledgment.
    pub lines: Vec<AckLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckLine {
    /// PO101: the line number stockroom sent.
    pub line: String,
    /// BP (or IN): stockroom's item code.
    pub buyer_part: String,
    /// VP (or VN, VC): the supplier's code.
    pub vendor_part: String,
    /// ACK02; for a PO1 without ACK, PO102.
    pub quantity: Option<i64>,
    pub status: LineStatus,
    /// Expected shipment (068) or delivery (067), from ACK04/ACK05 or a DTM
    /// right after the ACK.
    pub date: Option<Date>,
}

/// A line's status (ACK01).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineStatus {
    /// IA, AC, AR, IE (price pending), SP (schedule date pending).
    Accepted,
    /// IB, BP (partly shipped, rest backordered), and the holds IH, IF, IW:
    /// not coming yet.
    Backordered,
    /// IR, ID (deleted), R1–R4.
    Rejected,
    /// IS: another part in its place.
    Substituted { vendor_part: String },
    /// IC, IQ (quantity), IP (price), DR (date): accepted with changes.
    Changed,
}

/// A ship notice (856), one per order it ships: a notice that ships two
/// orders reads as two, with the same `shipment_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ship856 {
    /// PRF01: the order number stockroom sent.
    pub po_number: String,
    /// BSN02.
    pub shipment_id: String,
    /// DTM*017 (estimated delivery), else DTM*011 (shipped).
    pub delivery: Option<Date>,
    pub lines: Vec<ShipLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipLine {
    pub buyer_part: String,
    pub vendor_part: String,
    /// SN102, in the unit the supplier ships in.
    pub quantity: i64,
    /// LIN with qualifier LT, or REF*LT.
    pub lot: Option<String>,
    /// DTM*036.
    pub expiry: Option<Date>,
}

/// The transaction sets of a supplier's file, in order; the whole file is
/// refused when its envelope does not add up or a value cannot be read.
pub fn parse(text: &str) -> Result<Vec<Inbound>, X12Error> {
    let mut out = Vec::new();
    for t in transactions(text)? {
        match t.code.as_str() {
            "855" => out.push(Inbound::Ack(ack(&t)?)),
            "856" => out.extend(ship(&t)?.into_iter().map(Inbound::Ship)),
            _ => out.push(Inbound::Other { code: t.code }),
        }
    }
    Ok(out)
}

/// As [`parse`], for a file from the supplier whose EDI `settings` these
/// are: every interchange and group must come from the supplier's ids and
/// be addressed to the practice's (as agreed in the settings), or the whole
/// file is refused — a file meant for someone else must not touch an order.
pub fn parse_from(text: &str, settings: &super::Settings) -> Result<Vec<Inbound>, X12Error> {
    let theirs = (
        settings.receiver_qualifier.trim(),
        settings.receiver_id.trim(),
    );
    let ours = (settings.sender_qualifier.trim(), settings.sender_id.trim());
    let mut out = Vec::new();
    for t in transactions(text)? {
        let wrong = |what: &str, got: String, want: String| {
            X12Error::Envelope(format!(
                "transaction set {} is {what} {got}, but the supplier's settings say {want}",
                t.code
            ))
        };
        if (t.from.qualifier.as_str(), t.from.id.as_str()) != theirs {
            return Err(wrong(
                "from",
                format!("{}:{} (ISA05/ISA06)", t.from.qualifier, t.from.id),
                format!("{}:{}", theirs.0, theirs.1),
            ));
        }
        if (t.to.qualifier.as_str(), t.to.id.as_str()) != ours {
            return Err(wrong(
                "addressed to",
                format!("{}:{} (ISA07/ISA08)", t.to.qualifier, t.to.id),
                format!("{}:{} (the practice)", ours.0, ours.1),
            ));
        }
        if t.from.group_id != theirs.1 || t.to.group_id != ours.1 {
            return Err(wrong(
                "in a group from/to",
                format!("{} / {} (GS02/GS03)", t.from.group_id, t.to.group_id),
                format!("{} / {}", theirs.1, ours.1),
            ));
        }
        match t.code.as_str() {
            "855" => out.push(Inbound::Ack(ack(&t)?)),
            "856" => out.extend(ship(&t)?.into_iter().map(Inbound::Ship)),
            _ => out.push(Inbound::Other { code: t.code }),
        }
    }
    Ok(out)
}

fn content(s: &Segment, reason: String) -> X12Error {
    X12Error::Content(format!("segment {} ({}): {reason}", s.position, s.id))
}

/// A CCYYMMDD date in element `n` of `s`.
fn date(s: &Segment, n: usize) -> Result<Date, X12Error> {
    let v = s.el(n);
    let wrong = || {
        content(
            s,
            format!("{}{n:02} ({v:?}) is not a date (CCYYMMDD)", s.id),
        )
    };
    if v.len() != 8 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(wrong());
    }
    Date::strptime("%Y%m%d", v).map_err(|_| wrong())
}

/// A whole quantity in element `n` ("12", "12.0"); `None` when empty.
fn quantity(s: &Segment, n: usize) -> Result<Option<i64>, X12Error> {
    let v = s.el(n);
    if v.is_empty() {
        return Ok(None);
    }
    let whole = match v.split_once('.') {
        Some((w, frac)) if frac.bytes().all(|b| b == b'0') => w,
        _ => v,
    };
    whole
        .parse()
        .map(Some)
        .map_err(|_| content(s, format!("{}{n:02} ({v:?}) is not a whole quantity", s.id)))
}

/// Buyer's part, vendor's part and lot from the qualifier/id pairs that
/// start at element `first` (PO106, LIN02, ACK07).
#[derive(Default)]
struct Parts {
    buyer: String,
    vendor: String,
    lot: Option<String>,
    first_id: String,
}

fn parts(s: &Segment, first: usize) -> Parts {
    let mut p = Parts::default();
    let mut n = first;
    while n <= s.elements.len() {
        let (q, id) = (s.el(n), s.el(n + 1).to_string());
        if p.first_id.is_empty() {
            p.first_id = id.clone();
        }
        match q {
            "BP" | "IN" if p.buyer.is_empty() => p.buyer = id,
            "VP" => p.vendor = id,
            "VN" | "VC" if p.vendor.is_empty() => p.vendor = id,
            "LT" if !id.is_empty() => p.lot = Some(id),
            _ => {}
        }
        n += 2;
    }
    p
}

fn status(s: &Segment) -> Result<LineStatus, X12Error> {
    Ok(match s.el(1) {
        "IA" | "AC" | "AR" | "IE" | "SP" => LineStatus::Accepted,
        "IB" | "BP" | "IH" | "IF" | "IW" => LineStatus::Backordered,
        "IR" | "ID" | "R1" | "R2" | "R3" | "R4" => LineStatus::Rejected,
        "IC" | "IQ" | "IP" | "DR" => LineStatus::Changed,
        "IS" => {
            let p = parts(s, 7);
            let vendor_part = if p.vendor.is_empty() {
                p.first_id
            } else {
                p.vendor
            };
            LineStatus::Substituted { vendor_part }
        }
        other => {
            return Err(content(
                s,
                format!("the line status {other:?} (ACK01) is not one stockroom knows"),
            ));
        }
    })
}

fn ack(t: &Transaction) -> Result<Ack855, X12Error> {
    let Some(bak) = t.segments.iter().find(|s| s.id == "BAK") else {
        return Err(X12Error::Content(format!(
            "the acknowledgment ({}) has no BAK segment naming the order",
            t.code
        )));
    };
    let mut a = Ack855 {
        po_number: bak.el(3).to_string(),
        ack_type: bak.el(2).to_string(),
        lines: Vec::new(),
    };
    let whole = if matches!(bak.el(2), "RJ" | "RD") {
        LineStatus::Rejected
    } else {
        LineStatus::Accepted
    };
    // The open PO1, and whether an ACK has answered it.
    let mut open: Option<(AckLine, bool)> = None;
    let mut last_was_ack = false;
    for s in &t.segments {
        match s.id.as_str() {
            "PO1" => {
                if let Some((line, false)) = open.take() {
                    a.lines.push(line);
                }
                let p = parts(s, 6);
                open = Some((
                    AckLine {
                        line: s.el(1).to_string(),
                        buyer_part: p.buyer,
                        vendor_part: p.vendor,
                        quantity: quantity(s, 2)?,
                        status: whole.clone(),
                        date: None,
                    },
                    false,
                ));
            }
            "ACK" => {
                let Some((po1, answered)) = open.as_mut() else {
                    return Err(content(s, "an ACK comes before any PO1 line".into()));
                };
                *answered = true;
                let date = match s.el(4) {
                    "067" | "068" => Some(date(s, 5)?),
                    _ => None,
                };
                a.lines.push(AckLine {
                    quantity: quantity(s, 2)?,
                    status: status(s)?,
                    date,
                    ..po1.clone()
                });
            }
            "DTM" if last_was_ack && matches!(s.el(1), "067" | "068") => {
                let d = date(s, 2)?;
                if let Some(line) = a.lines.last_mut().filter(|l| l.date.is_none()) {
                    line.date = Some(d);
                }
            }
            _ => {}
        }
        last_was_ack = s.id == "ACK" || (last_was_ack && s.id == "DTM");
    }
    if let Some((line, false)) = open {
        a.lines.push(line);
    }
    Ok(a)
}

/// An item level (HL …*I) being read.
struct Pending {
    /// Where its HL is, for messages.
    at: usize,
    parts: Parts,
    /// REF*LT; LIN's LT pair wins.
    lot: Option<String>,
    quantity: Option<i64>,
    expiry: Option<Date>,
}

type Orders = Vec<(String, Vec<ShipLine>)>;

/// Adds a finished item to the last order (an order without a PRF yet when
/// none was opened, refused later).
fn flush(item: Option<Pending>, orders: &mut Orders) -> Result<(), X12Error> {
    let Some(i) = item else {
        return Ok(());
    };
    let Some(quantity) = i.quantity else {
        let part = if i.parts.vendor.is_empty() {
            &i.parts.buyer
        } else {
            &i.parts.vendor
        };
        return Err(X12Error::Content(format!(
            "segment {} (HL): the shipped item {part:?} has no quantity (SN1)",
            i.at
        )));
    };
    if orders.is_empty() {
        orders.push((String::new(), Vec::new()));
    }
    if let Some((_, lines)) = orders.last_mut() {
        lines.push(ShipLine {
            buyer_part: i.parts.buyer,
            vendor_part: i.parts.vendor,
            quantity,
            lot: i.parts.lot.or(i.lot),
            expiry: i.expiry,
        });
    }
    Ok(())
}

fn ship(t: &Transaction) -> Result<Vec<Ship856>, X12Error> {
    let Some(bsn) = t.segments.iter().find(|s| s.id == "BSN") else {
        return Err(X12Error::Content(format!(
            "the ship notice ({}) has no BSN segment",
            t.code
        )));
    };
    let shipment_id = bsn.el(2).to_string();
    // BSN01: 00 original, 05 replace, 06 confirmation, 07 duplicate … are
    // shipments; 01 (cancellation) and 03 (delete) withdraw one, which
    // must not be read as goods on their way.
    if matches!(bsn.el(1), "01" | "03") {
        return Err(X12Error::Content(format!(
            "the ship notice {shipment_id} withdraws an earlier one (BSN01 {:?}); stockroom does not take ship notices back: check the delivery with the supplier",
            bsn.el(1)
        )));
    }
    let (mut estimated, mut shipped) = (None, None);
    // Orders in the order their O levels come, each with its items.
    let mut orders: Orders = Vec::new();
    // The HL level code (S, O, P, I …) the segments belong to now.
    let mut level = String::new();
    let mut item: Option<Pending> = None;
    for s in &t.segments {
        match s.id.as_str() {
            "HL" => {
                flush(item.take(), &mut orders)?;
                level = s.el(3).to_string();
                match level.as_str() {
                    "O" => orders.push((String::new(), Vec::new())),
                    "I" => {
                        item = Some(Pending {
                            at: s.position,
                            parts: Parts::default(),
                            lot: None,
                            quantity: None,
                            expiry: None,
                        });
                    }
                    _ => {}
                }
            }
            "PRF" => match orders.last_mut() {
                Some((po, _)) if po.is_empty() => *po = s.el(1).to_string(),
                _ => orders.push((s.el(1).to_string(), Vec::new())),
            },
            "LIN" => {
                if let Some(i) = item.as_mut() {
                    i.parts = parts(s, 2);
                }
            }
            "SN1" => {
                if let Some(i) = item.as_mut() {
                    match quantity(s, 2)? {
                        Some(q) if q >= 0 => i.quantity = Some(q),
                        _ => {
                            return Err(content(
                                s,
                                format!("SN102 ({:?}) is not a quantity shipped", s.el(2)),
                            ));
                        }
                    }
                }
            }
            "REF" if s.el(1) == "LT" && !s.el(2).is_empty() => {
                if let Some(i) = item.as_mut() {
                    i.lot = Some(s.el(2).to_string());
                }
            }
            "DTM" => match (level.as_str(), s.el(1)) {
                ("I", "036") => {
                    if let Some(i) = item.as_mut() {
                        i.expiry = Some(date(s, 2)?);
                    }
                }
                ("I", _) => {}
                (_, "017") => estimated = Some(date(s, 2)?),
                (_, "011") => shipped = Some(date(s, 2)?),
                _ => {}
            },
            _ => {}
        }
    }
    flush(item, &mut orders)?;
    if orders.is_empty() {
        return Err(X12Error::Content(format!(
            "the ship notice {shipment_id:?} names no order (no PRF segment)"
        )));
    }
    let delivery = estimated.or(shipped);
    orders
        .into_iter()
        .map(|(po_number, lines)| {
            if po_number.is_empty() {
                return Err(X12Error::Content(format!(
                    "the ship notice {shipment_id:?} ships goods without naming their order (no PRF segment)"
                )));
            }
            Ok(Ship856 {
                po_number,
                shipment_id: shipment_id.clone(),
                delivery,
                lines,
            })
        })
        .collect()
}
