//! The location-access matrix: every stock-changing API route, for a
//! manager who may not use a location, aimed at that location. Each must be
//! refused and change nothing; the same manager's change at a location they
//! may use goes through, so the refusal is about the place, not the role.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::orders::{Ordering, ordering};
use crate::stock::movement;

/// The fridge is kept for the practice manager alone; the other manager
/// (`max`) may use the cabinet only. Both hold stock of the item.
async fn restricted() -> Ordering {
    let o = ordering().await;
    for place in [o.p.cabinet, o.p.fridge] {
        let res = post_json(
            &o.p.manager,
            o.p.url("/api/v1/movements"),
            &movement("receipt", o.p.item, place, 10),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let mia =
        o.p.app
            .scalar("SELECT id FROM users WHERE username = 'mia'")
            .await;
    let res = o
        .admin
        .put(o.p.url(&format!("/api/v1/locations/{}/access", o.p.fridge)))
        .json(&json!({"user_ids": [mia]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    o
}

async fn refused(o: &Ordering, what: &str, path: &str, body: Value) {
    let ledger = o.p.app.scalar("SELECT count(*) FROM stock_movements").await;
    let levels =
        o.p.app
            .scalar("SELECT coalesce(sum(quantity), 0) FROM stock_levels")
            .await;
    let res = post_json(&o.other_manager, o.p.url(path), &body).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert!(
        status.is_client_error(),
        "{what}: a manager without access to the fridge got {status}: {text}"
    );
    assert_eq!(
        o.p.app.scalar("SELECT count(*) FROM stock_movements").await,
        ledger,
        "{what}: the ledger changed"
    );
    assert_eq!(
        o.p.app
            .scalar("SELECT coalesce(sum(quantity), 0) FROM stock_levels")
            .await,
        levels,
        "{what}: a level changed"
    );
}

/// A change that the same manager may make at the cabinet (so the body
/// is right), then refused at the fridge.
async fn allowed_here_refused_there(
    o: &Ordering,
    what: &str,
    path: &str,
    at: impl Fn(i64) -> Value,
) {
    let res = post_json(&o.other_manager, o.p.url(path), &at(o.p.cabinet)).await;
    let status = res.status();
    assert!(
        status.is_success(),
        "{what} at the cabinet: {status} {}",
        res.text().await.unwrap()
    );
    refused(o, what, path, at(o.p.fridge)).await;
}

#[tokio::test]
async fn every_stock_change_at_a_location_the_user_may_not_use_is_refused() {
    let o = restricted().await;
    let (item, cabinet, fridge) = (o.p.item, o.p.cabinet, o.p.fridge);
    let moved = |kind: &'static str, quantity: i64, reason: &'static str| {
        move |place: i64| {
            let mut m = movement(kind, item, place, quantity);
            if !reason.is_empty() {
                m["reason"] = json!(reason);
            }
            m
        }
    };
    allowed_here_refused_there(
        &o,
        "consumption",
        "/api/v1/movements",
        moved("consumption", -1, ""),
    )
    .await;
    allowed_here_refused_there(&o, "receipt", "/api/v1/movements", moved("receipt", 1, "")).await;
    allowed_here_refused_there(
        &o,
        "adjustment",
        "/api/v1/movements",
        moved("adjustment", -1, "counted one short"),
    )
    .await;
    allowed_here_refused_there(
        &o,
        "disposal",
        "/api/v1/movements",
        moved("disposal", -1, "damaged"),
    )
    .await;
    for (from, to) in [(fridge, cabinet), (cabinet, fridge)] {
        refused(
            &o,
            &format!("transfer {from} → {to}"),
            "/api/v1/transfers",
            json!({"item_id": item, "from_location_id": from, "to_location_id": to,
                   "quantity": 1, "lot": "L42", "expiry": "2027-03-31"}),
        )
        .await;
    }

    // Receiving an order: into the fridge refused, into the cabinet taken.
    let (order, line) = o.sent(1).await;
    let receipt = |place: i64| {
        json!({"lines": [{"order_line_id": line, "quantity": 1, "lot": "L43",
                          "expiry": "2027-06-30", "location_id": place}]})
    };
    refused(
        &o,
        "order receipt",
        &format!("/api/v1/orders/{order}/receipts"),
        receipt(fridge),
    )
    .await;
    let res = post_json(
        &o.other_manager,
        o.p.url(&format!("/api/v1/orders/{order}/receipts")),
        &receipt(cabinet),
    )
    .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());

    // Returning goods to the supplier.
    allowed_here_refused_there(&o, "return", "/api/v1/returns", |place| {
        json!({"supplier_id": o.supplier, "reason": "damaged", "lines": [
            {"item_id": item, "location_id": place, "lot": "L42", "expiry": "2027-03-31", "quantity": 1}]})
    })
    .await;
}
