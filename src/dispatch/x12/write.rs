//! The 850 purchase order: one interchange holding one functional group
//! (PO) holding one transaction set, built segment by segment so that the
//! count in SE is the count of what was written, never a separate sum.

use jiff::civil::DateTime;

use super::syntax::{COMPONENT, ELEMENT, TERMINATOR, text};
use super::{Controls, Settings};
use crate::catalog::suppliers::Supplier;
use crate::domain::money::format_minor;
use crate::orders::OrderDetail;
use crate::practice::Practice;

/// A control number as it fits X12's nine digits.
fn nine(n: u32) -> u32 {
    n % 1_000_000_000
}

/// An ISA field (id or qualifier) in capitals, padded or cut to its fixed width.
fn fixed(value: &str, width: usize) -> String {
    let v = text(value, width).to_ascii_uppercase().replace(' ', "");
    format!("{v:<width$}")
}

/// The segments of one transaction set, ST first.
struct Set(Vec<String>);

impl Set {
    /// Adds a segment; trailing empty elements are left out, as X12 asks.
    fn add(&mut self, id: &str, elements: &[&str]) {
        let used = elements
            .iter()
            .rposition(|e| !e.is_empty())
            .map_or(0, |i| i + 1);
        let mut s = id.to_string();
        for e in &elements[..used] {
            s.push(ELEMENT);
            s.push_str(e);
        }
        self.0.push(s);
    }
}

/// `YYYY-MM-DD` as CCYYMMDD. `None` when empty, and when it is not a date
/// (orders store only checked dates): a DTM is optional, a wrong one is not.
fn date8(iso: &str) -> Option<String> {
    let Ok(d) = iso.trim().parse::<jiff::civil::Date>() else {
        return None;
    };
    Some(d.strftime("%Y%m%d").to_string())
}

/// The N1 loop for the practice in role `code` (BY buyer, ST ship-to).
/// N3 carries the address lines, two to a segment, at most two segments;
/// no N4, because a free-form address cannot be split into city, state and
/// postcode reliably and a wrong N4 is worse than none.
fn party(set: &mut Set, code: &str, practice: &Practice, account: &str) {
    let name = text(&practice.name, 60);
    if name.is_empty() {
        return;
    }
    let account = text(account, 80);
    if code == "BY" && account.len() >= 2 {
        // 91: an id assigned by the seller, i.e. our account with them.
        set.add("N1", &[code, &name, "91", &account]);
    } else {
        set.add("N1", &[code, &name]);
    }
    let mut lines: Vec<String> = practice
        .address
        .lines()
        .map(|l| text(l, usize::MAX))
        .filter(|l| !l.is_empty())
        .collect();
    if lines.first().is_some_and(|l| l.eq_ignore_ascii_case(&name)) {
        lines.remove(0);
    }
    if lines.len() > 4 {
        let rest = lines.split_off(3).join(", ");
        lines.push(rest);
    }
    for pair in lines.chunks(2) {
        let l1 = text(&pair[0], 55);
        let l2 = pair.get(1).map(|l| text(l, 55)).unwrap_or_default();
        set.add("N3", &[&l1, &l2]);
    }
    if code == "BY" {
        let phone = text(&practice.phone, 80);
        let email = text(&practice.email, 80);
        let mut per = vec!["IC", ""];
        if !phone.is_empty() {
            per.extend(["TE", &phone]);
        }
        if !email.is_empty() {
            per.extend(["EM", &email]);
        }
        if per.len() > 2 {
            set.add("PER", &per);
        }
    }
}

/// The order as an X12 850 interchange, sent at `at` (practice-local time).
///
/// One PO1 per line: in supplier packs (unit `CA`) with the price per pack
/// when a pack holds more than one unit, else in units (`EA`); the buyer's
/// part number (BP) is stockroom's item code, the vendor's (VP) the
/// supplier's code. Each segment ends with `~` and a newline.
pub fn purchase_order_850(
    settings: &Settings,
    controls: Controls,
    at: DateTime,
    practice: &Practice,
    supplier: &Supplier,
    detail: &OrderDetail,
) -> String {
    po_850("00", settings, controls, at, practice, supplier, detail)
}

/// The same order cancelled: an 850 whose BEG01 purpose is `01`
/// (cancellation), with its own control numbers.
pub fn cancellation_850(
    settings: &Settings,
    controls: Controls,
    at: DateTime,
    practice: &Practice,
    supplier: &Supplier,
    detail: &OrderDetail,
) -> String {
    po_850("01", settings, controls, at, practice, supplier, detail)
}

fn po_850(
    purpose: &str,
    settings: &Settings,
    controls: Controls,
    at: DateTime,
    practice: &Practice,
    supplier: &Supplier,
    detail: &OrderDetail,
) -> String {
    let order = &detail.order;
    let isa13 = format!("{:09}", nine(controls.interchange));
    let gs06 = nine(controls.group).to_string();
    let st02 = format!("{:04}", nine(controls.transaction));
    let date = at.strftime("%Y%m%d").to_string();
    let time = at.strftime("%H%M").to_string();

    let mut set = Set(Vec::new());
    set.add("ST", &["850", &st02]);
    set.add("BEG", &[purpose, "SA", &text(&order.number, 22), "", &date]);
    let currency = text(&order.currency, 3).to_ascii_uppercase();
    if currency.len() == 3 {
        set.add("CUR", &["BY", &currency]);
    }
    let account = text(&supplier.account_number, 30);
    if !account.is_empty() {
        set.add("REF", &["IA", &account]);
    }
    if let Some(expected) = date8(&order.expected_on) {
        set.add("DTM", &["002", &expected]);
    }
    let note = text(&order.note, usize::MAX);
    if !note.is_empty() {
        set.add("N9", &["L1", "NOTE"]);
        let chars: Vec<char> = note.chars().collect();
        for chunk in chars.chunks(264) {
            let part: String = chunk.iter().collect();
            set.add("MSG", &[part.trim()]);
        }
    }
    party(&mut set, "BY", practice, &supplier.account_number);
    party(&mut set, "ST", practice, "");

    let mut hash: i64 = 0;
    for (i, l) in detail.lines.iter().enumerate() {
        let (quantity, unit) = if l.pack_size > 1 {
            (l.packs, "CA")
        } else {
            (l.quantity, "EA")
        };
        hash = hash.saturating_add(quantity);
        // `unit_price_minor` is already per supplier pack (one unit when a
        // pack holds one).
        let price = format_minor(l.unit_price_minor);
        let (line, qty) = ((i + 1).to_string(), quantity.to_string());
        let (buyer, vendor) = (text(&l.item_code, 48), text(&l.supplier_code, 48));
        let mut po1 = vec![line.as_str(), &qty, unit, &price, ""];
        if !buyer.is_empty() {
            po1.extend(["BP", &buyer]);
        }
        if !vendor.is_empty() {
            po1.extend(["VP", &vendor]);
        }
        set.add("PO1", &po1);
        let description = text(&l.item_name, 80);
        if !description.is_empty() {
            set.add("PID", &["F", "", "", "", &description]);
        }
    }
    // CTT02 holds at most ten digits; X12 keeps the low-order ones.
    let hash = (hash % 10_000_000_000).to_string();
    set.add("CTT", &[&detail.lines.len().to_string(), &hash]);
    set.add("AMT", &["TT", &format_minor(order.total_minor)]);
    let count = (set.0.len() + 1).to_string();
    set.add("SE", &[&count, &st02]);

    let isa = [
        "ISA",
        "00",
        "          ",
        "00",
        "          ",
        &fixed(&settings.sender_qualifier, 2),
        &fixed(&settings.sender_id, 15),
        &fixed(&settings.receiver_qualifier, 2),
        &fixed(&settings.receiver_id, 15),
        &at.strftime("%y%m%d").to_string(),
        &time,
        "U",
        "00401",
        &isa13,
        "0",
        if settings.test { "T" } else { "P" },
    ]
    .join(&ELEMENT.to_string());
    let gs = [
        "GS",
        "PO",
        fixed(&settings.sender_id, 15).trim_end(),
        fixed(&settings.receiver_id, 15).trim_end(),
        &date,
        &time,
        &gs06,
        "X",
        "004010",
    ]
    .join(&ELEMENT.to_string());

    let mut out = String::new();
    let mut put = |segment: &str| {
        out.push_str(segment);
        out.push(TERMINATOR);
        out.push('\n');
    };
    put(&format!("{isa}{ELEMENT}{COMPONENT}"));
    put(&gs);
    for s in &set.0 {
        put(s);
    }
    put(&format!("GE{ELEMENT}1{ELEMENT}{gs06}"));
    put(&format!("IEA{ELEMENT}1{ELEMENT}{isa13}"));
    out
}
