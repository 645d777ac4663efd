//! Supplier, location and category pages.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::stock::{movement, practice};

#[tokio::test]
async fn managers_keep_suppliers_and_what_they_sell() {
    let p = practice().await;
    let b = p.app.new_browser();
    b.login("mia", PASSWORD).await;
    let res = b
        .post_form(
            "/suppliers",
            &[
                ("name", ""),
                ("email", "not-an-address"),
                ("lead_time_days", "soon"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("these 3 problems"), "{html}");
    assert_eq!(p.app.scalar("SELECT count(*) FROM suppliers").await, 0);

    let res = b
        .post_form(
            "/suppliers",
            &[
                ("name", "MedSupply"),
                ("email", "orders@medsupply.example"),
                ("lead_time_days", "2"),
                ("account_number", "C-77"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = location(&res);
    let add = format!("{page}/items");
    let res = b
        .post_form(
            &add,
            &[
                ("item", "NOPE"),
                ("supplier_code", ""),
                ("pack_size", "10"),
                ("price", "12,5,0"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("Item no active item has this code"), "{html}");
    // The summary names the fields as the form labels them.
    assert!(html.contains(
        r##"<a href="#price">Price per pack must be an amount such as 12.50 or 12,50</a>"##
    ));
    assert!(html.contains(r##"<a href="#supplier_code">Their code must be 1 to 60 characters"##));
    assert_eq!(p.app.scalar("SELECT count(*) FROM supplier_items").await, 0);
    let res = b
        .post_form(
            &add,
            &[
                ("item", "lid-1"),
                ("supplier_code", "MS-1"),
                ("pack_size", "10"),
                ("price", "2000000"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r##"<a href="#price">Price per pack must be at most 1000000.00</a>"##),
        "an amount, on the field that was typed: {html}"
    );
    assert_eq!(p.app.scalar("SELECT count(*) FROM supplier_items").await, 0);
    let res = b
        .post_form(
            &add,
            &[
                ("item", "lid-1"),
                ("supplier_code", "MS-4411"),
                ("pack_size", "10"),
                ("price", "12,50"),
                ("preferred", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = b.get_html(&page).await;
    assert!(
        html.contains("<code>MS-4411</code></td><td>10</td><td>12.50</td>"),
        "{html}"
    );
    assert_eq!(
        p.app.scalar("SELECT price_minor FROM supplier_items").await,
        1250
    );
    // Staff read the supplier but get no forms; they cannot post them.
    let s = p.app.new_browser();
    s.login("sam", PASSWORD).await;
    let html = s.get_html(&page).await;
    assert!(html.contains("MS-4411") && !html.contains("Their code</label>"));
    assert_eq!(
        s.post_form("/suppliers", &[("name", "X")]).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn locations_show_their_stock_and_only_to_those_who_may_use_them() {
    let p = practice().await;
    let mut receipt = movement("receipt", p.item, p.fridge, 6);
    receipt["lot"] = json!("F1");
    receipt["expiry"] = json!("2030-01-31");
    post_json(&p.staff, p.url("/api/v1/movements"), &receipt).await;
    let b = p.app.new_browser();
    b.login("mia", PASSWORD).await;
    let html = b.get_html("/locations").await;
    assert!(
        html.contains(">Fridge</a></td>\n    <td>fridge</td><td>1</td><td>6</td>"),
        "{html}"
    );
    let html = b.get_html(&format!("/locations/{}", p.fridge)).await;
    assert!(
        html.contains("Lidocaine 1%</a></td><td>F1</td><td>2030-01-31</td>"),
        "{html}"
    );

    // Closing a location with stock is refused with the reason.
    let res = b
        .post_form(
            &format!("/locations/{}/active", p.fridge),
            &[("active", "0")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Fridge still holds stock")
    );
    // A new shelf inside the cabinet, then renamed.
    let res = b
        .post_form(
            "/locations",
            &[
                ("name", "Top shelf"),
                ("kind", "shelf"),
                ("parent_id", &p.cabinet.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let shelf = location(&res);
    assert!(
        b.get_html(&shelf)
            .await
            .contains("Treatment room › Cabinet A › Top shelf")
    );
    let res = b
        .post_form(
            &shelf,
            &[
                ("name", "Shelf 1"),
                ("kind", "shelf"),
                ("parent_id", &p.cabinet.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = b
        .post_form(
            &shelf,
            &[("name", "Shelf 1"), ("kind", "garage"), ("parent_id", "")],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown kind"
    );

    // An admin limits the fridge to someone else: staff no longer see it.
    let admin = p.app.create_user("ada", "admin").await;
    let other = p.app.create_user("olga", "staff").await;
    let a = p.app.new_browser();
    a.login("ada", PASSWORD).await;
    let res = a
        .post_form(
            &format!("/locations/{}/access", p.fridge),
            &[("user_ids", &other.id.to_string())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let _ = admin;
    let s = p.app.new_browser();
    s.login("sam", PASSWORD).await;
    assert_eq!(
        s.get(&format!("/locations/{}", p.fridge)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(!s.get_html("/locations").await.contains(">Fridge</a>"));
    assert!(
        !s.get_html(&format!("/items/{}", p.item))
            .await
            .contains("<td>F1</td>"),
        "its stock is hidden too"
    );
    // Managers cannot change who may use a location.
    let res = b
        .post_form(&format!("/locations/{}/access", p.fridge), &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn categories_are_created_and_renamed_by_managers() {
    let p = practice().await;
    let b = p.app.new_browser();
    b.login("mia", PASSWORD).await;
    assert_eq!(
        b.post_form("/categories", &[("name", "Gloves")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let res = b.post_form("/categories", &[("name", "GLOVES")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("GLOVES already exists"));
    let id = p.app.scalar("SELECT id FROM categories").await;
    let res = b
        .post_form(
            &format!("/categories/{id}"),
            &[("name", "Examination gloves")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = b.get_html("/categories").await;
    assert!(html.contains(r#"value="Examination gloves""#));
    assert_eq!(
        p.app.scalar("SELECT active FROM categories").await,
        0,
        "unticked: inactive"
    );

    // A refused rename is shown on its own row, with what was typed; the
    // new-category form stays clean.
    b.post_form("/categories", &[("name", "Dressings")]).await;
    let res = b
        .post_form(
            &format!("/categories/{id}"),
            &[("name", "dressings"), ("active", "on")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    let field = format!("cat-name-{id}");
    assert!(
        html.contains(&format!(
            r#"id="{field}" name="name" value="dressings" aria-invalid="true" aria-describedby="{field}-error""#
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!(r##"<a href="#{field}">Category name "##)),
        "{html}"
    );
    assert!(!html.contains(r#"id="name-error""#), "{html}");
    assert!(
        html.contains(r#"<input id="name" name="name" value="">"#),
        "{html}"
    );
    assert_eq!(
        p.app
            .scalar("SELECT count(*) FROM categories WHERE name = 'Examination gloves'")
            .await,
        1,
        "nothing changed"
    );
}
