//! The receive screen of an order (`/orders/{id}/receive`): rows for the
//! open lines, a partial delivery, an over-delivery that needs confirming,
//! who may use it, and a scan filling a row without JavaScript.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::stock::{Practice, practice};

struct Sent {
    p: Practice,
    order: i64,
    /// The lidocaine line: 3 boxes of 10 ampoules for the cabinet.
    line: i64,
    browser: Browser,
}

async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// The stock practice with a supplier of lidocaine (boxes of 10) and gauze
/// (packs of 1), an order for 3 boxes and 2 packs taken to `sent`, the
/// gauze already delivered in full, and the staff member signed in.
async fn sent_order() -> Sent {
    let p = practice().await;
    let supplier = created(
        post_json(
            &p.manager,
            p.url("/api/v1/suppliers"),
            &json!({"name": "MedSupply", "lead_time_days": 2}),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let gauze = created(
        post_json(
            &p.manager,
            p.url("/api/v1/items"),
            &json!({"code": "GAU-1", "name": "Gauze swabs", "unit": "pack"}),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let mut supplier_items = Vec::new();
    for (item, code, size) in [(p.item, "LD-10", 10), (gauze, "GZ-1", 1)] {
        let si = created(
            post_json(
                &p.manager,
                p.url("/api/v1/supplier-items"),
                &json!({"supplier_id": supplier, "item_id": item, "supplier_code": code,
                        "pack_size": size, "price_minor": 2500, "preferred": true}),
            )
            .await,
        )
        .await;
        supplier_items.push(si["id"].as_i64().unwrap());
    }
    let d = created(
        post_json(
            &p.staff,
            p.url("/api/v1/orders"),
            &json!({"supplier_id": supplier, "lines": [
                {"supplier_item_id": supplier_items[0], "location_id": p.cabinet, "packs": 3},
                {"supplier_item_id": supplier_items[1], "location_id": p.cabinet, "packs": 2}]}),
        )
        .await,
    )
    .await;
    let order = d["order"]["id"].as_i64().unwrap();
    let line = d["lines"][0]["id"].as_i64().unwrap();
    let gauze_line = d["lines"][1]["id"].as_i64().unwrap();
    for action in ["submit", "mark-sent"] {
        let res = post_json(
            &p.manager,
            p.url(&format!("/api/v1/orders/{order}/{action}")),
            &json!({}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{action}");
    }
    created(
        post_json(
            &p.staff,
            p.url(&format!("/api/v1/orders/{order}/receipts")),
            &json!({"lines": [{"order_line_id": gauze_line, "quantity": 2}]}),
        )
        .await,
    )
    .await;
    let browser = p.app.new_browser();
    assert_eq!(
        browser.login("sam", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    Sent {
        p,
        order,
        line,
        browser,
    }
}

impl Sent {
    fn path(&self) -> String {
        format!("/orders/{}/receive", self.order)
    }

    async fn lidocaine_in_stock(&self) -> i64 {
        self.p
            .app
            .scalar(
                "SELECT coalesce(sum(s.quantity), 0) FROM stock_levels s
                 JOIN items i ON i.id = s.item_id WHERE i.code = 'LID-1'",
            )
            .await
    }

    async fn received_on_line(&self) -> i64 {
        let line = self.line;
        self.p
            .app
            .db()
            .read(move |c| {
                c.query_row(
                    "SELECT received FROM order_lines WHERE id = ?1",
                    [line],
                    |r| r.get(0),
                )
                .map_err(stockroom::db::DbError::from)
            })
            .await
            .unwrap()
    }

    async fn state(&self) -> String {
        let order = self.order;
        self.p
            .app
            .db()
            .read(move |c| {
                c.query_row(
                    "SELECT state FROM purchase_orders WHERE id = ?1",
                    [order],
                    |r| r.get(0),
                )
                .map_err(stockroom::db::DbError::from)
            })
            .await
            .unwrap()
    }

    /// Posts the lidocaine row with these extra fields.
    async fn post(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        let line = self.line.to_string();
        let mut all = vec![("r0_line", line.as_str())];
        all.extend_from_slice(fields);
        self.browser.post_form(&self.path(), &all).await
    }
}

#[tokio::test]
async fn the_form_shows_a_row_for_each_line_with_units_outstanding() {
    let s = sent_order().await;
    let html = s.browser.get_html(&s.path()).await;
    assert!(html.contains("Receive goods: PO-"), "{html}");
    assert!(html.contains("MedSupply"), "{html}");
    assert!(
        html.contains(r#"data-testid="order-state">Partially received<"#),
        "{html}"
    );
    assert_eq!(
        html.matches(r#"data-testid="receive-row""#).count(),
        1,
        "only the open line: {html}"
    );
    assert!(html.contains("<legend>Lidocaine 1%</legend>"), "{html}");
    assert!(!html.contains("<legend>Gauze swabs"), "{html}");
    assert!(html.contains("their code LD-10"), "{html}");
    assert!(html.contains("ordered 30 ampoule"), "{html}");
    assert!(html.contains("outstanding 30 ampoule"), "{html}");
    assert!(
        html.contains(&format!(r#"name="r0_line" value="{}""#, s.line)),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            r#"<option value="{}" selected>Treatment room › Cabinet A</option>"#,
            s.p.cabinet
        )),
        "the line's location is the default: {html}"
    );
    assert!(html.contains(r#"id="code" name="code""#) && html.contains("autofocus"));
}

#[tokio::test]
async fn a_partial_delivery_is_received_into_stock_and_onto_the_order() {
    let s = sent_order().await;
    let res = s
        .post(&[
            ("r0_quantity", "10"),
            ("r0_lot", "L42"),
            ("r0_expiry", "2071-03-31"),
            ("delivery_note", "DN-1"),
            ("action", "receive"),
        ])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/orders/{}", s.order));
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let flash: String = cookie
        .split("stockroom_flash=")
        .nth(1)
        .and_then(|v| v.split(';').next())
        .map(|v| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(v)
                .unwrap()
                .into_iter()
                .find(|(k, _)| k == "m")
                .unwrap()
                .1
        })
        .unwrap_or_default();
    assert_eq!(
        flash,
        "Received 10 ampoule of Lidocaine 1%, lot L42; order is now partially received."
    );
    assert_eq!(s.lidocaine_in_stock().await, 10);
    assert_eq!(s.received_on_line().await, 10);
    assert_eq!(s.state().await, "partially_received");
    let lot: String =
        s.p.app
            .raw_connection()
            .query_row(
                "SELECT lot || ' ' || expiry FROM stock_levels WHERE quantity = 10",
                [],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(lot, "L42 2071-03-31");

    // The form now shows what is left.
    let html = s.browser.get_html(&s.path()).await;
    assert!(html.contains("outstanding 20 ampoule"), "{html}");
}

#[tokio::test]
async fn an_unconfirmed_over_delivery_writes_nothing_and_asks_then_confirming_accepts() {
    let s = sent_order().await;
    let fields = [
        ("r0_quantity", "40"),
        ("r0_lot", "L42"),
        ("r0_expiry", "2071-03-31"),
        ("delivery_note", "DN-7"),
        ("action", "receive"),
    ];
    let res = s.post(&fields).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("would be an over-delivery"), "{html}");
    assert!(html.contains("Confirm over-delivery"), "{html}");
    assert!(html.contains(r#"name="confirm_over_delivery""#), "{html}");
    assert!(
        html.contains(r#"id="r0_quantity" name="r0_quantity" type="number" min="0" step="1" inputmode="numeric" value="40" aria-invalid="true""#),
        "the message sits at the row's quantity: {html}"
    );
    assert!(html.contains(r##"href="#r0_quantity""##), "{html}");
    assert!(
        html.contains(r#"value="DN-7""#),
        "typed values kept: {html}"
    );
    assert_eq!(s.lidocaine_in_stock().await, 0);
    assert_eq!(s.received_on_line().await, 0);
    assert_eq!(s.p.app.scalar("SELECT count(*) FROM receipts").await, 1);

    let mut confirmed = fields.to_vec();
    confirmed.push(("confirm_over_delivery", "1"));
    let res = s.post(&confirmed).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(s.lidocaine_in_stock().await, 40);
    assert_eq!(s.received_on_line().await, 40);
    assert_eq!(s.state().await, "received");
}

#[tokio::test]
async fn a_viewer_may_not_receive() {
    let s = sent_order().await;
    let (viewer, _) = s.p.app.browser_as("viewer").await;
    assert_eq!(viewer.get(&s.path()).await.status(), StatusCode::FORBIDDEN);
    let line = s.line.to_string();
    let res = viewer
        .post_form(
            &s.path(),
            &[
                ("r0_line", &line),
                ("r0_quantity", "10"),
                ("action", "receive"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(s.lidocaine_in_stock().await, 0);
}

#[tokio::test]
async fn posting_nothing_says_so_and_writes_nothing() {
    let s = sent_order().await;
    let res = s
        .post(&[("delivery_note", "DN-2"), ("action", "receive")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("Nothing to receive"), "{html}");
    assert_eq!(s.p.app.scalar("SELECT count(*) FROM receipts").await, 1);
}

#[tokio::test]
async fn a_scan_without_javascript_fills_lot_expiry_and_adds_the_pack() {
    let s = sent_order().await;
    // A GS1 DataMatrix: GTIN of the box of 10, lot L42 (ended by GS), expiry.
    let res = s
        .post(&[
            ("code", "]d2010950600013435210L42\u{1d}17710331"),
            ("delivery_note", "DN-3"),
            ("action", "scan"),
        ])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"name="r0_lot" value="L42""#), "{html}");
    assert!(
        html.contains(r#"name="r0_expiry" type="date" value="2071-03-31""#),
        "{html}"
    );
    assert!(html.contains(r#"inputmode="numeric" value="10""#), "{html}");
    assert!(
        html.contains(r#"value="DN-3""#),
        "typed values kept: {html}"
    );
    assert!(
        html.contains(r#"name="code" value="""#),
        "the box is cleared for the next scan"
    );

    // The bracketed form of another lot, with the first row as typed: a row
    // of its own for the second lot; nothing is received yet.
    let res = s
        .post(&[
            ("r0_quantity", "10"),
            ("r0_lot", "L42"),
            ("r0_expiry", "2071-03-31"),
            ("code", "(01)09506000134352(17)720131(10)L43"),
            ("action", "scan"),
        ])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"name="r0_lot" value="L42""#), "{html}");
    assert!(html.contains(r#"name="r1_lot" value="L43""#), "{html}");
    assert!(
        html.contains(r#"name="r1_expiry" type="date" value="2072-01-31""#),
        "{html}"
    );
    assert!(html.contains("Lidocaine 1% — another lot"), "{html}");
    assert_eq!(s.lidocaine_in_stock().await, 0);

    // A code of no item on this order is refused at the scan box.
    let res = s
        .post(&[("code", "]d2010400000000000617710531"), ("action", "scan")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("which is not an item on this order"),
        "{html}"
    );
}

#[tokio::test]
async fn a_substitute_is_named_by_its_code_or_barcode() {
    let s = sent_order().await;
    // Another item to come instead, with a box GTIN.
    let other = created(
        post_json(
            &s.p.manager,
            s.p.url("/api/v1/items"),
            &json!({"code": "ART-1", "name": "Articaine 4%", "unit": "ampoule"}),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let res = post_json(
        &s.p.manager,
        s.p.url(&format!("/api/v1/items/{other}/packs")),
        &json!({"name": "box", "quantity": 10, "gtin": "09506000134376"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let unknown = s
        .post(&[
            ("r0_quantity", "10"),
            ("r0_lot", "L1"),
            ("r0_expiry", "2071-01-31"),
            ("r0_substitute", "NOPE-9"),
            ("action", "receive"),
        ])
        .await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = unknown.text().await.unwrap();
    assert!(
        html.contains("no active item has this code or barcode"),
        "{html}"
    );
    assert!(
        html.contains(r#"value="NOPE-9""#),
        "typed value kept: {html}"
    );
    assert_eq!(
        s.p.app.scalar("SELECT count(*) FROM receipt_lines").await,
        1
    );
    // By barcode.
    let res = s
        .post(&[
            ("r0_quantity", "10"),
            ("r0_substitute", "09506000134376"),
            ("action", "receive"),
        ])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let row: (i64, i64) =
        s.p.app
            .raw_connection()
            .query_row(
                "SELECT item_id, substitute FROM receipt_lines ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
    assert_eq!(row, (other, 1));
    // By code.
    let res = s
        .post(&[
            ("r0_quantity", "5"),
            ("r0_substitute", "art-1"),
            ("action", "receive"),
        ])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let substituted: i64 =
        s.p.app
            .raw_connection()
            .query_row(
                "SELECT substituted FROM order_lines WHERE id = ?1",
                [s.line],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(substituted, 15);
}

/// Goods scanned on the top-level *Receive* that belong to an order: the
/// page offers to receive them against it; an item on no order is said to
/// be received outside any order.
#[tokio::test]
async fn receive_offers_the_order_a_scanned_item_is_on() {
    let s = sent_order().await;
    let number: String =
        s.p.app
            .raw_connection()
            .query_row(
                "SELECT number FROM purchase_orders WHERE id = ?1",
                [s.order],
                |r| r.get(0),
            )
            .unwrap();
    let html = s.browser.get_html("/stock/receive?item=LID-1").await;
    assert!(
        html.contains(&format!(
            r#"<a href="/orders/{}/receive">Receive against {number}</a> — MedSupply: 30 ampoules still to come, for Treatment room › Cabinet A"#,
            s.order
        )),
        "{html}"
    );
    assert!(!html.contains(r#"data-testid="outside-orders""#));
    // The gauze came in full: it is on no open order.
    let html = s.browser.get_html("/stock/receive?item=GAU-1").await;
    assert!(!html.contains(r#"data-testid="on-order""#), "{html}");
    assert!(
        html.contains("This item is on no open order: what you receive here is added to stock outside any order."),
        "{html}"
    );
    // Using stock says nothing about orders.
    let html = s.browser.get_html("/stock/use?item=LID-1").await;
    assert!(!html.contains(r#"data-testid="on-order""#));
}
