//! The item list and item pages, and the catalog forms behind them.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::stock::{movement, practice};

#[tokio::test]
async fn the_item_list_searches_filters_and_pages() {
    let p = practice().await;
    // 60 glove items so that the list has two pages.
    for n in 0..60 {
        let res = post_json(
            &p.manager,
            p.url("/api/v1/items"),
            &json!({"code": format!("GLV-{n:02}"), "name": format!("Nitrile gloves {n:02}"), "unit": "pair"}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let mut receipt = movement("receipt", p.item, p.cabinet, 4);
    receipt["lot"] = json!("OLD");
    receipt["expiry"] = json!("2020-01-31");
    post_json(&p.staff, p.url("/api/v1/movements"), &receipt).await;

    let b = p.app.new_browser();
    b.login("sam", PASSWORD).await;
    let html = b.get_html("/items?q=gloves").await;
    assert!(html.contains("60 items, page 1 of 2"), "{html}");
    assert!(html.contains("Nitrile gloves 00") && !html.contains("Nitrile gloves 55"));
    assert!(
        html.contains(r#"href="/items?q=gloves&#38;page=2" rel="next""#),
        "{html}"
    );
    let html = b.get_html("/items?q=gloves&page=2").await;
    assert!(html.contains("Nitrile gloves 55") && !html.contains("Nitrile gloves 00"));

    let html = b.get_html("/items?expiring=0").await;
    assert!(html.contains("1 item"), "{html}");
    assert!(html.contains("Lidocaine 1%") && html.contains("expired 2020-01-31"));
    let home = b.get_html("/").await;
    assert!(home.contains("1 item with expired stock"), "{home}");
    assert!(home.contains("0 items at or below the reorder point"));
    let html = b.get_html("/items?sort=on_hand&q=lid").await;
    assert!(html.contains("4 ampoule"));

    // Mistakes in the query are named, not ignored.
    let res = b.get("/items?sort=colour&category=x").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Sort must be name, code, on_hand or expiry"),
        "{html}"
    );
    assert!(html.contains("Category is not one of the choices"));
}

#[tokio::test]
async fn a_scanned_barcode_opens_its_item_or_offers_to_add_it() {
    let p = practice().await;
    let b = p.app.new_browser();
    b.login("mia", PASSWORD).await;
    // The box of Lidocaine: straight to the item.
    let res = b.get("/items?q=%5Dd2010950600013435210L1%1D17710331").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/items/{}", p.item));

    // An unknown GTIN: create an item with it.
    let unknown = "04012345000016";
    let html = b.get_html(&format!("/items?q=01{unknown}")).await;
    assert!(html.contains("No item has the barcode"), "{html}");
    assert!(html.contains(&format!("/items/new?gtin={unknown}")));
    assert!(html.contains(&format!("/items/attach?gtin={unknown}")));
    let form = b.get_html(&format!("/items/new?gtin={unknown}")).await;
    assert!(form.contains(&format!(r#"name="gtin" value="{unknown}""#)));

    let res = b
        .post_form(
            "/items",
            &[
                ("name", "Sterile gauze 10x10"),
                ("code", "GZ-10"),
                ("unit", "each"),
                ("gtin", unknown),
                ("gtin_quantity", "100"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let item_page = location(&res);
    let html = b.get_html(&item_page).await;
    assert!(
        html.contains("Sterile gauze 10x10") && html.contains("pack of 100"),
        "{html}"
    );
    let res = b.get(&format!("/items?q={unknown}")).await;
    assert_eq!(location(&res), item_page, "the barcode now finds it");

    // Another unknown barcode, attached to the existing Lidocaine single unit.
    let other = "05012345000015";
    let res = b
        .post_form(
            "/items/attach",
            &[("gtin", other), ("item", "NOPE"), ("quantity", "1")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Item no active item has this code")
    );
    let res = b
        .post_form(
            "/items/attach",
            &[("gtin", other), ("item", "LID-1"), ("quantity", "1")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = b.get(&format!("/items?q={other}")).await;
    assert_eq!(location(&res), format!("/items/{}", p.item));
    let gtins = p
        .app
        .scalar("SELECT count(*) FROM item_packs WHERE gtin IS NOT NULL")
        .await;
    assert_eq!(gtins, 3, "box of lidocaine, gauze pack, lidocaine ampoule");

    // A duplicate is refused with every other mistake, and creates nothing.
    let before = p.app.scalar("SELECT count(*) FROM items").await;
    let res = b
        .post_form(
            "/items",
            &[
                ("name", ""),
                ("code", "GZ-10"),
                ("unit", "each"),
                ("gtin", unknown),
                ("gtin_quantity", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("these 3 problems"), "{html}");
    assert!(html.contains("Barcode is already used by Sterile gauze 10x10"));
    assert_eq!(p.app.scalar("SELECT count(*) FROM items").await, before);

    // Staff see the offer to ask a manager, not the forms.
    let s = p.app.new_browser();
    s.login("sam", PASSWORD).await;
    let html = s.get_html("/items?q=4006381333931").await;
    assert!(html.contains("Ask a practice manager") && !html.contains("/items/new?gtin"));
    assert_eq!(s.get("/items/new").await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_item_page_shows_stock_targets_suppliers_and_movements() {
    let p = practice().await;
    let mut receipt = movement("receipt", p.item, p.cabinet, 12);
    receipt["lot"] = json!("L7");
    receipt["expiry"] = json!("2031-05-31");
    post_json(&p.staff, p.url("/api/v1/movements"), &receipt).await;
    let b = p.app.new_browser();
    b.login("mia", PASSWORD).await;
    let res = b
        .post_form(
            &format!("/items/{}/targets", p.item),
            &[
                ("location_id", &p.cabinet.to_string()),
                ("reorder_point", "20"),
                ("par_level", "5"),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "par below reorder point"
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("Target par level must not be below the reorder point"));
    // What was typed stays in the form.
    assert!(
        html.contains(&format!(r#"<option value="{}" selected>"#, p.cabinet))
            && html.contains(r#"id="target_reorder_point" name="reorder_point" type="number" min="0" inputmode="numeric" value="20""#)
            && html.contains(r#"id="target_par_level" name="par_level" type="number" min="0" inputmode="numeric" value="5""#),
        "{html}"
    );
    let res = b
        .post_form(
            &format!("/items/{}/packs", p.item),
            &[
                ("name", "tray"),
                ("quantity", "0"),
                ("gtin", "4006381333932"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"placeholder="box" value="tray""#), "{html}");
    assert!(html.contains(r#"id="pack_gtin" name="gtin" value="4006381333932""#));
    assert!(html.contains("Barcode check digit is 2"), "{html}");
    b.post_form(
        &format!("/items/{}/targets", p.item),
        &[
            ("location_id", &p.cabinet.to_string()),
            ("reorder_point", "20"),
            ("par_level", "60"),
        ],
    )
    .await;
    let html = b.get_html(&format!("/items/{}", p.item)).await;
    assert!(html.contains("In stock: 12 ampoule"), "{html}");
    assert!(html.contains("Treatment room › Cabinet A</td><td>L7</td><td>2031-05-31"));
    assert!(
        html.contains(
            "<td>20</td><td>60</td><td>12 <strong class=\"badge badge-warn\">low</strong>"
        )
    );
    assert!(
        html.contains("receipt") && html.contains("+12") && html.contains("<td>sam</td>"),
        "{html}"
    );

    // Editing: a clash is shown on the form; a good edit is saved.
    let res = b
        .post_form(
            &format!("/items/{}", p.item),
            &[("name", "Lidocaine 2%"), ("code", ""), ("unit", "ampoule")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = b
        .post_form(
            &format!("/items/{}", p.item),
            &[
                ("name", "Lidocaine 2%"),
                ("code", "LID-2"),
                ("unit", "ampoule"),
                ("lot_tracked", "on"),
                ("expiry_tracked", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        b.get_html(&format!("/items/{}", p.item))
            .await
            .contains("Lidocaine 2%")
    );
    let res = b
        .post_form(&format!("/items/{}/active", p.item), &[("active", "0")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        b.get_html(&format!("/items/{}", p.item))
            .await
            .contains("(inactive)")
    );
}
