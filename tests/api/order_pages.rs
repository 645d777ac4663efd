//! Order pages: the list, drafting through forms, actions and their
//! refusals, approval by another manager, the printed order and reorder
//! suggestions.

use reqwest::StatusCode;
use serde_json::{Value, json};
use stockroom::domain::Clock;

use crate::helpers::*;
use crate::stock::Practice;

/// The stock practice plus a supplier selling its item (10 ampoules a box
/// at 12.50) and a second supplier with nothing in its catalogue.
struct Shop {
    p: Practice,
    supplier: i64,
    other_supplier: i64,
}

/// Its application runs no job worker: a test that sends an order runs the
/// queue itself ([`TestApp::run_pending_jobs`]) and then looks at the page.
async fn shop() -> Shop {
    let p = crate::stock::practice_on(spawn_app_without_worker(|_| {}).await).await;
    let id = |v: Value| v["id"].as_i64().unwrap();
    let res = post_json(
        &p.manager,
        p.url("/api/v1/suppliers"),
        &json!({"name": "MedSupply", "account_number": "C-77", "contact_name": "Rita Roe",
                "email": "orders@medsupply.example", "phone": "+49 30 1234"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let supplier = id(res.json().await.unwrap());
    let res = post_json(
        &p.manager,
        p.url("/api/v1/suppliers"),
        &json!({"name": "Other Pharma"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let other_supplier = id(res.json().await.unwrap());
    let res = post_json(
        &p.manager,
        p.url("/api/v1/supplier-items"),
        &json!({"supplier_id": supplier, "item_id": p.item, "supplier_code": "MS-4411",
                "pack_size": 10, "price_minor": 1250, "preferred": true}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    Shop {
        p,
        supplier,
        other_supplier,
    }
}

impl Shop {
    fn supplier_item(&self) -> &'static str {
        "SELECT id FROM supplier_items WHERE supplier_code = 'MS-4411'"
    }

    /// A draft for `supplier` created through the page; its path.
    async fn draft(&self, b: &Browser, supplier: i64) -> String {
        let res = b
            .post_form("/orders", &[("supplier", &supplier.to_string())])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        location(&res)
    }

    /// Adds `packs` of the supplier's line for the cabinet through the form.
    async fn add_line(&self, b: &Browser, order: &str, packs: &str) -> reqwest::Response {
        let si = self.p.app.scalar(self.supplier_item()).await.to_string();
        b.post_form(
            &format!("{order}/lines"),
            &[
                ("supplier_item_id", &si),
                ("location_id", &self.p.cabinet.to_string()),
                ("packs", packs),
            ],
        )
        .await
    }

    async fn state(&self, order: &str) -> String {
        let id: i64 = order.trim_start_matches("/orders/").parse().unwrap();
        self.p
            .app
            .db()
            .read(move |c| {
                c.query_row(
                    "SELECT state FROM purchase_orders WHERE id = ?1",
                    [id],
                    |r| r.get::<_, String>(0),
                )
                .map_err(stockroom::db::DbError::from)
            })
            .await
            .unwrap()
    }

    /// Every order total above 0 needs a practice manager's approval.
    async fn approval_rule(&self) {
        let ctx = stockroom::audit::Context::system(self.p.app.clock.now());
        self.p
            .app
            .db()
            .write(move |tx| {
                stockroom::orders::rules::create(
                    tx,
                    &ctx,
                    "EUR",
                    &stockroom::orders::rules::RuleInput {
                        kind: "amount_over".into(),
                        amount_minor: Some(0),
                        category_id: None,
                        role: "manager".into(),
                    },
                )
            })
            .await
            .unwrap();
    }
}

pub(crate) async fn signed_in(app: &TestApp, username: &str) -> Browser {
    let b = app.new_browser();
    assert_eq!(
        b.login(username, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    b
}

#[tokio::test]
async fn the_list_shows_orders_and_filters_them_by_supplier_and_state() {
    let s = shop().await;
    let b = signed_in(&s.p.app, "mia").await;
    let first = s.draft(&b, s.supplier).await;
    let second = s.draft(&b, s.other_supplier).await;
    assert_ne!(first, second);

    let html = b.get_html("/orders").await;
    assert!(html.contains("2 orders"), "{html}");
    assert!(html.contains(r#"href="/orders/suggestions">Reorder suggestions</a>"#));
    assert!(html.contains("Waiting for my approval (0)"), "{html}");
    assert!(html.contains(r#"href="/orders/new">New order</a>"#));

    let html = b
        .get_html(&format!("/orders?supplier={}", s.other_supplier))
        .await;
    assert!(html.contains("1 order<"), "{html}");
    assert!(html.contains(&format!(r#"<a href="{second}">"#)), "{html}");
    assert!(!html.contains(&format!(r#"<a href="{first}">"#)), "{html}");
    assert!(html.contains("<td>Other Pharma</td>\n    <td>Draft</td>\n    <td>0.00</td>"));

    let html = b.get_html("/orders?state=approved").await;
    assert!(html.contains("0 orders"), "{html}");

    let res = b.get("/orders?state=lost").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("State: is not one of the choices"), "{html}");

    // Staff see no approval queue link.
    let staff = signed_in(&s.p.app, "sam").await;
    let html = staff.get_html("/orders").await;
    assert!(!html.contains("Waiting for my approval"));
    assert!(html.contains("New order"));
}

#[tokio::test]
async fn a_draft_is_created_filled_and_submitted_through_the_forms() {
    let s = shop().await;
    let b = signed_in(&s.p.app, "sam").await;

    let res = b.post_form("/orders", &[("supplier", "")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("Supplier is required"));
    assert_eq!(
        s.p.app.scalar("SELECT count(*) FROM purchase_orders").await,
        0
    );

    let html = b.get_html("/orders/new").await;
    assert!(html.contains(r#"<label for="supplier">Supplier</label>"#));
    let order = s.draft(&b, s.supplier).await;
    assert!(order.starts_with("/orders/"), "{order}");
    let html = b.get_html(&order).await;
    assert!(html.contains("Created draft PO-"), "flash: {html}");
    assert!(html.contains(r#"<dd data-testid="order-state">Draft</dd>"#));
    assert!(html.contains("MS-4411 · 10 per pack · 12.50 EUR"), "{html}");

    // Bad packs are named beside the field; nothing is added.
    let res = s.add_line(&b, &order, "0").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(
            r##"<a href="#line_packs">Packs: must be a whole number from 1 to 100000</a>"##
        ),
        "{html}"
    );
    assert_eq!(s.p.app.scalar("SELECT count(*) FROM order_lines").await, 0);

    let res = s.add_line(&b, &order, "2").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = b.get_html(&order).await;
    assert!(html.contains("2 × 10 = 20 ampoule"), "{html}");
    assert!(
        html.contains("<td>12.50</td>\n    <td>25.00</td>"),
        "{html}"
    );
    assert!(html.contains("25.00 EUR"));

    // Change the line's packs, then submit.
    let line = s.p.app.scalar("SELECT id FROM order_lines").await;
    let res = b
        .post_form(
            &format!("{order}/lines/{line}"),
            &[("packs", "3"), ("location_id", &s.p.cabinet.to_string())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(s.p.app.scalar("SELECT quantity FROM order_lines").await, 30);

    let html = b.get_html(&order).await;
    assert!(html.contains(">Submit for approval</button>"));
    let res = b.post_form(&format!("{order}/submit"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), order);
    assert_eq!(
        s.state(&order).await,
        "approved",
        "no rule asks for approval"
    );
    let html = b.get_html(&order).await;
    assert!(html.contains("no approval was needed"), "{html}");
    assert!(!html.contains("Add a line"), "no longer editable");
    assert!(html.contains("Draft → Approved"), "timeline: {html}");
}

#[tokio::test]
async fn a_refused_action_shows_why_and_changes_nothing() {
    let s = shop().await;
    let b = signed_in(&s.p.app, "mia").await;
    let order = s.draft(&b, s.supplier).await;
    let events = s.p.app.scalar("SELECT count(*) FROM order_events").await;

    let res = b.post_form(&format!("{order}/submit"), &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("an order needs at least one line to be submitted"),
        "{html}"
    );
    assert!(html.contains(r#"class="flash flash-error""#));
    assert_eq!(s.state(&order).await, "draft");
    assert_eq!(
        s.p.app.scalar("SELECT count(*) FROM order_events").await,
        events
    );

    // Closing a draft is not a step of its life either.
    let res = b
        .post_form(&format!("{order}/close"), &[("reason", "x")])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(": cannot close an order that is draft"),
        "{html}"
    );
    assert_eq!(s.state(&order).await, "draft");
    assert_eq!(
        s.p.app.scalar("SELECT count(*) FROM order_events").await,
        events
    );
}

#[tokio::test]
async fn another_manager_approves_what_one_submitted() {
    let s = shop().await;
    s.approval_rule().await;
    s.p.app.create_user("max", "manager").await;
    let mia = signed_in(&s.p.app, "mia").await;
    let order = s.draft(&mia, s.supplier).await;
    assert_eq!(
        s.add_line(&mia, &order, "1").await.status(),
        StatusCode::SEE_OTHER
    );
    let res = mia.post_form(&format!("{order}/submit"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(s.state(&order).await, "submitted");

    // The submitter may not approve their own order.
    let res = mia.post_form(&format!("{order}/approve"), &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"class="flash flash-error""#), "{html}");
    assert_eq!(s.state(&order).await, "submitted");

    let max = signed_in(&s.p.app, "max").await;
    let html = max.get_html("/").await;
    assert!(html.contains("1 order waits for your approval"), "{html}");
    assert!(html.contains("0 deliveries overdue"), "{html}");
    let html = max.get_html("/orders/approvals").await;
    assert!(
        html.contains(&format!(r#"<a href="{order}">PO-"#)),
        "{html}"
    );
    let html = max.get_html(&order).await;
    assert!(html.contains(">Approve</button>") && html.contains(">Reject</button>"));
    assert!(
        html.contains("total above 0.00 EUR"),
        "approval step: {html}"
    );
    let res = max.post_form(&format!("{order}/approve"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(s.state(&order).await, "approved");
    let html = max.get_html(&order).await;
    assert!(
        html.contains(&format!("Approved {}", html_number(&html))),
        "{html}"
    );
    assert!(
        html.contains("<td>max</td>") || html.contains(">max<"),
        "{html}"
    );
    let html = max.get_html("/orders/approvals").await;
    assert!(html.contains("No order waits for your approval"));

    // Staff cannot approve at all.
    let sam = signed_in(&s.p.app, "sam").await;
    assert_eq!(
        sam.post_form(&format!("{order}/approve"), &[])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

/// The order number shown in the page heading.
fn html_number(html: &str) -> String {
    let start = html.find("<h1>Order ").unwrap() + "<h1>Order ".len();
    html[start..start + 13].to_string()
}

#[tokio::test]
async fn the_printed_order_shows_practice_supplier_codes_and_total() {
    let s = shop().await;
    let ctx = stockroom::audit::Context::system(s.p.app.clock.now());
    s.p.app
        .db()
        .write(move |tx| {
            stockroom::practice::set_practice(
                tx,
                &ctx,
                &stockroom::practice::Practice {
                    name: "Praxis Dr. Lindqvist".into(),
                    address: "Hauptstr. 1\n10115 Berlin".into(),
                    phone: "+49 30 555".into(),
                    email: String::new(),
                },
            )
        })
        .await
        .unwrap();
    let b = signed_in(&s.p.app, "mia").await;
    let order = s.draft(&b, s.supplier).await;
    assert_eq!(
        s.add_line(&b, &order, "4").await.status(),
        StatusCode::SEE_OTHER
    );
    let html = b.get_html(&format!("{order}/print")).await;
    assert!(html.contains("Praxis Dr. Lindqvist"), "{html}");
    assert!(html.contains("<p>10115 Berlin</p>"), "{html}");
    assert!(html.contains("Our account number: C-77"));
    assert!(
        html.contains(
            "<td>MS-4411</td><td>Lidocaine 1%</td><td>4</td><td>10</td><td>12.50</td><td>50.00</td>"
        ),
        "{html}"
    );
    assert!(html.contains(r#"<td data-testid="print-total">50.00</td>"#));
}

#[tokio::test]
async fn suggestions_turn_into_a_draft_order() {
    let s = shop().await;
    let res =
        s.p.manager
            .put(s.p.url(&format!(
                "/api/v1/items/{}/targets/{}",
                s.p.item, s.p.cabinet
            )))
            .json(&json!({"reorder_point": 5, "par_level": 25}))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let b = signed_in(&s.p.app, "sam").await;
    let html = b.get_html("/orders/suggestions").await;
    assert!(
        html.contains(&format!(r#"<h2 id="group-{}">MedSupply</h2>"#, s.supplier)),
        "{html}"
    );
    assert!(html.contains("<td>25 ampoule</td>"), "need: {html}");
    assert!(html.contains("3 × 10 = 30 ampoule"), "{html}");
    assert!(html.contains(r#"<td data-testid="group-total">37.50</td>"#));
    assert!(html.contains(&format!(
        r#"action="/orders/suggestions/{}/draft""#,
        s.supplier
    )));
    assert!(html.contains(">Create draft order</button>"));

    let res = b
        .post_form(&format!("/orders/suggestions/{}/draft", s.supplier), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let order = location(&res);
    assert_eq!(s.state(&order).await, "draft");
    assert_eq!(s.p.app.scalar("SELECT packs FROM order_lines").await, 3);
    let html = b.get_html(&order).await;
    assert!(html.contains("from the suggestions"), "{html}");

    // Now on order: nothing left to suggest, and asking again is refused
    // with the reason.
    let html = b.get_html("/orders/suggestions").await;
    assert!(html.contains("Nothing needs ordering right now."), "{html}");
    let res = b
        .post_form(&format!("/orders/suggestions/{}/draft", s.supplier), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/orders/suggestions");
    let html = b.get_html("/orders/suggestions").await;
    assert!(
        html.contains("Nothing to order from this supplier"),
        "{html}"
    );
    assert_eq!(
        s.p.app.scalar("SELECT count(*) FROM purchase_orders").await,
        1
    );
}

#[tokio::test]
async fn the_note_of_a_draft_and_the_date_of_a_sent_order_can_be_changed() {
    let s = shop().await;
    let mia = signed_in(&s.p.app, "mia").await;
    let order = s.draft(&mia, s.supplier).await;
    let res = s.add_line(&mia, &order, "2").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = mia
        .post_form(
            &format!("{order}/details"),
            &[("note", "Please deliver to the side door")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = mia.get_html(&order).await;
    assert!(html.contains("Please deliver to the side door"), "{html}");
    let print = mia.get_html(&format!("{order}/print")).await;
    assert!(print.contains("Please deliver to the side door"), "{print}");
    for action in ["submit", "mark-sent"] {
        let res = mia.post_form(&format!("{order}/{action}"), &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{action}");
    }
    // The note is fixed once submitted; the expected date is not.
    let html = mia.get_html(&order).await;
    assert!(!html.contains(r#"id="details_note""#), "{html}");
    let res = mia
        .post_form(
            &format!("{order}/details"),
            &[("expected_on", "31.12.2026")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Expected delivery: must be a date in the form YYYY-MM-DD"),
        "{html}"
    );
    assert!(
        html.contains(r#"value="31.12.2026""#),
        "typed value kept: {html}"
    );
    let res = mia
        .post_form(
            &format!("{order}/details"),
            &[("expected_on", "2026-12-31")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id: i64 = order.trim_start_matches("/orders/").parse().unwrap();
    let expected: String =
        s.p.app
            .raw_connection()
            .query_row(
                "SELECT expected_on FROM purchase_orders WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(expected, "2026-12-31");
    let res = mia
        .post_form(&format!("{order}/details"), &[("note", "changed")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Cancelling what was placed reminds to tell the supplier.
    let res = mia
        .post_form(&format!("{order}/cancel"), &[("reason", "ordered twice")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = mia.get_html(&order).await;
    assert!(
        html.contains("It had already been placed: tell the supplier it is cancelled."),
        "{html}"
    );
}

/// An approved order for the shop's supplier, through the pages; its path.
async fn approved_order(s: &Shop, b: &Browser) -> String {
    let order = s.draft(b, s.supplier).await;
    assert_eq!(
        s.add_line(b, &order, "2").await.status(),
        StatusCode::SEE_OTHER
    );
    let res = b.post_form(&format!("{order}/submit"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(s.state(&order).await, "approved");
    order
}

/// Sets the supplier's channel to a CSV file into `folder` through its page.
/// Where orders go is an administrator's to set, so the office administrator sets it; `_b` is
/// whoever goes on to use it.
async fn csv_channel(s: &Shop, _b: &Browser, folder: &str) {
    let office = signed_in(&s.p.app, "office-admin").await;
    let res = office
        .post_form(
            &format!("/suppliers/{}/dispatch", s.supplier),
            &[
                ("channel", "csv_folder"),
                ("folder", folder),
                ("columns", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

fn order_id(order: &str) -> i64 {
    order.trim_start_matches("/orders/").parse().unwrap()
}

/// The order page once the queue has run what is due: `done` must hold of
/// it.
async fn page_after_jobs(
    s: &Shop,
    b: &Browser,
    order: &str,
    done: impl Fn(&str) -> bool,
) -> String {
    s.p.app.run_pending_jobs().await;
    let html = b.get_html(order).await;
    assert!(done(&html), "the order page is not there yet: {html}");
    html
}

#[tokio::test]
async fn the_supplier_page_sets_how_orders_are_sent() {
    let s = shop().await;
    let page = format!("/suppliers/{}", s.supplier);
    // A manager sees where orders go and may send a test, but changing the
    // destination is an administrator's action.
    let manager = signed_in(&s.p.app, "mia").await;
    let html = manager.get_html(&page).await;
    assert!(!html.contains("dispatch-form"), "{html}");
    assert!(
        html.contains("Only an administrator can change where orders are sent."),
        "{html}"
    );
    let res = manager
        .post_form(
            &format!("{page}/dispatch"),
            &[
                ("channel", "csv_folder"),
                ("folder", "mine"),
                ("columns", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let mia = signed_in(&s.p.app, "office-admin").await;
    let html = mia.get_html(&page).await;
    assert!(html.contains("How orders are sent"), "{html}");
    assert!(
        html.contains("Placed by phone or portal, marked as sent by hand"),
        "{html}"
    );
    assert!(html.contains(r#"<label for="folder">Folder"#), "{html}");
    assert!(
        html.contains("Leave empty for the default layout: order_number, line,"),
        "{html}"
    );
    let channel = || {
        s.p.app
            .raw_connection()
            .query_row(
                "SELECT dispatch_channel || ' ' || dispatch_settings FROM suppliers WHERE id = ?1",
                [s.supplier],
                |r| r.get::<_, String>(0),
            )
            .unwrap()
    };
    let before = channel();

    // A folder outside the root is named beside the field; nothing changes.
    let res = mia
        .post_form(
            &format!("{page}/dispatch"),
            &[
                ("channel", "csv_folder"),
                ("folder", "../etc"),
                ("columns", "order_number, packs"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r##"<a href="#folder">Folder must be a folder name"##),
        "{html}"
    );
    assert!(
        html.contains(r#"<p class="field-error" id="folder-error">Folder: must be a folder name"#),
        "{html}"
    );
    assert!(
        html.contains("order_number, packs"),
        "typed columns kept: {html}"
    );
    assert!(
        html.contains(r#"value="../etc""#),
        "typed folder kept: {html}"
    );
    assert_eq!(channel(), before);
    assert_eq!(s.p.app.audit_count("supplier.dispatch").await, 0);

    let res = mia
        .post_form(
            &format!("{page}/dispatch"),
            &[
                ("channel", "csv_folder"),
                ("folder", "medsupply"),
                ("columns", "order_number, supplier_code, packs"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), page);
    assert!(channel().starts_with("csv_folder "), "{}", channel());
    assert_eq!(s.p.app.audit_count("supplier.dispatch").await, 1);
    let html = mia.get_html(&page).await;
    assert!(
        html.contains(
            "CSV file into folder medsupply (columns order_number, supplier_code, packs)"
        ),
        "{html}"
    );
    assert!(html.contains(r#"value="medsupply""#), "{html}");

    // Staff see the channel but not the form.
    let sam = signed_in(&s.p.app, "sam").await;
    let html = sam.get_html(&page).await;
    assert!(html.contains("CSV file into folder medsupply"), "{html}");
    assert!(!html.contains("dispatch-form"), "{html}");
}

#[tokio::test]
async fn send_to_supplier_is_offered_only_when_the_supplier_has_a_channel() {
    let s = shop().await;
    let mia = signed_in(&s.p.app, "mia").await;
    let order = approved_order(&s, &mia).await;
    let html = mia.get_html(&order).await;
    assert!(html.contains(">Mark as sent</button>"), "{html}");
    assert!(!html.contains(">Send to supplier</button>"), "{html}");
    // Sending anyway is refused like any other action.
    let res = mia.post_form(&format!("{order}/send"), &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("has no sending channel"));
    assert_eq!(s.state(&order).await, "approved");

    csv_channel(&s, &mia, "medsupply").await;
    let html = mia.get_html(&order).await;
    assert!(html.contains(">Send to supplier</button>"), "{html}");
    assert!(html.contains(">Mark as sent</button>"), "{html}");
}

#[tokio::test]
async fn an_order_sent_through_the_page_lands_in_the_supplier_folder() {
    let s = shop().await;
    let root = s.p.app.config.dispatch.folder_root.clone();
    std::fs::create_dir_all(&root).unwrap();
    let mia = signed_in(&s.p.app, "mia").await;
    csv_channel(&s, &mia, "medsupply").await;
    let order = approved_order(&s, &mia).await;
    let res = mia.post_form(&format!("{order}/send"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), order);
    let number: String =
        s.p.app
            .raw_connection()
            .query_row(
                "SELECT number FROM purchase_orders WHERE id = ?1",
                [order_id(&order)],
                |r| r.get(0),
            )
            .unwrap();
    let html = page_after_jobs(&s, &mia, &order, |h| {
        h.contains(r#"<dd data-testid="order-state">Sent</dd>"#)
    })
    .await;
    assert!(!html.contains(">Send to supplier</button>"), "{html}");
    let file = root.join("medsupply").join(format!("{number}.csv"));
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(csv.contains("MS-4411"), "{csv}");
    assert!(csv.contains(&number), "{csv}");
}

#[tokio::test]
async fn a_missing_folder_root_keeps_the_order_queued_and_shows_the_retry() {
    let s = shop().await;
    // The default outbox is made at start; gone, it is a share not mounted.
    let root = s.p.app.config.dispatch.folder_root.clone();
    assert!(root.is_dir(), "made at start");
    std::fs::remove_dir(&root).unwrap();
    let mia = signed_in(&s.p.app, "mia").await;
    csv_channel(&s, &mia, "medsupply").await;
    let order = approved_order(&s, &mia).await;
    let res = mia.post_form(&format!("{order}/send"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = mia.get_html(&order).await;
    assert!(
        html.contains("Queued PO-") && html.contains(" to be sent to MedSupply."),
        "{html}"
    );
    let html = page_after_jobs(&s, &mia, &order, |h| h.contains("is not there")).await;
    assert!(
        html.contains(r#"<dd data-testid="order-state">Queued to send</dd>"#),
        "{html}"
    );
    assert!(html.contains(r#"data-testid="order-sending""#), "{html}");
    assert!(
        html.contains(r#"<dd data-testid="sending-attempt">attempt 1 of 8</dd>"#),
        "{html}"
    );
    assert!(html.contains(r#"data-testid="sending-next-try""#), "{html}");
    assert!(
        html.contains("is not there (is the share mounted?)"),
        "{html}"
    );
    assert_eq!(s.state(&order).await, "queued");
}

#[tokio::test]
async fn a_failed_send_is_retried_from_the_page() {
    let s = shop().await;
    let mia = signed_in(&s.p.app, "mia").await;
    csv_channel(&s, &mia, "medsupply").await;
    let order = approved_order(&s, &mia).await;
    // Settings that cannot work fail the send for good.
    s.p.app
        .raw_connection()
        .execute(
            "UPDATE suppliers SET dispatch_settings = '{\"folder\": \"../etc\"}' WHERE id = ?1",
            [s.supplier],
        )
        .unwrap();
    let res = mia.post_form(&format!("{order}/send"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = page_after_jobs(&s, &mia, &order, |h| {
        h.contains(r#"<dd data-testid="order-state">Sending failed</dd>"#)
    })
    .await;
    assert!(html.contains(r#"data-testid="sending-reason""#), "{html}");
    assert!(html.contains("settings are wrong"), "{html}");
    assert!(html.contains(">Retry sending</button>"), "{html}");
    assert!(html.contains(">Mark as sent</button>"), "{html}");

    let res = mia.post_form(&format!("{order}/retry-send"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = mia.get_html(&order).await;
    assert!(
        html.contains("Sending PO-") && html.contains(" again."),
        "{html}"
    );
    assert_eq!(
        s.p.app
            .scalar("SELECT count(*) FROM jobs WHERE kind = 'order.dispatch'")
            .await,
        2
    );
}
