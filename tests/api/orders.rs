//! Purchase orders over HTTP: the lifecycle with approvals, refusals that
//! change nothing, receiving (including two people receiving the same line
//! at once), suggestions, returns and credits.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::stock::Practice;

pub(crate) struct Ordering {
    pub(crate) p: Practice,
    pub(crate) admin: reqwest::Client,
    pub(crate) other_manager: reqwest::Client,
    viewer: reqwest::Client,
    pub(crate) supplier: i64,
    pub(crate) supplier_item: i64,
}

/// The stock test practice plus a supplier selling the lidocaine in packs
/// of 10 at 25.00, an admin, a second manager and a viewer.
pub(crate) async fn ordering() -> Ordering {
    ordering_with(|_| {}).await
}

/// The same on a configuration the test adjusts.
pub(crate) async fn ordering_with(adjust: impl FnOnce(&mut stockroom::config::Config)) -> Ordering {
    ordering_on(spawn_app_with(adjust).await).await
}

/// The same on an application without its job worker: the test runs the
/// queue itself ([`TestApp::run_pending_jobs`]), one step at a time.
pub(crate) async fn ordering_stepped(
    adjust: impl FnOnce(&mut stockroom::config::Config),
) -> Ordering {
    ordering_on(spawn_app_without_worker(adjust).await).await
}

/// The ordering practice set up on `app`.
pub(crate) async fn ordering_on(app: TestApp) -> Ordering {
    let p = crate::stock::practice_on(app).await;
    let ada = p.app.create_user("ada", "admin").await;
    let max = p.app.create_user("max", "manager").await;
    let vic = p.app.create_user("vic", "viewer").await;
    let admin = api(&create_token(&p.app, ada.id, "write").await);
    let other_manager = api(&create_token(&p.app, max.id, "write").await);
    let viewer = api(&create_token(&p.app, vic.id, "write").await);
    let res = post_json(
        &p.manager,
        p.url("/api/v1/suppliers"),
        &json!({"name": "MedSupply", "lead_time_days": 2}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let supplier = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = post_json(
        &p.manager,
        p.url("/api/v1/supplier-items"),
        &json!({"supplier_id": supplier, "item_id": p.item, "supplier_code": "LD-10",
                "pack_size": 10, "price_minor": 2500, "preferred": true}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let supplier_item = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    Ordering {
        p,
        admin,
        other_manager,
        viewer,
        supplier,
        supplier_item,
    }
}

impl Ordering {
    pub(crate) async fn post(
        &self,
        who: &reqwest::Client,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let res = post_json(who, self.p.url(path), &body).await;
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// The rule that an order above 10.00 waits for a practice manager.
    pub(crate) async fn manager_approves_over_10(&self) {
        let (s, b) = self
            .post(
                &self.admin,
                "/api/v1/approval-rules",
                json!({"kind": "amount_over", "amount_minor": 1000, "role": "manager"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }

    /// A draft by the staff member with `packs` packs for the cabinet.
    pub(crate) async fn draft(&self, packs: i64) -> Value {
        let (status, body) = self
            .post(
                &self.p.staff,
                "/api/v1/orders",
                json!({"supplier_id": self.supplier, "lines": [
                    {"supplier_item_id": self.supplier_item, "location_id": self.p.cabinet, "packs": packs}]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// A draft taken to `sent` by the manager; returns (order id, line id).
    pub(crate) async fn sent(&self, packs: i64) -> (i64, i64) {
        let d = self.draft(packs).await;
        let id = d["order"]["id"].as_i64().unwrap();
        let line = d["lines"][0]["id"].as_i64().unwrap();
        for action in ["submit", "mark-sent"] {
            let (s, b) = self
                .post(
                    &self.p.manager,
                    &format!("/api/v1/orders/{id}/{action}"),
                    json!({}),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{action}: {b}");
        }
        (id, line)
    }
}

fn receipt(line: i64, quantity: i64, lot: &str) -> Value {
    json!({"lines": [{"order_line_id": line, "quantity": quantity, "lot": lot, "expiry": "2071-06-30"}]})
}

#[tokio::test]
async fn an_order_goes_from_draft_through_approval_to_received() {
    let o = ordering().await;
    o.manager_approves_over_10().await;
    let d = o.draft(3).await;
    let id = d["order"]["id"].as_i64().unwrap();
    let line = d["lines"][0]["id"].as_i64().unwrap();
    assert_eq!(d["order"]["state"], "draft");
    assert_eq!(d["order"]["total_minor"], 7500);
    assert!(d["order"]["number"].as_str().unwrap().starts_with("PO-"));

    let (s, b) = o
        .post(
            &o.p.staff,
            &format!("/api/v1/orders/{id}/submit"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, b["state"].as_str()),
        (StatusCode::OK, Some("submitted"))
    );
    // Staff may not approve at all; the queue shows the order to managers.
    let (s, _) = o
        .post(
            &o.p.staff,
            &format!("/api/v1/orders/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let queue = get_json(&o.p.manager, o.p.url("/api/v1/approvals")).await["items"].clone();
    assert_eq!(queue[0]["id"], id);
    let (s, b) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, b["state"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{b}"
    );

    // Illegal now: refused with the reason, nothing changes.
    let audit_before = o.p.app.scalar("SELECT count(*) FROM audit_log").await;
    let (s, b) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/receipts"),
            receipt(line, 10, "A"),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot receive goods against an order that is approved"),
        "{b}"
    );
    assert_eq!(b["error"]["code"], "order-action-not-allowed", "{b}");
    let (s, _) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/reopen"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(
        o.p.app.scalar("SELECT count(*) FROM audit_log").await,
        audit_before
    );
    // A viewer cannot act; staff cannot place the order.
    let (s, _) = o
        .post(
            &o.viewer,
            &format!("/api/v1/orders/{id}/cancel"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = o
        .post(
            &o.p.staff,
            &format!("/api/v1/orders/{id}/mark-sent"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, b) = o
        .post(
            &o.other_manager,
            &format!("/api/v1/orders/{id}/mark-sent"),
            json!({}),
        )
        .await;
    assert_eq!((s, b["state"].as_str()), (StatusCode::OK, Some("sent")));
    let (s, b) = o
        .post(
            &o.other_manager,
            &format!("/api/v1/orders/{id}/acknowledge"),
            json!({"expected_on": "2026-12-24", "supplier_reference": "SO-991"}),
        )
        .await;
    assert_eq!(
        (s, b["state"].as_str(), b["expected_on"].as_str()),
        (StatusCode::OK, Some("acknowledged"), Some("2026-12-24"))
    );

    // Two deliveries of different lots.
    let (s, r) = o
        .post(
            &o.p.staff,
            &format!("/api/v1/orders/{id}/receipts"),
            receipt(line, 10, "A1"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r["lines"][0]["lot"], "A1");
    let got = get_json(&o.p.staff, o.p.url(&format!("/api/v1/orders/{id}"))).await;
    assert_eq!(got["order"]["state"], "partially_received");
    let (s, _) = o
        .post(
            &o.p.staff,
            &format!("/api/v1/orders/{id}/receipts"),
            receipt(line, 20, "B2"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let got = get_json(&o.p.staff, o.p.url(&format!("/api/v1/orders/{id}"))).await;
    assert_eq!(got["order"]["state"], "received");
    assert_eq!(got["lines"][0]["received"], 30);
    assert_eq!(got["receipts"].as_array().unwrap().len(), 2);
    let actions: Vec<&str> = got["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "create",
            "submit",
            "approve",
            "mark_sent",
            "acknowledge",
            "receive",
            "receive"
        ]
    );
    let on_hand =
        o.p.app
            .scalar("SELECT coalesce(sum(quantity), 0) FROM stock_levels")
            .await;
    assert_eq!(on_hand, 30);
    let (s, b) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/close"),
            json!({}),
        )
        .await;
    assert_eq!((s, b["state"].as_str()), (StatusCode::OK, Some("closed")));
    // The list filters by state.
    let list = get_json(&o.viewer, o.p.url("/api/v1/orders?state=closed")).await;
    assert_eq!(list["total"], 1);
    let res = o
        .viewer
        .get(o.p.url("/api/v1/orders?state=shipped"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    o.p.app.assert_audit_chain_intact().await;
}

/// A refusal names its rule with a stable code, not just "conflict".
#[tokio::test]
async fn a_manager_approving_an_order_they_submitted_is_refused_with_its_code() {
    let o = ordering().await;
    o.manager_approves_over_10().await;
    let d = o.draft(3).await;
    let id = d["order"]["id"].as_i64().unwrap();
    let (s, b) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/submit"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, b["state"].as_str()),
        (StatusCode::OK, Some("submitted"))
    );
    let (s, b) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(
        b["error"]["code"], "order-not-approvable-by-submitter",
        "{b}"
    );
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("You cannot approve an order you created or submitted"),
        "{b}"
    );
}

#[tokio::test]
async fn bad_input_names_the_field_and_writes_nothing() {
    let o = ordering().await;
    let (s, b) = o
        .post(
            &o.p.staff,
            "/api/v1/orders",
            json!({"supplier_id": o.supplier, "lines": [
                {"supplier_item_id": o.supplier_item, "location_id": o.p.cabinet, "packs": 0}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(b["error"]["details"][0]["field"], "lines[0].packs");
    assert_eq!(
        o.p.app.scalar("SELECT count(*) FROM purchase_orders").await,
        0
    );
    let (id, line) = o.sent(1).await;
    // Lot-tracked: a receipt without a lot is refused on that line's field.
    let (s, b) = o
        .post(
            &o.p.staff,
            &format!("/api/v1/orders/{id}/receipts"),
            json!({"lines": [{"order_line_id": line, "quantity": 5, "expiry": "2071-01-31"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(b["error"]["details"][0]["field"], "lines[0].lot");
    assert_eq!(o.p.app.scalar("SELECT count(*) FROM receipts").await, 0);
    // Not a JSON object.
    let res =
        o.p.manager
            .post(o.p.url(&format!("/api/v1/orders/{id}/cancel")))
            .body("reason=oops")
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res =
        o.p.staff
            .get(o.p.url("/api/v1/orders/999999"))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// Two people receive the same line at once, many times over: without the
/// over-delivery confirmation the line never takes more than was ordered,
/// and the ledger holds exactly what the accepted receipts say.
#[tokio::test]
async fn receiving_the_same_line_at_once_never_exceeds_the_order() {
    let o = ordering().await;
    for round in 0..3 {
        let (id, line) = o.sent(10).await; // 100 ampoules
        let mut tasks = Vec::new();
        for i in 0..8 {
            let client = if i % 2 == 0 {
                o.p.staff.clone()
            } else {
                o.p.manager.clone()
            };
            let url = o.p.url(&format!("/api/v1/orders/{id}/receipts"));
            let body = receipt(line, 30, &format!("R{round}-{i}"));
            tasks.push(tokio::spawn(async move {
                client.post(url).json(&body).send().await.unwrap().status()
            }));
        }
        let mut accepted = 0;
        for t in tasks {
            match t.await.unwrap() {
                StatusCode::CREATED => accepted += 1,
                StatusCode::UNPROCESSABLE_ENTITY => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(accepted, 3, "30 + 30 + 30 fit into 100, a fourth would not");
        let got = get_json(&o.p.staff, o.p.url(&format!("/api/v1/orders/{id}"))).await;
        assert_eq!(got["lines"][0]["received"], 90);
        assert_eq!(got["order"]["state"], "partially_received");
    }
    let stocked =
        o.p.app
            .scalar("SELECT coalesce(sum(quantity), 0) FROM receipt_lines")
            .await;
    let ledger =
        o.p.app
            .scalar("SELECT coalesce(sum(quantity), 0) FROM stock_movements")
            .await;
    assert_eq!((stocked, ledger), (270, 270));
}

#[tokio::test]
async fn suggestions_become_a_draft_and_returns_create_credits() {
    let o = ordering().await;
    let res =
        o.p.manager
            .put(o.p.url(&format!(
                "/api/v1/items/{}/targets/{}",
                o.p.item, o.p.cabinet
            )))
            .json(&json!({"reorder_point": 5, "par_level": 25}))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let groups = get_json(&o.p.staff, o.p.url("/api/v1/order-suggestions")).await["items"].clone();
    assert_eq!(groups[0]["supplier_name"], "MedSupply");
    assert_eq!(
        groups[0]["lines"][0]["packs"], 3,
        "25 ampoules in packs of 10"
    );
    let (s, d) = o
        .post(
            &o.p.staff,
            &format!("/api/v1/order-suggestions/{}/draft", o.supplier),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(d["lines"][0]["packs"], 3);
    let groups = get_json(&o.p.staff, o.p.url("/api/v1/order-suggestions")).await["items"].clone();
    assert_eq!(
        groups.as_array().unwrap().len(),
        0,
        "on order now: {groups}"
    );

    // Receive 30, send 10 back with a credit expected, then the credit note.
    let (id, line) = o.sent(3).await;
    let (s, _) = o
        .post(
            &o.p.staff,
            &format!("/api/v1/orders/{id}/receipts"),
            receipt(line, 30, "L1"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let ret = json!({"supplier_id": o.supplier, "order_id": id, "reason": "damaged in transit",
        "expected_credit_minor": 2500, "lines": [{"item_id": o.p.item, "location_id": o.p.cabinet,
        "lot": "L1", "expiry": "2071-06-30", "quantity": 10}]});
    let (s, _) = o.post(&o.p.staff, "/api/v1/returns", ret.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "returns are for managers");
    let (s, r) = o.post(&o.p.manager, "/api/v1/returns", ret.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r["lines"][0]["quantity"], 10);
    let credits = get_json(
        &o.p.staff,
        o.p.url(&format!(
            "/api/v1/credits?supplier_id={}&open=true",
            o.supplier
        )),
    )
    .await["items"]
        .clone();
    assert_eq!(credits[0]["expected_minor"], 2500);
    let credit = credits[0]["id"].as_i64().unwrap();
    // More than is left is refused with the ledger's message.
    let mut too_much = ret.clone();
    too_much["lines"][0]["quantity"] = json!(21);
    let (s, b) = o.post(&o.p.manager, "/api/v1/returns", too_much).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("has 20 ampoules available"),
        "{b}"
    );
    assert_eq!(
        o.p.app
            .scalar("SELECT count(*) FROM supplier_returns")
            .await,
        1
    );
    let (s, c) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/credits/{credit}/received"),
            json!({"credit_note": "CN-1", "received_minor": 2500}),
        )
        .await;
    assert_eq!(
        (s, c["credit_note"].as_str()),
        (StatusCode::OK, Some("CN-1"))
    );
    let open = get_json(&o.p.staff, o.p.url("/api/v1/credits?open=true")).await["items"].clone();
    assert_eq!(open.as_array().unwrap().len(), 0);
    let (s, _) = o
        .post(
            &o.p.manager,
            "/api/v1/credits/999/received",
            json!({"credit_note": "CN-1", "received_minor": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// Sent through the supplier's CSV folder by the application's own worker:
/// the order becomes sent only once the file is there.
#[tokio::test]
async fn an_order_sent_through_a_csv_folder_arrives_once_and_is_then_sent() {
    let o = ordering_stepped(|_| {}).await;
    let root = o.p.app.config.dispatch.folder_root.clone();
    std::fs::create_dir_all(&root).unwrap();
    let res =
        o.p.admin
            .put(o.p.url(&format!("/api/v1/suppliers/{}/dispatch", o.supplier)))
            .json(&json!({"channel": "csv_folder", "folder": "../outside"}))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res =
        o.p.admin
            .put(o.p.url(&format!("/api/v1/suppliers/{}/dispatch", o.supplier)))
            .json(&json!({"channel": "csv_folder", "folder": "medsupply",
                      "columns": ["order_number", "supplier_code", "packs"]}))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let detail = get_json(
        &o.p.staff,
        o.p.url(&format!("/api/v1/suppliers/{}", o.supplier)),
    )
    .await;
    assert_eq!(detail["dispatch"]["folder"], "medsupply");

    let d = o.draft(2).await;
    let id = d["order"]["id"].as_i64().unwrap();
    let number = d["order"]["number"].as_str().unwrap().to_string();
    let (s, _) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/submit"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = o
        .post(&o.p.staff, &format!("/api/v1/orders/{id}/send"), json!({}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "staff do not send orders");
    let (s, b) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/send"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, b["state"].as_str()),
        (StatusCode::OK, Some("queued")),
        "{b}"
    );
    assert_eq!(o.p.app.run_pending_jobs().await, 1, "the send job ran");
    let got = get_json(&o.p.staff, o.p.url(&format!("/api/v1/orders/{id}"))).await;
    assert_eq!(got["order"]["state"], "sent");
    assert_eq!(got["order"]["channel"], "csv_folder");
    let text =
        std::fs::read_to_string(root.join("medsupply").join(format!("{number}.csv"))).unwrap();
    assert_eq!(
        text,
        format!("order_number,supplier_code,packs\n{number},LD-10,2\n")
    );
    // Sending again is not allowed once sent.
    let (s, _) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/send"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(
        o.p.app
            .scalar(
                "SELECT count(*) FROM jobs WHERE kind = 'order.dispatch' AND state = 'succeeded'"
            )
            .await,
        1
    );
}
