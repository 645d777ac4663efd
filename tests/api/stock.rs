//! The catalog and stock API over HTTP: items, locations, movements,
//! transfers and levels, with every refusal the ledger makes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) struct Practice {
    pub(crate) app: TestApp,
    pub(crate) manager: reqwest::Client,
    pub(crate) staff: reqwest::Client,
    /// An administrator ("office-admin"): where orders go is theirs to set.
    pub(crate) admin: reqwest::Client,
    pub(crate) staff_id: i64,
    pub(crate) item: i64,
    pub(crate) cabinet: i64,
    pub(crate) fridge: i64,
}

impl Practice {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.address)
    }
}

/// A manager sets up a lot-tracked item with a boxed GTIN and two locations.
pub(crate) async fn practice() -> Practice {
    practice_with(|_| {}).await
}

/// The same practice on a configuration the test adjusts.
pub(crate) async fn practice_with(adjust: impl FnOnce(&mut stockroom::config::Config)) -> Practice {
    practice_on(spawn_app_with(adjust).await).await
}

/// The same practice set up on `app`.
pub(crate) async fn practice_on(app: TestApp) -> Practice {
    let m = app.create_user("mia", "manager").await;
    let s = app.create_user("sam", "staff").await;
    let manager = api(&create_token(&app, m.id, "write").await);
    let staff = api(&create_token(&app, s.id, "write").await);
    let url = |p: &str| format!("{}{p}", app.address);
    let created = |res: reqwest::Response| async move {
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    };
    let room = created(
        post_json(
            &manager,
            url("/api/v1/locations"),
            &json!({"name": "Treatment room", "kind": "room"}),
        )
        .await,
    )
    .await;
    let cabinet = created(
        post_json(
            &manager,
            url("/api/v1/locations"),
            &json!({"parent_id": room, "name": "Cabinet A", "kind": "cabinet"}),
        )
        .await,
    )
    .await;
    let fridge = created(
        post_json(
            &manager,
            url("/api/v1/locations"),
            &json!({"parent_id": room, "name": "Fridge", "kind": "fridge"}),
        )
        .await,
    )
    .await;
    let item = created(
        post_json(&manager, url("/api/v1/items"), &json!({"code": "LID-1", "name": "Lidocaine 1%", "unit": "ampoule", "lot_tracked": true, "expiry_tracked": true})).await,
    )
    .await;
    let res = post_json(
        &manager,
        url(&format!("/api/v1/items/{item}/packs")),
        &json!({"name": "box", "quantity": 10, "gtin": "09506000134352"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let office = app.create_user("office-admin", "admin").await;
    let admin = api(&create_token(&app, office.id, "write").await);
    Practice {
        app,
        manager,
        staff,
        admin,
        staff_id: s.id,
        item,
        cabinet,
        fridge,
    }
}

pub(crate) fn movement(kind: &str, item: i64, location: i64, quantity: i64) -> Value {
    json!({"kind": kind, "item_id": item, "location_id": location, "quantity": quantity,
           "lot": "L42", "expiry": "2071-03-31"})
}

#[tokio::test]
async fn receive_use_and_refuse_what_is_not_there() {
    let p = practice().await;
    let res = post_json(
        &p.staff,
        p.url("/api/v1/movements"),
        &movement("receipt", p.item, p.cabinet, 20),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let m: Value = res.json().await.unwrap();
    assert_eq!(
        (
            m["kind"].as_str(),
            m["quantity"].as_i64(),
            m["lot"].as_str()
        ),
        (Some("receipt"), Some(20), Some("L42"))
    );

    let res = post_json(
        &p.staff,
        p.url("/api/v1/movements"),
        &movement("consumption", p.item, p.cabinet, -3),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let before = p.app.scalar("SELECT count(*) FROM stock_movements").await;
    let res = post_json(
        &p.staff,
        p.url("/api/v1/movements"),
        &movement("consumption", p.item, p.cabinet, -18),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "stock-would-go-negative");
    assert_eq!(
        body["error"]["message"],
        "Not enough stock: Lidocaine 1% at Treatment room › Cabinet A (lot L42) has 17 ampoules available"
    );
    assert_eq!(
        p.app.scalar("SELECT count(*) FROM stock_movements").await,
        before,
        "nothing recorded"
    );

    let levels: Value = get_json(
        &p.staff,
        p.url(&format!("/api/v1/stock-levels?item_id={}", p.item)),
    )
    .await["items"]
        .clone();
    assert_eq!(levels[0]["quantity"], 17);
    assert_eq!(levels[0]["expiry"], "2071-03-31");
}

#[tokio::test]
async fn invalid_movements_name_their_fields_and_change_nothing() {
    let p = practice().await;
    let cases = [
        (
            json!({"kind": "theft", "item_id": p.item, "location_id": p.cabinet, "quantity": 1}),
            "kind",
        ),
        (
            json!({"kind": "receipt", "item_id": p.item, "location_id": p.cabinet, "quantity": 1, "lot": "L1", "expiry": "31/03/2027"}),
            "expiry",
        ),
        (
            json!({"kind": "receipt", "item_id": p.item, "location_id": p.cabinet, "quantity": 1, "expiry": "2071-03-31"}),
            "lot",
        ),
        (
            json!({"kind": "receipt", "item_id": p.item, "location_id": p.cabinet, "quantity": -1, "lot": "L1", "expiry": "2071-03-31"}),
            "quantity",
        ),
        (
            json!({"kind": "adjustment", "item_id": p.item, "location_id": p.cabinet, "quantity": 1, "lot": "L1", "expiry": "2071-03-31"}),
            "reason",
        ),
        (
            json!({"kind": "receipt", "item_id": 999, "location_id": p.cabinet, "quantity": 1}),
            "item_id",
        ),
        (
            json!({"kind": "receipt", "item_id": p.item, "location_id": 999, "quantity": 1, "lot": "L1", "expiry": "2071-03-31"}),
            "location_id",
        ),
    ];
    for (body, field) in cases {
        let res = post_json(&p.staff, p.url("/api/v1/movements"), &body).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let err: Value = res.json().await.unwrap();
        let fields: Vec<&str> = err["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{body}: {fields:?}");
    }
    assert_eq!(
        p.app.scalar("SELECT count(*) FROM stock_movements").await,
        0
    );
}

#[tokio::test]
async fn a_restricted_location_is_invisible_and_unusable_for_others() {
    let p = practice().await;
    post_json(
        &p.staff,
        p.url("/api/v1/movements"),
        &movement("receipt", p.item, p.fridge, 5),
    )
    .await;
    // Only the manager may use the fridge from now on.
    let manager_id = p
        .app
        .scalar("SELECT id FROM users WHERE username = 'mia'")
        .await;
    let fridge = p.fridge;
    p.app
        .db()
        .write(move |tx| {
            stockroom::catalog::locations::set_access(
                tx,
                &stockroom::audit::Context::system(stockroom::domain::Clock::now(
                    &stockroom::domain::SystemClock,
                )),
                fridge,
                &[manager_id],
            )
        })
        .await
        .unwrap();

    let res = post_json(
        &p.staff,
        p.url("/api/v1/movements"),
        &movement("consumption", p.item, p.fridge, -1),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = res.json().await.unwrap();
    assert_eq!(
        err["error"]["details"][0]["message"],
        "you may not use this location"
    );

    let locations: Value = get_json(&p.staff, p.url("/api/v1/locations")).await["items"].clone();
    let names: Vec<&str> = locations
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.contains(&"Fridge") && names.contains(&"Cabinet A"),
        "{names:?}"
    );
    let levels: Value = get_json(&p.staff, p.url("/api/v1/stock-levels")).await["items"].clone();
    assert_eq!(
        levels.as_array().unwrap().len(),
        0,
        "the fridge's stock is not shown"
    );
    let mine: Value = get_json(&p.manager, p.url("/api/v1/stock-levels")).await["items"].clone();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let detail: Value = get_json(&p.staff, p.url(&format!("/api/v1/items/{}", p.item))).await;
    assert_eq!(
        detail["stock"].as_array().unwrap().len(),
        0,
        "nor on the item page"
    );
    let detail: Value = get_json(&p.manager, p.url(&format!("/api/v1/items/{}", p.item))).await;
    assert_eq!(detail["stock"][0]["quantity"], 5);
    let _ = p.staff_id;
}

#[tokio::test]
async fn transfers_move_stock_as_a_linked_pair() {
    let p = practice().await;
    post_json(
        &p.staff,
        p.url("/api/v1/movements"),
        &movement("receipt", p.item, p.cabinet, 10),
    )
    .await;
    let res = p
        .staff
        .post(p.url("/api/v1/transfers"))
        .json(
            &json!({"item_id": p.item, "from_location_id": p.cabinet, "to_location_id": p.fridge,
                      "quantity": 4, "lot": "L42", "expiry": "2071-03-31"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let pair: Value = res.json().await.unwrap();
    assert_eq!(pair[0]["quantity"], -4);
    assert_eq!(pair[1]["pair_id"], pair[0]["id"]);
    let list: Value = get_json(
        &p.staff,
        p.url(&format!("/api/v1/movements?item_id={}", p.item)),
    )
    .await;
    assert_eq!(list["total"], 3);
    assert_eq!(list["items"][0]["kind"], "transfer_in", "newest first");
}

#[tokio::test]
async fn items_are_found_by_name_code_or_any_form_of_gtin() {
    let p = practice().await;
    for q in ["lidoc", "LID", "09506000134352", "9506000134352"] {
        let page: Value = get_json(&p.staff, p.url(&format!("/api/v1/items?q={q}"))).await;
        assert_eq!(page["total"], 1, "{q}");
        assert_eq!(page["items"][0]["code"], "LID-1");
    }
    let page: Value = get_json(&p.staff, p.url("/api/v1/items?q=gauze")).await;
    assert_eq!(page["total"], 0);
    let detail: Value = get_json(&p.staff, p.url(&format!("/api/v1/items/{}", p.item))).await;
    let packs: Vec<(&str, i64)> = detail["packs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["name"].as_str().unwrap(), k["quantity"].as_i64().unwrap()))
        .collect();
    assert_eq!(packs, [("ampoule", 1), ("box", 10)]);
    // Staff may not change the catalog.
    let res = post_json(
        &p.staff,
        p.url("/api/v1/items"),
        &json!({"code": "X", "name": "X", "unit": "each"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn consuming_an_expired_lot_needs_a_reason_which_is_kept_and_audited() {
    let p = practice().await;
    let lot = |extra: Value| {
        let mut m = json!({"kind": "receipt", "item_id": p.item, "location_id": p.cabinet,
                           "quantity": 3, "lot": "OLD", "expiry": "2020-01-31"});
        m.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        m
    };
    let res = post_json(&p.staff, p.url("/api/v1/movements"), &lot(json!({}))).await;
    assert_eq!(res.status(), StatusCode::CREATED, "receiving it is allowed");
    let before = p.app.scalar("SELECT count(*) FROM stock_movements").await;
    let res = post_json(
        &p.staff,
        p.url("/api/v1/movements"),
        &lot(json!({"kind": "consumption", "quantity": -1})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"]["details"][0]["field"], "expired_use_reason",
        "{body}"
    );
    assert_eq!(
        p.app.scalar("SELECT count(*) FROM stock_movements").await,
        before
    );
    let res = post_json(
        &p.staff,
        p.url("/api/v1/movements"),
        &lot(json!({"kind": "consumption", "quantity": -1, "expired_use_reason": "last dose; approved"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let m: Value = res.json().await.unwrap();
    assert_eq!(m["reason"], "used after expiry: last dose; approved");
    assert_eq!(p.app.audit_count("stock.use_expired").await, 1);
}
