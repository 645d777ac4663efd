//! The catalog API beyond items and movements: suppliers and their
//! catalogue lines, categories, reorder points, location upkeep and access,
//! and the item list's filters.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::stock::{movement, practice};

async fn put_json(client: &reqwest::Client, url: String, body: &Value) -> reqwest::Response {
    client.put(url).json(body).send().await.unwrap()
}

fn fields(body: &Value) -> Vec<(String, String)> {
    body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["field"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn suppliers_and_their_items_are_kept_with_one_preferred_line() {
    let p = practice().await;
    let url = |s: &str| p.url(s);
    let res = post_json(
        &p.manager,
        url("/api/v1/suppliers"),
        &json!({"name": "MedSupply", "email": "orders@medsupply.example", "lead_time_days": 2,
                "account_number": "C-1042"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let a = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let b: Value = post_json(
        &p.manager,
        url("/api/v1/suppliers"),
        &json!({"name": "Clinic Direct"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let b = b["id"].as_i64().unwrap();

    let before = p.app.scalar("SELECT count(*) FROM audit_log").await;
    let res = post_json(
        &p.manager,
        url("/api/v1/suppliers"),
        &json!({"name": "medsupply", "email": "nope", "lead_time_days": 999}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let f = fields(&res.json().await.unwrap());
    assert!(
        f.contains(&("name".into(), "medsupply already exists".into())),
        "{f:?}"
    );
    assert!(f.iter().any(|(k, _)| k == "email"));
    assert!(f.iter().any(|(k, _)| k == "lead_time_days"));
    assert_eq!(
        p.app.scalar("SELECT count(*) FROM audit_log").await,
        before,
        "a refusal changes nothing"
    );

    let line = |s: i64, code: &str, price: i64, preferred: bool| {
        json!({"supplier_id": s, "item_id": p.item, "supplier_code": code, "pack_size": 10,
               "price_minor": price, "preferred": preferred})
    };
    let res = post_json(
        &p.manager,
        url("/api/v1/supplier-items"),
        &line(a, "MS-1", 1250, true),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let first: Value = res.json().await.unwrap();
    assert_eq!(first["currency"], "EUR", "the practice's currency");
    let res = post_json(
        &p.manager,
        url("/api/v1/supplier-items"),
        &line(b, "CD-9", 1100, true),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let detail: Value = get_json(&p.staff, url(&format!("/api/v1/items/{}", p.item))).await;
    let sup = detail["suppliers"].as_array().unwrap();
    assert_eq!(sup.len(), 2);
    assert_eq!(sup[0]["supplier_name"], "Clinic Direct", "preferred first");
    assert_eq!(sup[0]["preferred"], true);
    assert_eq!(sup[1]["preferred"], false, "only one preferred line");

    let res = post_json(
        &p.manager,
        url("/api/v1/supplier-items"),
        &json!({"supplier_id": a, "item_id": p.item, "supplier_code": "MS-1", "pack_size": 0,
                "price_minor": -5, "currency": "USD"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let f: Vec<String> = fields(&res.json().await.unwrap())
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(f, ["pack_size", "price_minor", "currency", "supplier_code"]);

    // A price change, then the supplier's page lists it.
    let res = put_json(
        &p.manager,
        url(&format!("/api/v1/supplier-items/{}", first["id"])),
        &json!({"supplier_id": 0, "item_id": 0, "supplier_code": "MS-1", "pack_size": 10, "price_minor": 1300}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let s: Value = get_json(&p.staff, url(&format!("/api/v1/suppliers/{a}"))).await;
    assert_eq!(s["supplier"]["account_number"], "C-1042");
    assert_eq!(s["items"][0]["price_minor"], 1300);
    assert_eq!(s["items"][0]["item_id"], p.item, "the item stays");

    // Staff read but do not change suppliers.
    let res = post_json(&p.staff, url("/api/v1/suppliers"), &json!({"name": "X"})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let list: Value = get_json(&p.staff, url("/api/v1/suppliers")).await["items"].clone();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let res = post_json(
        &p.manager,
        url(&format!("/api/v1/suppliers/{b}/active")),
        &json!({"active": false}),
    )
    .await;
    assert_eq!(res.json::<Value>().await.unwrap()["active"], false);
    let list: Value = get_json(&p.staff, url("/api/v1/suppliers")).await["items"].clone();
    assert_eq!(list[1]["name"], "Clinic Direct", "inactive suppliers last");
    p.app.assert_audit_chain_intact().await;
}

#[tokio::test]
async fn items_are_edited_deactivated_and_given_reorder_points() {
    let p = practice().await;
    let url = |s: &str| p.url(s);
    let cat: Value = post_json(
        &p.manager,
        url("/api/v1/categories"),
        &json!({"name": "Anaesthetics"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let res = put_json(
        &p.manager,
        url(&format!("/api/v1/items/{}", p.item)),
        &json!({"code": "LID-1", "name": "Lidocaine 1% 5 ml", "unit": "ampoule", "lot_tracked": true,
                "expiry_tracked": true, "category_id": cat["id"]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = get_json(&p.staff, url("/api/v1/items?q=5%20ml")).await;
    assert_eq!(page["items"][0]["category"], "Anaesthetics");

    let res = put_json(
        &p.manager,
        url(&format!("/api/v1/items/{}/targets/{}", p.item, p.cabinet)),
        &json!({"reorder_point": 30, "par_level": 10}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = put_json(
        &p.manager,
        url(&format!("/api/v1/items/{}/targets/{}", p.item, p.cabinet)),
        &json!({"reorder_point": 10, "par_level": 50}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut receipt = movement("receipt", p.item, p.cabinet, 8);
    receipt["lot"] = json!("A1");
    receipt["expiry"] = json!("2030-01-31");
    let res = post_json(&p.staff, url("/api/v1/movements"), &receipt).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let low: Value = get_json(&p.staff, url("/api/v1/items?low=true")).await;
    assert_eq!(low["total"], 1);
    assert_eq!(low["items"][0]["on_hand"], 8);
    assert_eq!(low["items"][0]["low"], true);
    assert_eq!(low["items"][0]["next_expiry"], "2030-01-31");
    let detail: Value = get_json(&p.staff, url(&format!("/api/v1/items/{}", p.item))).await;
    assert_eq!(detail["targets"][0]["par_level"], 50);

    let soon: Value = get_json(&p.staff, url("/api/v1/items?expiring_within_days=30")).await;
    assert_eq!(soon["total"], 0, "2030 is not soon");
    let res = p
        .staff
        .get(url("/api/v1/items?expiring_within_days=99999&sort=colour"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "an unknown sort is refused"
    );
    let res = p
        .staff
        .get(url("/api/v1/items?expiring_within_days=99999"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let res = post_json(
        &p.manager,
        url(&format!("/api/v1/items/{}/active", p.item)),
        &json!({"active": false}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = get_json(&p.staff, url("/api/v1/items?q=lidocaine")).await;
    assert_eq!(page["total"], 0, "inactive items are hidden by default");
    let page: Value = get_json(
        &p.staff,
        url("/api/v1/items?q=lidocaine&include_inactive=true"),
    )
    .await;
    assert_eq!(page["total"], 1);
    let res = post_json(&p.staff, url("/api/v1/movements"), &receipt).await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "no movements for inactive items"
    );
}

#[tokio::test]
async fn locations_are_renamed_closed_only_when_empty_and_access_is_for_admins() {
    let p = practice().await;
    let url = |s: &str| p.url(s);
    let res = put_json(
        &p.manager,
        url(&format!("/api/v1/locations/{}", p.fridge)),
        &json!({"name": "Vaccine fridge", "kind": "fridge", "parent_id": null}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let l: Value = res.json().await.unwrap();
    assert_eq!(
        (l["name"].as_str(), l["parent_id"].as_i64()),
        (Some("Vaccine fridge"), None)
    );

    let mut receipt = movement("receipt", p.item, p.fridge, 3);
    receipt["lot"] = json!("A1");
    receipt["expiry"] = json!("2030-01-31");
    post_json(&p.staff, url("/api/v1/movements"), &receipt).await;
    let res = post_json(
        &p.manager,
        url(&format!("/api/v1/locations/{}/active", p.fridge)),
        &json!({"active": false}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&res.json().await.unwrap()),
        [(
            "active".to_string(),
            "Vaccine fridge still holds stock; move or dispose of it first".to_string()
        )]
    );

    // Managers may not change who can use a location; admins may.
    let body = json!({"user_ids": [p.staff_id]});
    let res = put_json(
        &p.manager,
        url(&format!("/api/v1/locations/{}/access", p.cabinet)),
        &body,
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let admin = p.app.create_user("ada", "admin").await;
    let admin = api(&create_token(&p.app, admin.id, "write").await);
    let res = put_json(
        &admin,
        url(&format!("/api/v1/locations/{}/access", p.cabinet)),
        &body,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let access: Value = get_json(
        &admin,
        url(&format!("/api/v1/locations/{}/access", p.cabinet)),
    )
    .await;
    assert_eq!(access["user_ids"], json!([p.staff_id]));
    // Who is trusted with the cabinet is not for those shut out of it.
    let res = p
        .manager
        .get(url(&format!("/api/v1/locations/{}/access", p.cabinet)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // The manager is now shut out of the cabinet, so cannot rename it.
    let res = put_json(
        &p.manager,
        url(&format!("/api/v1/locations/{}", p.cabinet)),
        &json!({"name": "Mine now", "kind": "cabinet", "parent_id": null}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn categories_are_listed_and_renamed() {
    let p = practice().await;
    let url = |s: &str| p.url(s);
    for name in ["Gloves", "Dressings"] {
        let res = post_json(
            &p.manager,
            url("/api/v1/categories"),
            &json!({"name": name}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = post_json(
        &p.manager,
        url("/api/v1/categories"),
        &json!({"name": "gloves"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let list: Value = get_json(&p.staff, url("/api/v1/categories")).await["items"].clone();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Dressings", "Gloves"]);
    let id = list[0]["id"].as_i64().unwrap();
    let res = put_json(
        &p.manager,
        url(&format!("/api/v1/categories/{id}")),
        &json!({"name": "Wound care", "active": false}),
    )
    .await;
    assert_eq!(res.json::<Value>().await.unwrap()["active"], false);
    let res = post_json(&p.staff, url("/api/v1/categories"), &json!({"name": "X"})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
