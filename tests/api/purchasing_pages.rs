//! Practice details and approval rules, returns to suppliers and the
//! credits they owe: the pages, over HTTP with forms and CSRF tokens.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::stock::{Practice, movement, practice};

async fn stored_practice(app: &TestApp) -> stockroom::practice::Practice {
    app.db()
        .read(|c| stockroom::practice::practice(c).map_err(stockroom::db::DbError::from))
        .await
        .unwrap()
}

#[tokio::test]
async fn admin_saves_practice_details_and_a_bad_email_changes_nothing() {
    let app = spawn_app().await;
    let (b, _) = app.browser_as("admin").await;
    let html = b.get_html("/admin/practice").await;
    assert!(
        html.contains(r#"<label for="email">E-mail</label>"#),
        "{html}"
    );

    let res = b
        .post_form(
            "/admin/practice",
            &[
                ("name", "Riverside Surgery"),
                ("address", "1 River Road\r\nRiverton RT1 1AA"),
                ("phone", "+44 1234 567890"),
                ("email", "orders@riverside.example"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin/practice");
    let saved = stored_practice(&app).await;
    assert_eq!(saved.name, "Riverside Surgery");
    assert_eq!(saved.address, "1 River Road\nRiverton RT1 1AA");
    assert_eq!(saved.email, "orders@riverside.example");
    let html = b.get_html("/admin/practice").await;
    assert!(html.contains(r#"value="Riverside Surgery""#), "{html}");
    assert!(html.contains("1 River Road\nRiverton RT1 1AA</textarea>"));

    let res = b
        .post_form(
            "/admin/practice",
            &[
                ("name", "Hillside Surgery"),
                ("address", ""),
                ("phone", ""),
                ("email", "not-an-address"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r##"<a href="#email">E-mail must be an email address"##),
        "the summary names the field: {html}"
    );
    assert!(html.contains(r#"id="email-error""#));
    assert!(
        html.contains(r#"value="not-an-address""#),
        "what was typed stays"
    );
    assert_eq!(stored_practice(&app).await, saved, "nothing changed");
    assert_eq!(app.audit_count("settings.practice").await, 1);
}

#[tokio::test]
async fn managers_get_403_on_practice_settings() {
    let app = spawn_app().await;
    let (b, _) = app.browser_as("manager").await;
    assert_eq!(
        b.get("/admin/practice").await.status(),
        StatusCode::FORBIDDEN
    );
    let res = b
        .post_form("/admin/practice", &[("name", "Mine now")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = b
        .post_form(
            "/admin/approval-rules",
            &[
                ("kind", "amount_over"),
                ("amount", "1"),
                ("role", "manager"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(stored_practice(&app).await.name, "");
    assert_eq!(app.scalar("SELECT count(*) FROM approval_rules").await, 0);
}

#[tokio::test]
async fn admin_adds_approval_rules_and_switches_one_off() {
    let p = practice().await;
    let (b, _) = p.app.browser_as("admin").await;
    let res = post_json(
        &p.manager,
        p.url("/api/v1/categories"),
        &json!({"name": "Controlled drugs"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let category = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    let res = b
        .post_form(
            "/admin/approval-rules",
            &[
                ("kind", "amount_over"),
                ("amount", "lots"),
                ("role", "manager"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r##"<a href="#amount">Order total above must be an amount"##),
        "{html}"
    );
    assert_eq!(p.app.scalar("SELECT count(*) FROM approval_rules").await, 0);

    let res = b
        .post_form(
            "/admin/approval-rules",
            &[
                ("kind", "amount_over"),
                ("amount", "500,00"),
                ("role", "manager"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = b
        .post_form(
            "/admin/approval-rules",
            &[
                ("kind", "category"),
                ("category_id", &category.to_string()),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        p.app
            .scalar("SELECT amount_minor FROM approval_rules WHERE kind = 'amount_over' AND role = 'manager' AND active = 1")
            .await,
        50_000
    );
    assert_eq!(
        p.app
            .scalar("SELECT count(*) FROM approval_rules WHERE kind = 'category' AND role = 'admin' AND active = 1")
            .await,
        1
    );
    let html = b.get_html("/admin/practice").await;
    assert!(html.contains("total above 500.00"), "{html}");
    assert!(html.contains("contains Controlled drugs"), "{html}");

    let id = p
        .app
        .scalar("SELECT id FROM approval_rules WHERE kind = 'amount_over'")
        .await;
    let res = b
        .post_form(
            &format!("/admin/approval-rules/{id}/active"),
            &[("active", "0")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        p.app
            .scalar("SELECT active FROM approval_rules WHERE kind = 'amount_over'")
            .await,
        0
    );
    assert_eq!(
        p.app
            .scalar("SELECT active FROM approval_rules WHERE kind = 'category'")
            .await,
        1,
        "only that rule"
    );
    let html = b.get_html("/admin/practice").await;
    let table = html.split(r#"data-testid="rules""#).nth(1).unwrap();
    let row = table
        .split("<tr")
        .find(|r| r.contains("total above 500.00"))
        .unwrap();
    assert!(
        row.contains("inactive") && row.contains("Switch on"),
        "{row}"
    );
}

/// A supplier, 20 units of LID-1 (lot L42) in the cabinet, and the manager
/// signed in.
async fn stocked() -> (Practice, i64, Browser) {
    let p = practice().await;
    let res = post_json(
        &p.manager,
        p.url("/api/v1/suppliers"),
        &json!({"name": "MedSupply"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let supplier = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = post_json(
        &p.staff,
        p.url("/api/v1/movements"),
        &movement("receipt", p.item, p.cabinet, 20),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let b = p.app.new_browser();
    assert_eq!(
        b.login("mia", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    (p, supplier, b)
}

async fn on_hand(p: &Practice) -> i64 {
    p.app
        .scalar("SELECT coalesce(sum(quantity), 0) FROM stock_levels")
        .await
}

#[tokio::test]
async fn a_return_takes_stock_out_and_leaves_an_open_credit() {
    let (p, supplier, b) = stocked().await;
    let (supplier_s, cabinet) = (supplier.to_string(), p.cabinet.to_string());
    let html = b
        .get_html(&format!("/returns/new?supplier_id={supplier}"))
        .await;
    assert!(
        html.contains(&format!(r#"<option value="{supplier}" selected>MedSupply"#)),
        "{html}"
    );
    assert!(html.contains(r#"name="quantity_4""#), "five line rows");

    let res = b
        .post_form(
            "/returns",
            &[
                ("supplier_id", &supplier_s),
                ("order_number", ""),
                ("reason", "Damaged in transit"),
                ("expected_credit", "12,50"),
                ("item_0", ""),
                ("location_0", ""),
                ("item_1", "lid-1"),
                ("location_1", &cabinet),
                ("lot_1", "L42"),
                ("expiry_1", "2071-03-31"),
                ("quantity_1", "5"),
                ("item_2", ""),
                ("quantity_2", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = location(&res);
    assert!(page.starts_with("/returns/"), "{page}");
    assert_eq!(on_hand(&p).await, 15, "five units left stock");
    assert_eq!(
        p.app
            .scalar("SELECT count(*) FROM stock_movements WHERE kind = 'return' AND quantity = -5")
            .await,
        1
    );

    let html = b.get_html(&page).await;
    assert!(html.contains("Damaged in transit") && html.contains("Lidocaine 1%"));
    assert!(html.contains("Treatment room › Cabinet A"), "{html}");
    assert!(html.contains("<td>12.50</td><td>open</td>"), "{html}");

    let html = b.get_html("/credits").await;
    let totals = html.split(r#"data-testid="open-totals""#).nth(1).unwrap();
    assert!(
        totals.contains(">MedSupply</a></td><td>1</td><td>12.50</td>"),
        "{html}"
    );
    let html = b.get_html("/returns").await;
    assert!(html.contains("RET-") && html.contains("12.50"), "{html}");

    let html = b.get_html(&format!("/suppliers/{supplier}")).await;
    let credits = html.split("<h2>Open credits</h2>").nth(1).unwrap();
    assert!(
        credits.contains(r#"<td data-testid="open-credit-total">12.50</td>"#),
        "{html}"
    );
    assert!(html.contains(&format!(
        r#"href="/returns/new?supplier_id={supplier}">Return goods to this supplier</a>"#
    )));
}

#[tokio::test]
async fn a_return_of_more_than_is_there_is_refused_and_writes_nothing() {
    let (p, supplier, b) = stocked().await;
    let (supplier_s, cabinet) = (supplier.to_string(), p.cabinet.to_string());
    let movements = p.app.scalar("SELECT count(*) FROM stock_movements").await;
    let audits = p.app.scalar("SELECT count(*) FROM audit_log").await;
    let line = |quantity: &'static str| {
        vec![
            ("supplier_id", supplier_s.clone()),
            ("reason", "Wrong item sent".to_string()),
            ("expected_credit", "40.00".to_string()),
            ("item_0", "LID-1".to_string()),
            ("location_0", cabinet.clone()),
            ("lot_0", "L42".to_string()),
            ("expiry_0", "2071-03-31".to_string()),
            ("quantity_0", quantity.to_string()),
        ]
    };
    let fields = line("50");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = b.post_form("/returns", &fields).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(
            "Not enough stock: Lidocaine 1% at Treatment room › Cabinet A (lot L42) has 20 ampoules available"
        ),
        "{html}"
    );
    assert!(
        html.contains(r#"name="quantity_0" value="50""#),
        "typed values stay: {html}"
    );

    // An order number nobody issued is a field error, also with nothing written.
    let mut fields = line("2");
    fields.push(("order_number", "PO-1999-00001".into()));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = b.post_form("/returns", &fields).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r##"<a href="#order_number">Order number no order has this number</a>"##),
        "{html}"
    );

    assert_eq!(on_hand(&p).await, 20);
    assert_eq!(
        p.app.scalar("SELECT count(*) FROM supplier_returns").await,
        0
    );
    assert_eq!(p.app.scalar("SELECT count(*) FROM credits").await, 0);
    assert_eq!(
        p.app.scalar("SELECT count(*) FROM stock_movements").await,
        movements
    );
    assert_eq!(p.app.scalar("SELECT count(*) FROM audit_log").await, audits);
}

#[tokio::test]
async fn a_credit_owed_is_recorded_and_marked_received() {
    let (p, supplier, b) = stocked().await;
    let supplier_s = supplier.to_string();
    let res = b
        .post_form(
            "/credits",
            &[
                ("supplier_id", &supplier_s),
                ("amount", "30"),
                ("note", "Box arrived crushed"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = p.app.scalar("SELECT id FROM credits").await;
    assert_eq!(
        p.app
            .scalar("SELECT expected_minor FROM credits WHERE received_minor IS NULL")
            .await,
        3000
    );

    let url = format!("/credits/{id}/received");
    let res = b
        .post_form(&url, &[("credit_note", ""), ("amount", "30.00")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!(
            r##"<a href="#credit_note-{id}">Credit note number is required"##
        )),
        "{html}"
    );
    assert_eq!(
        p.app
            .scalar("SELECT count(*) FROM credits WHERE received_minor IS NULL")
            .await,
        1
    );

    let res = b
        .post_form(
            &url,
            &[
                ("credit_note", "CN-881"),
                ("amount", "29,50"),
                ("received_on", "2026-01-15"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        p.app
            .scalar("SELECT received_minor FROM credits WHERE credit_note = 'CN-881' AND received_on = '2026-01-15'")
            .await,
        2950
    );
    let html = b.get_html("/credits?open=1").await;
    assert!(!html.contains("Box arrived crushed"), "{html}");
    assert!(html.contains("No credits are owed."));
    let html = b.get_html("/credits").await;
    assert!(
        html.contains("29.50 on 2026-01-15") && html.contains("CN-881"),
        "{html}"
    );

    // Staff see credits but do not record or receive them.
    let s = p.app.new_browser();
    s.login("sam", PASSWORD).await;
    let html = s.get_html("/credits").await;
    assert!(html.contains("CN-881") && !html.contains("Record credit"));
    let res = s
        .post_form(
            "/credits",
            &[("supplier_id", &supplier_s), ("amount", "1"), ("note", "x")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(p.app.scalar("SELECT count(*) FROM credits").await, 1);
}
