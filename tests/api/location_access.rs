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
                   "quantity": 1, "lot": "L42", "expiry": "2071-03-31"}),
        )
        .await;
    }

    // Receiving an order: into the fridge refused, into the cabinet taken.
    let (order, line) = o.sent(1).await;
    let receipt = |place: i64| {
        json!({"lines": [{"order_line_id": line, "quantity": 1, "lot": "L43",
                          "expiry": "2071-06-30", "location_id": place}]})
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
            {"item_id": item, "location_id": place, "lot": "L42", "expiry": "2071-03-31", "quantity": 1}]})
    })
    .await;
}

/// What a change at the fridge could have touched: the ledger, the levels,
/// the stock targets and the locations themselves.
async fn fingerprint(o: &Ordering) -> [i64; 5] {
    let app = &o.p.app;
    [
        app.scalar("SELECT count(*) FROM stock_movements").await,
        app.scalar("SELECT coalesce(sum(quantity), 0) FROM stock_levels")
            .await,
        app.scalar("SELECT count(*) FROM item_locations").await,
        app.scalar("SELECT count(*) FROM locations").await,
        app.scalar("SELECT count(*) FROM locations WHERE active = 1 AND name = 'Fridge'")
            .await,
    ]
}

/// The page form `path` posted by the restricted manager with `fields`:
/// refused with the location named, and nothing changed.
async fn form_refused(o: &Ordering, b: &Browser, what: &str, path: &str, fields: &[(&str, &str)]) {
    let before = fingerprint(o).await;
    let res = b.post_form(path, fields).await;
    let status = res.status();
    let html = res.text().await.unwrap();
    assert!(
        status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::NOT_FOUND,
        "{what}: a manager without access to the fridge got {status}"
    );
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        assert!(
            html.contains("may not use this location") || html.contains("a location you may use"),
            "{what}: the page does not say why: {html}"
        );
    }
    assert_eq!(fingerprint(o).await, before, "{what}: something changed");
}

/// Owned form fields as `post_form` takes them.
fn pairs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The same form at the cabinet goes through (a redirect), so the refusal
/// above is about the place, not the form or the role.
async fn form_taken(b: &Browser, what: &str, path: &str, fields: &[(&str, &str)]) {
    let res = b.post_form(path, fields).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{what} at the cabinet: {}",
        res.text().await.unwrap()
    );
}

#[tokio::test]
async fn every_page_form_that_changes_stock_refuses_a_location_the_user_may_not_use() {
    let o = restricted().await;
    let b = o.p.app.new_browser();
    assert_eq!(
        b.login("max", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let (cabinet, fridge) = (o.p.cabinet.to_string(), o.p.fridge.to_string());
    let lot = [("item", "LID-1"), ("lot", "L42"), ("expiry", "2071-03-31")];
    let form = |place: &str, extra: &[(&'static str, &'static str)]| {
        let mut f: Vec<(&str, String)> = lot.iter().map(|(k, v)| (*k, v.to_string())).collect();
        f.push(("location_id", place.to_string()));
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };
    for (path, extra) in [
        ("/stock/use", &[("quantity", "1")][..]),
        ("/stock/receive", &[("quantity", "1")][..]),
        (
            "/stock/adjust",
            &[("quantity", "-1"), ("reason", "counted one short")][..],
        ),
        (
            "/stock/dispose",
            &[("quantity", "1"), ("reason", "damaged")][..],
        ),
    ] {
        form_taken(&b, path, path, &pairs(&form(&cabinet, extra))).await;
        form_refused(&o, &b, path, path, &pairs(&form(&fridge, extra))).await;
    }
    // A move out of the fridge, and a move into it.
    for (from, to) in [(&fridge, &cabinet), (&cabinet, &fridge)] {
        let mut f: Vec<(&str, &str)> = lot.to_vec();
        f.extend([
            ("location_id", from.as_str()),
            ("to_location_id", to.as_str()),
            ("quantity", "1"),
        ]);
        form_refused(
            &o,
            &b,
            &format!("move {from} → {to}"),
            "/stock/transfer",
            &f,
        )
        .await;
    }

    // Receiving an order on its page: into the fridge refused, into the
    // cabinet taken.
    let (order, line) = o.sent(1).await;
    let (path, line) = (format!("/orders/{order}/receive"), line.to_string());
    let row = |place: &'static str| {
        vec![
            ("r0_line", line.clone()),
            ("r0_quantity", "1".to_string()),
            ("r0_lot", "L43".to_string()),
            ("r0_expiry", "2071-06-30".to_string()),
            (
                "r0_location",
                if place == "fridge" {
                    fridge.clone()
                } else {
                    cabinet.clone()
                },
            ),
            ("action", "receive".to_string()),
        ]
    };
    form_refused(
        &o,
        &b,
        "receiving on the order page",
        &path,
        &pairs(&row("fridge")),
    )
    .await;
    form_taken(
        &b,
        "receiving on the order page",
        &path,
        &pairs(&row("cabinet")),
    )
    .await;

    // Returning goods to the supplier from the returns page.
    let supplier = o.supplier.to_string();
    let ret = |place: &str| {
        vec![
            ("supplier_id", supplier.clone()),
            ("reason", "Damaged in transit".to_string()),
            ("item_0", "LID-1".to_string()),
            ("location_0", place.to_string()),
            ("lot_0", "L42".to_string()),
            ("expiry_0", "2071-03-31".to_string()),
            ("quantity_0", "1".to_string()),
        ]
    };
    form_refused(&o, &b, "a return", "/returns", &pairs(&ret(&fridge))).await;
    form_taken(&b, "a return", "/returns", &pairs(&ret(&cabinet))).await;

    // The fridge's settings are not this manager's to change either: its
    // reorder targets, its name, whether it is open, or a new place in it.
    let item = o.p.item;
    let target = |place: &str| {
        vec![
            ("location_id", place.to_string()),
            ("reorder_point", "2".to_string()),
            ("par_level", "5".to_string()),
        ]
    };
    form_refused(
        &o,
        &b,
        "a reorder target",
        &format!("/items/{item}/targets"),
        &pairs(&target(&fridge)),
    )
    .await;
    form_taken(
        &b,
        "a reorder target",
        &format!("/items/{item}/targets"),
        &pairs(&target(&cabinet)),
    )
    .await;
    form_taken(
        &b,
        "renaming the cabinet",
        &format!("/locations/{cabinet}"),
        &[
            ("name", "Cabinet B"),
            ("kind", "cabinet"),
            ("parent_id", ""),
        ],
    )
    .await;
    form_refused(
        &o,
        &b,
        "renaming the fridge",
        &format!("/locations/{fridge}"),
        &[
            ("name", "Cold store"),
            ("kind", "fridge"),
            ("parent_id", ""),
        ],
    )
    .await;
    form_refused(
        &o,
        &b,
        "closing the fridge",
        &format!("/locations/{fridge}/active"),
        &[("active", "false")],
    )
    .await;
    form_taken(
        &b,
        "a shelf inside the cabinet",
        "/locations",
        &[
            ("name", "Top shelf"),
            ("kind", "shelf"),
            ("parent_id", cabinet.as_str()),
        ],
    )
    .await;
    form_refused(
        &o,
        &b,
        "a shelf inside the fridge",
        "/locations",
        &[
            ("name", "Top shelf"),
            ("kind", "shelf"),
            ("parent_id", fridge.as_str()),
        ],
    )
    .await;
}

#[tokio::test]
async fn an_opening_stock_import_refuses_a_row_at_a_location_the_user_may_not_use() {
    let o = restricted().await;
    let before = fingerprint(&o).await;
    let file = "item,location,lot,expiry,quantity\nLID-1,Cabinet A,L50,2071-09-30,3\nLID-1,Fridge,L50,2071-09-30,3\n";
    let res = o
        .other_manager
        .post(o.p.url("/api/v1/imports/opening-stock?commit=true"))
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["message"]
                .as_str()
                .unwrap()
                .contains("no location is called Fridge")),
        "the fridge does not exist for this manager: {body}"
    );
    assert!(!body.to_string().contains("may not use"), "{body}");
    assert_eq!(fingerprint(&o).await, before, "the whole file is refused");
}

#[tokio::test]
async fn a_recall_is_quarantined_and_disposed_of_only_where_the_user_may() {
    let o = restricted().await;
    let lots = json!({"gtin": "9506000134352", "lots": ["L42"]});
    // A recall does not cross an access list: the fridge's stock is left
    // for someone who may use it, and the answer says how much is left.
    let res = post_json(
        &o.other_manager,
        o.p.url("/api/v1/recalls/quarantine"),
        &lots,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["units"].as_i64(), body["left_elsewhere"].as_i64()),
        (Some(10), Some(10)),
        "{body}"
    );
    let quarantined = "SELECT coalesce(sum(quarantined), 0) FROM stock_levels";
    assert_eq!(o.p.app.scalar(quarantined).await, 10, "the cabinet only");
    let b = o.p.app.new_browser();
    b.login("max", PASSWORD).await;
    let res = b
        .post_form(
            "/recall/quarantine",
            &[("gtin", "9506000134352"), ("lots", "L42")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = b.get_html(&location(&res)).await;
    assert!(
        html.contains("10 ampoules more are at places you may not use"),
        "{html}"
    );
    // The practice manager, who may use the fridge, quarantines the rest.
    let res = post_json(&o.p.manager, o.p.url("/api/v1/recalls/quarantine"), &lots).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["units"].as_i64(), body["left_elsewhere"].as_i64()),
        (Some(10), Some(0)),
        "{body}"
    );
    assert_eq!(o.p.app.scalar(quarantined).await, 20, "both places");
    // Disposing of it moves stock, so the fridge is refused and nothing goes.
    let before = fingerprint(&o).await;
    let res = post_json(&o.other_manager, o.p.url("/api/v1/recalls/dispose"), &lots).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "location-not-permitted", "{body}");
    assert_eq!(fingerprint(&o).await, before, "all or nothing");
    assert!(
        body["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Treatment room › Fridge, which you may not use"),
        "{body}"
    );
    // The recall page says the same beside the lots.
    let res = b
        .post_form(
            "/recall/dispose",
            &[("gtin", "9506000134352"), ("lots", "L42")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Treatment room › Fridge, which you may not use"),
        "{html}"
    );
    assert_eq!(fingerprint(&o).await, before);
    // The practice manager, who may use the fridge, disposes of all of it.
    let res = post_json(&o.p.manager, o.p.url("/api/v1/recalls/dispose"), &lots).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    assert_eq!(o.p.app.scalar(quarantined).await, 0);
}

/// Orders, their print-outs and returns show a user only what lies at
/// places they may use; an order (or return) entirely elsewhere does not
/// exist for them. Its lines elsewhere cannot be changed by them, nor the
/// order decided; nor can they add a place inside the fridge or read who
/// may use it.
#[tokio::test]
async fn orders_returns_and_locations_show_only_what_the_user_may_use() {
    let o = restricted().await;
    let mia = &o.p.manager;
    let max = &o.other_manager;
    o.manager_approves_over_10().await;
    let line = |place: i64, packs: i64| json!({"supplier_item_id": o.supplier_item, "location_id": place, "packs": packs});
    let (s, mixed) = o
        .post(
            mia,
            "/api/v1/orders",
            json!({"supplier_id": o.supplier, "lines": [line(o.p.cabinet, 40), line(o.p.fridge, 40)]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{mixed}");
    let mixed_id = mixed["order"]["id"].as_i64().unwrap();
    let fridge_line = mixed["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["location_id"] == o.p.fridge)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (s, only) = o
        .post(
            mia,
            "/api/v1/orders",
            json!({"supplier_id": o.supplier, "lines": [line(o.p.fridge, 1)]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{only}");
    let only_id = only["order"]["id"].as_i64().unwrap();
    let only_number = only["order"]["number"].as_str().unwrap().to_string();

    // The API: the list, the order, the order entirely in the fridge.
    let list = get_json(max, o.p.url("/api/v1/orders")).await;
    let ids: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&mixed_id) && !ids.contains(&only_id), "{list}");
    let shown = get_json(max, o.p.url(&format!("/api/v1/orders/{mixed_id}"))).await;
    assert_eq!(shown["lines"].as_array().unwrap().len(), 1, "{shown}");
    assert_eq!(shown["lines"][0]["location_id"], o.p.cabinet);
    assert_eq!(shown["hidden_lines"], 1);
    let res = max
        .get(o.p.url(&format!("/api/v1/orders/{only_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // The pages and the print-out.
    let b = o.p.app.new_browser();
    b.login("max", PASSWORD).await;
    for path in [
        format!("/orders/{only_id}"),
        format!("/orders/{only_id}/print"),
    ] {
        assert_eq!(b.get(&path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert!(!b.get_html("/orders").await.contains(&only_number));
    let page = b.get_html(&format!("/orders/{mixed_id}")).await;
    assert!(
        page.contains("1 line is for places you may not use and not shown"),
        "{page}"
    );
    assert!(!page.contains("Fridge"), "{page}");
    let print = b.get_html(&format!("/orders/{mixed_id}/print")).await;
    assert!(print.contains("Incomplete: 1 line is"), "{print}");

    // The fridge's line cannot be changed or removed by this manager.
    let lines_before =
        o.p.app
            .scalar("SELECT sum(packs) * 1000 + count(*) FROM order_lines")
            .await;
    let res = max
        .put(o.p.url(&format!("/api/v1/orders/{mixed_id}/lines/{fridge_line}")))
        .json(&json!({"packs": 2, "location_id": o.p.cabinet}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("is for a place you may not use")
    );
    let res = max
        .delete(o.p.url(&format!("/api/v1/orders/{mixed_id}/lines/{fridge_line}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        o.p.app
            .scalar("SELECT sum(packs) * 1000 + count(*) FROM order_lines")
            .await,
        lines_before
    );

    // Nor can they decide it: approving needs sight of every line.
    let (s, b2) = o
        .post(mia, &format!("/api/v1/orders/{mixed_id}/submit"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b2}");
    assert_eq!(b2["state"], "submitted", "waits for a manager: {b2}");
    let (s, refused) = o
        .post(
            max,
            &format!("/api/v1/orders/{mixed_id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "location-not-permitted");
    let shown = get_json(mia, o.p.url(&format!("/api/v1/orders/{mixed_id}"))).await;
    assert_eq!(shown["order"]["state"], "submitted");
    // It is not in their approvals, nor counted as waiting for them.
    let queue = get_json(max, o.p.url("/api/v1/approvals")).await["items"].clone();
    assert!(
        !queue
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["id"] == mixed_id),
        "{queue}"
    );
    assert!(
        !b.get_html("/orders/approvals")
            .await
            .contains(&format!("/orders/{mixed_id}\""))
    );

    // An order entirely elsewhere cannot be changed or acted on either: as
    // for reading it, it is not there.
    for (path, body) in [
        (
            format!("/api/v1/orders/{only_id}/lines"),
            line(o.p.cabinet, 1),
        ),
        (
            format!("/api/v1/orders/{only_id}/cancel"),
            json!({"reason": "not mine"}),
        ),
        (format!("/api/v1/orders/{only_id}/submit"), json!({})),
    ] {
        let (s, body) = o.post(max, &path, body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let shown = get_json(mia, o.p.url(&format!("/api/v1/orders/{only_id}"))).await;
    assert_eq!(shown["order"]["state"], "draft");
    assert_eq!(shown["lines"].as_array().unwrap().len(), 1);

    // A return from the fridge.
    let (s, ret) = o
        .post(
            mia,
            "/api/v1/returns",
            json!({"supplier_id": o.supplier, "reason": "damaged", "lines": [
                {"item_id": o.p.item, "location_id": o.p.fridge, "lot": "L42", "expiry": "2071-03-31", "quantity": 1}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ret}");
    let ret_id = ret["id"].as_i64().unwrap();
    let returns = get_json(max, o.p.url("/api/v1/returns")).await["items"].clone();
    assert!(
        !returns
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == ret_id),
        "{returns}"
    );
    let res = max
        .get(o.p.url(&format!("/api/v1/returns/{ret_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        b.get(&format!("/returns/{ret_id}")).await.status(),
        StatusCode::NOT_FOUND
    );

    // A place inside the fridge, and who may use the fridge.
    let places = o.p.app.scalar("SELECT count(*) FROM locations").await;
    let res = post_json(
        max,
        o.p.url("/api/v1/locations"),
        &json!({"parent_id": o.p.fridge, "name": "Top shelf", "kind": "shelf"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        o.p.app.scalar("SELECT count(*) FROM locations").await,
        places
    );
    let res = max
        .get(o.p.url(&format!("/api/v1/locations/{}/access", o.p.fridge)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
