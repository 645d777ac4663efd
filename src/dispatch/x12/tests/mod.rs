//! Tests of the X12 module: fixtures here, one file per direction, the
//! envelope checks, and the check by an independent parser.

mod envelope;
mod python;
pub(crate) mod read;
mod settings;
mod write;

use jiff::civil::{DateTime, date};

use super::*;
use crate::catalog::suppliers::Supplier;
use crate::domain::order::OrderState;
use crate::orders::{Order, OrderDetail, OrderLine};
use crate::practice::Practice;

fn settings() -> Settings {
    Settings {
        sender_qualifier: "ZZ".into(),
        sender_id: "RIVERSIDE".into(),
        receiver_qualifier: "01".into(),
        receiver_id: "123456789".into(),
        folder: "medsupply-out".into(),
        inbox: "medsupply-in".into(),
        test: false,
        email_to: Vec::new(),
    }
}

fn controls() -> Controls {
    Controls {
        interchange: 42,
        group: 7,
        transaction: 3,
    }
}

/// 15 January 2026, 09:30 at the practice.
fn at() -> DateTime {
    date(2026, 1, 15).at(9, 30, 0, 0)
}

fn practice() -> Practice {
    Practice {
        name: "Riverside Practice".into(),
        address: "Riverside Practice\n1 High Street\nRiverton RV1 2AB".into(),
        phone: "+44 1234 567890".into(),
        email: "supplies@riverside.example".into(),
    }
}

fn supplier() -> Supplier {
    Supplier {
        id: 1,
        name: "MedSupply".into(),
        contact_name: "Sam".into(),
        email: "orders@medsupply.example".into(),
        phone: String::new(),
        account_number: "C-77".into(),
        lead_time_days: 3,
        notes: String::new(),
        active: true,
    }
}

/// A line of `packs` packs of `pack_size` units at `price_minor` a pack.
fn line(
    item_code: &str,
    supplier_code: &str,
    name: &str,
    pack_size: i64,
    packs: i64,
    price_minor: i64,
) -> OrderLine {
    OrderLine {
        id: 1,
        order_id: 1,
        item_id: 1,
        item_name: name.into(),
        item_code: item_code.into(),
        unit: "each".into(),
        lot_tracked: false,
        expiry_tracked: false,
        supplier_item_id: 1,
        supplier_code: supplier_code.into(),
        location_id: 1,
        location_name: "Store".into(),
        pack_size,
        packs,
        quantity: packs * pack_size,
        unit_price_minor: price_minor,
        line_total_minor: packs * price_minor,
        received: 0,
        damaged: 0,
        substituted: 0,
        outstanding: packs * pack_size,
        note: String::new(),
    }
}

/// Order PO-2026-00042: 2 boxes of 100 gloves at 8.00 a box, and 5
/// single thermometers at 12.50 each; delivery expected 20 January.
fn detail() -> OrderDetail {
    let lines = vec![
        line("GLV-M", "GL-100", "Nitrile gloves M", 100, 2, 800),
        line("THERM", "TH-9", "Ear thermometer", 1, 5, 1250),
    ];
    OrderDetail {
        order: Order {
            id: 1,
            number: "PO-2026-00042".into(),
            supplier_id: 1,
            supplier_name: "MedSupply".into(),
            state: OrderState::Queued,
            currency: "EUR".into(),
            total_minor: lines.iter().map(|l| l.line_total_minor).sum(),
            note: "Please deliver to the back door".into(),
            expected_on: "2026-01-20".into(),
            overdue: false,
            channel: String::new(),
            supplier_reference: String::new(),
            reason: String::new(),
            created_by: Some(2),
            created_by_name: "Max".into(),
            submitted_by: Some(2),
            created_at: "2026-01-14T08:00:00Z".into(),
            submitted_at: Some("2026-01-14T08:05:00Z".into()),
            approved_at: Some("2026-01-14T09:00:00Z".into()),
            sent_at: None,
            acknowledged_at: None,
            received_at: None,
            closed_at: None,
            cancelled_at: None,
        },
        lines,
        approvals: Vec::new(),
        events: Vec::new(),
        receipts: Vec::new(),
        hidden_lines: 0,
    }
}

/// The 850 of [`detail`] with the default fixtures.
fn po850() -> String {
    purchase_order_850(
        &settings(),
        controls(),
        at(),
        &practice(),
        &supplier(),
        &detail(),
    )
}

/// The segments of what stockroom wrote, split the simple way (it writes
/// one segment per line), each as its elements with the id first.
fn split(x12: &str) -> Vec<Vec<String>> {
    x12.lines()
        .map(|l| {
            let l = l.strip_suffix('~').expect("every line ends with ~");
            l.split('*').map(str::to_string).collect()
        })
        .collect()
}

/// The segments with id `id`, in order.
fn all(x12: &str, id: &str) -> Vec<Vec<String>> {
    split(x12).into_iter().filter(|s| s[0] == id).collect()
}

/// The one segment with id `id`.
fn only(x12: &str, id: &str) -> Vec<String> {
    let mut found = all(x12, id);
    assert_eq!(found.len(), 1, "one {id} segment in\n{x12}");
    found.remove(0)
}
