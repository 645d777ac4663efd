//! CSV import and export over HTTP: the upload, preview and commit pages,
//! `POST /api/v1/imports/{kind}`, and the three CSV downloads.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::stock::{Practice, movement, practice};

/// The API's problem list as "line N, column: message" strings.
fn details(body: &Value) -> Vec<String> {
    body["error"]["details"]
        .as_array()
        .unwrap_or_else(|| panic!("no details in {body}"))
        .iter()
        .map(|d| {
            format!(
                "{}: {}",
                d["field"].as_str().unwrap(),
                d["message"].as_str().unwrap()
            )
        })
        .collect()
}

async fn post_csv(
    client: &reqwest::Client,
    url: String,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    client
        .post(url)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// CSV text as rows of cells (the csv crate reads it, not the code under test).
fn rows(text: &str, separator: u8) -> Vec<Vec<String>> {
    ::csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// Row counts of everything an import could touch.
async fn footprint(p: &Practice) -> Vec<i64> {
    let mut all = Vec::new();
    for sql in [
        "SELECT count(*) FROM items",
        "SELECT count(*) FROM item_packs",
        "SELECT count(*) FROM categories",
        "SELECT count(*) FROM suppliers",
        "SELECT count(*) FROM supplier_items",
        "SELECT count(*) FROM stock_movements",
        "SELECT count(*) FROM stock_levels",
        "SELECT count(*) FROM audit_log",
    ] {
        all.push(p.app.scalar(sql).await);
    }
    all
}

async fn supplier(p: &Practice, name: &str) -> i64 {
    let res = post_json(
        &p.manager,
        p.url("/api/v1/suppliers"),
        &json!({"name": name}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Pastes `content` into the import form; returns the preview's path.
async fn paste(b: &Browser, kind: &str, content: &str) -> String {
    let res = b
        .post_form("/import", &[("kind", kind), ("content", content)])
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let preview = location(&res);
    assert!(preview.starts_with("/imports/"), "{preview}");
    preview
}

const BAD_ITEMS: &str = "code,name,category,unit,lot_tracked,gtin
GZ-1,Gauze 10x10,Dressings,each,no,4006381333931
GZ-2,,Dressings,each,no,
GZ-3,Tape,,,no,
LID-1,Lidocaine again,,ampoule,no,
GZ-5,Swabs,,each,maybe,
GZ-6,Plaster,,each,no,4006381333932
GZ-1,Gauze again,,each,no,
";

const BAD_SUPPLIER_ITEMS: &str = "supplier;item;supplier_code;pack_size;price;preferred
MedSupply;LID-1;MS-1;10;12,5,0;yes
Nobody Ltd;LID-1;NB-1;10;3,20;no
";

const BAD_STOCK: &str = "item,location,lot,expiry,quantity
LID-1,Treatment room > Cabinet A,L1,2071-03-31,-5
LID-1,Garage,L1,2071-03-31,5
LID-1,Cabinet A,L1,31.02.2027,5
";

#[tokio::test]
async fn every_mistake_is_reported_with_its_line_and_column_and_nothing_is_written() {
    let p = practice().await;
    supplier(&p, "MedSupply").await;
    let before = footprint(&p).await;

    let expected_items = [
        "line 2, column code: GZ-1 appears again on line 8",
        "line 3, column name: must be 1 to 200 characters, without control characters",
        "line 4, column unit: must be 1 to 20 characters, without control characters",
        "line 5, column code: is already used by Lidocaine 1%",
        "line 6, column lot_tracked: must be yes or no (or true/false, 1/0, x, empty for no)",
        "line 7, column gtin: check digit is 2, expected 1: the number was mistyped or misread",
        "line 8, column code: GZ-1 already appears on line 2",
    ];
    for (kind, file, expected) in [
        ("items", BAD_ITEMS, expected_items.to_vec()),
        (
            "supplier-items",
            BAD_SUPPLIER_ITEMS,
            vec![
                "line 2, column price: is not a price: write it like 12.50 or 12,50 (in EUR, without thousands separators)",
                "line 3, column supplier: no supplier is called Nobody Ltd",
            ],
        ),
        (
            "opening-stock",
            BAD_STOCK,
            vec![
                "line 2, column quantity: must be more than zero",
                "line 3, column location: no location is called Garage: write its path like Treatment room › Cabinet A",
                "line 4, column expiry: is not a date in the calendar (31.02.2027)",
            ],
        ),
    ] {
        for commit in ["false", "true"] {
            let res = post_csv(
                &p.manager,
                p.url(&format!("/api/v1/imports/{kind}?commit={commit}")),
                file,
            )
            .await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{kind}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], "invalid-input");
            assert_eq!(details(&body), expected, "{kind} commit={commit}");
        }
    }
    assert_eq!(
        footprint(&p).await,
        before,
        "a refused import writes nothing"
    );

    // The same file through the pages: every mistake on the preview, and
    // the commit is refused too.
    let b = p.app.new_browser();
    b.login("mia", PASSWORD).await;
    let before = footprint(&p).await;
    let preview = paste(&b, "items", BAD_ITEMS).await;
    let res = b.get(&preview).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("7 mistakes in the file"), "{html}");
    for e in expected_items {
        assert!(html.contains(e), "{e} missing from the preview");
    }
    assert!(
        html.contains("new category Dressings"),
        "the category to be created is named"
    );
    assert!(
        !html.contains(r#"action="/imports/"#),
        "no import button while there are mistakes"
    );
    let res = b.post_form(&format!("{preview}/commit"), &[]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("Nothing was imported"));
    assert_eq!(
        footprint(&p).await,
        before,
        "previews and refused commits write nothing"
    );
}

#[tokio::test]
async fn a_messy_but_correct_spreadsheet_imports_completely_with_the_right_values() {
    let p = practice().await;
    let before_items = p.app.scalar("SELECT count(*) FROM items").await;
    let b = p.app.new_browser();
    b.login("mia", PASSWORD).await;

    // Byte-order mark, semicolons, CRLF, a quoted separator, headers in
    // any case, an "x" for yes, a blank line at the end.
    let items = "\u{feff}Code;Name;Category;Unit;Lot tracked;Expiry-Tracked;GTIN;Pack name;Pack quantity;Pack GTIN;Notes\r\n\
        GZ-10;\"Gauze; sterile 10x10\";Dressings;each;no;no;4006381333931;box;100;;\"Keep dry\"\r\n\
        SYR-5;Syringe 5 ml;;each;x;1;;;;;\r\n\
        \r\n";
    let preview = paste(&b, "items", items).await;
    let html = b.get_html(&preview).await;
    assert!(html.contains("2 rows without mistakes"), "{html}");
    assert!(
        html.contains("2 items, 1 category, 1 GTIN, 1 pack"),
        "{html}"
    );
    let res = b.post_form(&format!("{preview}/commit"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/import");
    assert!(
        b.get_html("/import")
            .await
            .contains("Imported pasted.csv: 2 items")
    );
    assert_eq!(
        p.app.scalar("SELECT count(*) FROM items").await,
        before_items + 2
    );

    let res = post_csv(
        &p.manager,
        p.url("/api/v1/imports/suppliers?commit=true&file_name=suppliers.csv"),
        "Name;Contact name;E-mail;Lead time (days)\r\nMedSupply;Anna Berg;orders@medsupply.example;3\r\n",
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["committed"], true);
    assert_eq!(body["counts"]["suppliers_created"], 1);

    // A dry run first: nothing written, the counts of what would be.
    let prices = "\u{feff}Supplier;Item;Supplier code;Pack size;Price (EUR);Preferred\r\nMedSupply;gz-10;MS-100;100;12,50;x\r\nMedSupply;SYR-5;MS-5;50;\"7,5\";\r\n";
    let res = post_csv(&p.manager, p.url("/api/v1/imports/supplier-items"), prices).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (
            body["committed"].as_bool(),
            body["counts"]["supplier_items_created"].as_i64()
        ),
        (Some(false), Some(2))
    );
    assert_eq!(p.app.scalar("SELECT count(*) FROM supplier_items").await, 0);
    let res = post_csv(
        &p.manager,
        p.url("/api/v1/imports/supplier-items?commit=true"),
        prices,
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let stock = "Item;Location;Lot;Expiry;Quantity\r\nGZ-10;Treatment room › Cabinet A;;;30\r\nSYR-5;Treatment room > Fridge;B7;31.12.2027;12\r\nSYR-5;Fridge;B8;15/01/2028;4\r\n";
    let res = post_csv(
        &p.manager,
        p.url("/api/v1/imports/opening-stock?commit=true"),
        stock,
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );

    let check = |sql: &'static str| p.app.scalar(sql);
    assert_eq!(check("SELECT count(*) FROM items WHERE code = 'GZ-10' AND name = 'Gauze; sterile 10x10' AND unit = 'each' AND notes = 'Keep dry' AND lot_tracked = 0 AND category_id = (SELECT id FROM categories WHERE name = 'Dressings')").await, 1);
    assert_eq!(check("SELECT count(*) FROM items WHERE code = 'SYR-5' AND lot_tracked = 1 AND expiry_tracked = 1").await, 1);
    assert_eq!(check("SELECT count(*) FROM item_packs p JOIN items i ON i.id = p.item_id WHERE i.code = 'GZ-10' AND p.quantity = 1 AND p.gtin = '04006381333931'").await, 1);
    assert_eq!(check("SELECT count(*) FROM item_packs p JOIN items i ON i.id = p.item_id WHERE i.code = 'GZ-10' AND p.name = 'box' AND p.quantity = 100").await, 1);
    assert_eq!(check("SELECT count(*) FROM suppliers WHERE name = 'MedSupply' AND contact_name = 'Anna Berg' AND lead_time_days = 3").await, 1);
    assert_eq!(check("SELECT price_minor FROM supplier_items WHERE supplier_code = 'MS-100' AND pack_size = 100 AND preferred = 1 AND currency = 'EUR'").await, 1250);
    assert_eq!(
        check(
            "SELECT price_minor FROM supplier_items WHERE supplier_code = 'MS-5' AND preferred = 0"
        )
        .await,
        750
    );
    assert_eq!(check("SELECT quantity FROM stock_levels l JOIN items i ON i.id = l.item_id WHERE i.code = 'GZ-10' AND l.lot = '' AND l.expiry = ''").await, 30);
    assert_eq!(
        check("SELECT quantity FROM stock_levels WHERE lot = 'B7' AND expiry = '2027-12-31'").await,
        12
    );
    assert_eq!(
        check("SELECT quantity FROM stock_levels WHERE lot = 'B8' AND expiry = '2028-01-15'").await,
        4
    );
    assert_eq!(check("SELECT count(*) FROM stock_movements WHERE kind = 'receipt' AND reason = 'opening stock'").await, 3);
    // Each row audited like a form, and each import once with its counts.
    assert_eq!(p.app.audit_count("import.commit").await, 4);
    assert_eq!(check("SELECT count(*) FROM audit_log WHERE action = 'import.commit' AND after_json LIKE '%\"stock_lines_received\":3%'").await, 1);
    assert_eq!(p.app.audit_count("supplier_item.create").await, 2);
    p.app.assert_audit_chain_intact().await;
}

#[tokio::test]
async fn an_upload_is_imported_once_and_only_by_whoever_uploaded_it() {
    let p = practice().await;
    p.app.create_user("max", "manager").await;
    let mia = p.app.new_browser();
    mia.login("mia", PASSWORD).await;
    let max = p.app.new_browser();
    max.login("max", PASSWORD).await;
    let preview = paste(&mia, "suppliers", "name\nMedSupply\nClinic Direct\n").await;

    // Another manager can neither see nor import it.
    assert_eq!(max.get(&preview).await.status(), StatusCode::FORBIDDEN);
    let res = max.post_form(&format!("{preview}/commit"), &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(p.app.scalar("SELECT count(*) FROM suppliers").await, 0);

    let res = mia.post_form(&format!("{preview}/commit"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(p.app.scalar("SELECT count(*) FROM suppliers").await, 2);
    let audit = p.app.scalar("SELECT count(*) FROM audit_log").await;

    let res = mia.post_form(&format!("{preview}/commit"), &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("already imported"));
    assert_eq!(p.app.scalar("SELECT count(*) FROM suppliers").await, 2);
    assert_eq!(p.app.scalar("SELECT count(*) FROM audit_log").await, audit);
    assert!(
        mia.get_html(&preview)
            .await
            .contains("This file was imported")
    );
}

#[tokio::test]
async fn staff_may_export_but_not_import() {
    let p = practice().await;
    let (b, _) = p.app.browser_as("staff").await;
    assert_eq!(b.get("/import").await.status(), StatusCode::FORBIDDEN);
    let res = b
        .post_form(
            "/import",
            &[("kind", "suppliers"), ("content", "name\nX\n")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post_csv(
        &p.staff,
        p.url("/api/v1/imports/suppliers?commit=true"),
        "name\nX\n",
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(p.app.scalar("SELECT count(*) FROM suppliers").await, 0);
    assert_eq!(p.app.scalar("SELECT count(*) FROM imports").await, 0);

    let nav = b.get_html("/").await;
    assert!(nav.contains(r#"href="/export""#) && !nav.contains(r#"href="/import""#));
    assert!(
        b.get_html("/export")
            .await
            .contains("/export/movements.csv")
    );
    assert_eq!(b.get("/export/items.csv").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_stock_export_values_stock_and_leaves_out_locations_the_reader_may_not_use() {
    let p = practice().await;
    let admin = p.app.create_user("ada", "admin").await;
    let admin = api(&create_token(&p.app, admin.id, "write").await);
    let mia: i64 = p
        .app
        .scalar("SELECT id FROM users WHERE username = 'mia'")
        .await;
    let s = supplier(&p, "MedSupply").await;
    // 12.50 for a box of 10 ampoules: 1.25 each.
    let res = post_json(
        &p.manager,
        p.url("/api/v1/supplier-items"),
        &json!({"supplier_id": s, "item_id": p.item,
        "supplier_code": "MS-1", "pack_size": 10, "price_minor": 1250, "preferred": true}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let locked: Value = post_json(
        &p.manager,
        p.url("/api/v1/locations"),
        &json!({"name": "Narcotics safe", "kind": "cabinet"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let locked = locked["id"].as_i64().unwrap();
    let res = admin
        .put(p.url(&format!("/api/v1/locations/{locked}/access")))
        .json(&json!({"user_ids": [mia]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        post_json(
            &p.staff,
            p.url("/api/v1/movements"),
            &movement("receipt", p.item, p.cabinet, 3)
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        post_json(
            &p.manager,
            p.url("/api/v1/movements"),
            &movement("receipt", p.item, locked, 7)
        )
        .await
        .status(),
        StatusCode::CREATED
    );

    let header = [
        "item_code",
        "item_name",
        "unit",
        "location",
        "lot",
        "expiry",
        "quantity",
        "quarantined",
        "currency",
        "unit_value",
        "total_value",
    ];
    let cabinet = [
        "LID-1",
        "Lidocaine 1%",
        "ampoule",
        "Treatment room › Cabinet A",
        "L42",
        "2071-03-31",
        "3",
        "0",
        "EUR",
        "1.2500",
        "3.75",
    ];
    let safe = [
        "LID-1",
        "Lidocaine 1%",
        "ampoule",
        "Narcotics safe",
        "L42",
        "2071-03-31",
        "7",
        "0",
        "EUR",
        "1.2500",
        "8.75",
    ];

    let res = p
        .staff
        .get(p.url("/api/v1/exports/stock.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let text = res.text().await.unwrap();
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark, for Excel");
    assert_eq!(
        rows(text, b','),
        [header.to_vec(), cabinet.to_vec()],
        "the safe is not the staff's"
    );

    let text = p
        .manager
        .get(p.url("/api/v1/exports/stock.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        rows(&text, b','),
        [header.to_vec(), safe.to_vec(), cabinet.to_vec()]
    );

    // For decimal-comma spreadsheets; the same through the export page.
    let (b, _) = p.app.browser_as("staff").await;
    let text = b
        .get("/export/stock.csv?separator=semicolon")
        .await
        .text()
        .await
        .unwrap();
    let semi = rows(&text, b';');
    assert_eq!(semi.len(), 2);
    assert_eq!(
        (semi[1][9].as_str(), semi[1][10].as_str()),
        ("1,2500", "3,75")
    );
    assert_eq!(
        b.get("/export/stock.csv?separator=pipe").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn the_movements_export_keeps_to_the_date_range() {
    let p = practice().await;
    let mut days = Vec::new();
    for (n, quantity) in [5, 6, 7].into_iter().enumerate() {
        if n > 0 {
            p.app.clock.advance(Duration::from_secs(2 * 24 * 3600));
        }
        days.push(p.app.app_state.today().to_string());
        let res = post_json(
            &p.staff,
            p.url("/api/v1/movements"),
            &movement("receipt", p.item, p.cabinet, quantity),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let export = |from: &str, to: &str| {
        p.staff
            .get(p.url(&format!(
                "/api/v1/exports/movements.csv?from={from}&to={to}"
            )))
            .send()
    };
    let text = export(&days[1], &days[1])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = rows(&text, b',');
    assert_eq!(r[0][..4], ["position", "at_utc", "local_time", "kind"]);
    assert_eq!(r.len(), 2, "{text}");
    assert_eq!(
        (r[1][3].as_str(), r[1][4].as_str(), r[1][10].as_str()),
        ("receipt", "LID-1", "6")
    );
    assert_eq!(r[1][13], "sam");

    let r = rows(
        &export(&days[0], &days[2])
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        b',',
    );
    let quantities: Vec<&str> = r[1..].iter().map(|c| c[10].as_str()).collect();
    assert_eq!(quantities, ["5", "6", "7"], "oldest first, all three");
    let r = rows(
        &export(&days[1], &days[2])
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        b',',
    );
    assert_eq!(r.len(), 3);

    let res = export(&days[2], &days[0]).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        details(&res.json().await.unwrap()),
        ["from: must not be after to"]
    );
    let res = export("yesterday", &days[0]).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The widest range there is streams to its end …
    let res = export("1900-01-01", "2999-12-31").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let r = rows(&res.text().await.unwrap(), b',');
    assert_eq!(r.len(), 4, "the header and all three");
    // … and dates outside it are refused before anything is sent, naming
    // the field, instead of a download cut off part-way.
    for (from, to, field) in [
        ("0001-01-01", "2026-01-01", "from"),
        ("2026-01-01", "9999-12-31", "to"),
    ] {
        let res = export(from, to).await.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{from} {to}"
        );
        assert_eq!(
            details(&res.json().await.unwrap()),
            [format!(
                "{field}: must be a date from 1900-01-01 to 2999-12-31"
            )]
        );
    }
}

#[tokio::test]
async fn a_long_movements_export_streams_in_pages_without_losing_a_row() {
    let p = practice().await;
    let res = post_json(
        &p.manager,
        p.url("/api/v1/items"),
        &json!({"code": "TAPE", "name": "Tape", "unit": "roll"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // More rows than one page of the export, imported in one request.
    let mut file = String::from("item,location,quantity\n");
    for n in 1..=2500 {
        file.push_str(&format!("TAPE,Cabinet A,{n}\n"));
    }
    let res = post_csv(
        &p.manager,
        p.url("/api/v1/imports/opening-stock?commit=true"),
        file,
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let today = p.app.app_state.today();
    let res = p
        .manager
        .get(p.url(&format!(
            "/api/v1/exports/movements.csv?from={today}&to={today}"
        )))
        .send()
        .await
        .unwrap();
    assert!(
        res.headers().get("content-length").is_none(),
        "streamed, not buffered"
    );
    let r = rows(&res.text().await.unwrap(), b',');
    assert_eq!(r.len(), 2501);
    let quantities: Vec<i64> = r[1..].iter().map(|c| c[10].parse().unwrap()).collect();
    assert_eq!(quantities, (1..=2500).collect::<Vec<i64>>());
    assert!(r[1..].iter().all(|c| c[11] == "opening stock"));
}

#[tokio::test]
async fn exported_cells_cannot_run_as_spreadsheet_formulas() {
    let p = practice().await;
    let res = post_json(
        &p.manager,
        p.url("/api/v1/items"),
        &json!({"code": "+X1", "name": "=HYPERLINK(\"http://evil.example\",\"Click\")",
        "unit": "@each", "notes": "-2+3"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let item = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let mut m = movement("receipt", item, p.cabinet, 4);
    m["note"] = json!("=cmd|' /C calc'!A0");
    assert_eq!(
        post_json(&p.staff, p.url("/api/v1/movements"), &m)
            .await
            .status(),
        StatusCode::CREATED
    );
    let mut m = movement("consumption", item, p.cabinet, -1);
    m["note"] = json!("used");
    assert_eq!(
        post_json(&p.staff, p.url("/api/v1/movements"), &m)
            .await
            .status(),
        StatusCode::CREATED
    );

    let text = p
        .staff
        .get(p.url("/api/v1/exports/items.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = rows(&text, b',');
    let row = r.iter().find(|c| c[0].ends_with("X1")).unwrap();
    assert_eq!(row[0], "'+X1");
    assert_eq!(row[1], "'=HYPERLINK(\"http://evil.example\",\"Click\")");
    assert_eq!(row[3], "'@each");
    assert_eq!(row[11], "'-2+3");
    let lid = r.iter().find(|c| c[0] == "LID-1").unwrap();
    assert_eq!(
        (lid[7].as_str(), lid[8].as_str(), lid[9].as_str()),
        ("box", "10", "9506000134352")
    );

    let today = p.app.app_state.today();
    let text = p
        .staff
        .get(p.url(&format!(
            "/api/v1/exports/movements.csv?from={today}&to={today}"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = rows(&text, b',');
    assert_eq!(r[1][12], "'=cmd|' /C calc'!A0");
    assert_eq!(r[1][4], "'+X1");
    assert_eq!(r[2][10], "-1", "numbers stockroom writes stay numbers");
}

/// A multipart body as a browser sends it.
fn multipart(fields: &[(&str, Option<&str>, &str)]) -> (String, String) {
    let boundary = "----stockroomtestboundary7MA4YWxk".to_string();
    let mut body = String::new();
    for (name, file_name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\""
        ));
        if let Some(f) = file_name {
            body.push_str(&format!("; filename=\"{f}\"\r\nContent-Type: text/csv"));
        }
        body.push_str(&format!("\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn a_file_upload_goes_to_its_preview_and_impossible_files_are_named() {
    let p = practice().await;
    let b = p.app.new_browser();
    b.login("mia", PASSWORD).await;
    let token = b.csrf_token().await;
    let upload = |fields: Vec<(&'static str, Option<&'static str>, String)>,
                  token: Option<String>| {
        let fields: Vec<(&str, Option<&str>, &str)> = fields
            .iter()
            .map(|(n, f, v)| (*n, *f, v.as_str()))
            .collect();
        let (content_type, body) = multipart(&fields);
        let mut req = b
            .client
            .post(b.url("/import"))
            .header("content-type", content_type)
            .header("hx-request", "true");
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        req.body(body).send()
    };
    let res = upload(
        vec![
            ("kind", None, "suppliers".into()),
            (
                "file",
                Some("suppliers.csv"),
                "name;phone\r\nMedSupply;+43 1 234\r\n".into(),
            ),
        ],
        Some(token.clone()),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let to = res.headers()["hx-redirect"].to_str().unwrap().to_string();
    assert!(to.starts_with("/imports/"), "{to}");
    let html = b.get_html(&to).await;
    assert!(html.contains("suppliers.csv"), "{html}");
    assert!(html.contains("1 row without mistakes"));

    // Without the header a multipart form cannot show its CSRF token.
    let res = upload(
        vec![
            ("kind", None, "suppliers".into()),
            ("file", Some("s.csv"), "name\nX\n".into()),
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Without JavaScript the browser sends the form's own csrf_token part;
    // the answer is a plain redirect to the preview. A wrong one is refused.
    let plain = |token: &str| {
        let (content_type, body) = multipart(&[
            ("csrf_token", None, token),
            ("kind", None, "suppliers"),
            (
                "file",
                Some("plain.csv"),
                "name
Plain Supplies
",
            ),
        ]);
        b.client
            .post(b.url("/import"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let before = p.app.scalar("SELECT count(*) FROM imports").await;
    let res = plain(&format!("{token}x")).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(p.app.scalar("SELECT count(*) FROM imports").await, before);
    let res = plain(&token).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = location(&res);
    assert!(to.starts_with("/imports/"), "{to}");
    assert!(b.get_html(&to).await.contains("plain.csv"));
    // A file larger than a plain form's body limit (1 MB) still reaches
    // the import, which judges it by its own limits.
    let rows = format!(
        "name,notes\n{}",
        format!("S,{}\n", "x".repeat(500)).repeat(3000)
    );
    let (content_type, body) = multipart(&[
        ("csrf_token", None, &token),
        ("kind", None, "suppliers"),
        ("file", Some("wide.csv"), &rows),
    ]);
    let res = b
        .client
        .post(b.url("/import"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "1.5 MB is within the 5 MB"
    );
    assert!(location(&res).starts_with("/imports/"));

    let res = upload(
        vec![
            ("kind", None, "items".into()),
            ("file", Some("latin1.csv"), String::new()),
        ],
        Some(token.clone()),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["hx-redirect"], "/import?kind=items");
    assert!(
        b.get_html("/import")
            .await
            .contains("File is missing: choose a file or paste the rows")
    );

    let big = format!(
        "name,notes\n{}",
        format!("S,{}\n", "x".repeat(1000)).repeat(5300)
    );
    let res = upload(
        vec![
            ("kind", None, "suppliers".into()),
            ("file", Some("big.csv"), big),
        ],
        Some(token.clone()),
    )
    .await
    .unwrap();
    assert_eq!(res.headers()["hx-redirect"], "/import?kind=suppliers");
    assert!(
        b.get_html("/import")
            .await
            .contains("File is 5.1 MB; the largest file accepted is 5 MB")
    );

    // 30 MB without JavaScript: far past every limit, yet the form says
    // what is wrong, in the same words, rather than a bare error page.
    let huge = format!(
        "name,notes\n{}",
        format!("S,{}\n", "x".repeat(1000)).repeat(30_000)
    );
    let (content_type, body) = multipart(&[
        ("csrf_token", None, &token),
        ("kind", None, "suppliers"),
        ("file", Some("huge.csv"), &huge),
    ]);
    let before = p.app.scalar("SELECT count(*) FROM imports").await;
    let res = b
        .client
        .post(b.url("/import"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let html = res.text().await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains(
            "The file is larger than the largest file accepted, 5 MB: split it into smaller files"
        ),
        "{html}"
    );
    assert!(html.contains(r#"data-testid="upload-form""#), "on the form");
    assert_eq!(p.app.scalar("SELECT count(*) FROM imports").await, before);

    // Too many rows and too many bytes, through the API.
    let mut long = String::from("name\n");
    for n in 0..=50_000 {
        long.push_str(&format!("S{n}\n"));
    }
    let res = post_csv(&p.manager, p.url("/api/v1/imports/suppliers"), long).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        details(&res.json().await.unwrap()),
        ["file: has more than 50000 rows: split it into files of at most 50000 rows"]
    );
    let huge = format!(
        "name,notes\n{}",
        format!("S,{}\n", "x".repeat(1000)).repeat(5300)
    );
    let res = post_csv(&p.manager, p.url("/api/v1/imports/suppliers"), huge).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let d = details(&res.json().await.unwrap());
    assert!(
        d[0] == "file: is 5.1 MB; the largest file accepted is 5 MB: split it into smaller files",
        "{d:?}"
    );
    let res = post_csv(&p.manager, p.url("/api/v1/imports/widgets"), "name\nX\n").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let doc = get_json(&reqwest::Client::new(), p.url("/api/v1/openapi.json")).await;
    for path in [
        "/api/v1/imports/{kind}",
        "/api/v1/exports/items.csv",
        "/api/v1/exports/stock.csv",
        "/api/v1/exports/movements.csv",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert!(
        doc["paths"]["/api/v1/imports/{kind}"]["post"]["requestBody"]["content"]["text/csv"]
            .is_object()
    );
}

/// How Excel on Windows reads a CSV file opened by a double click: UTF-8
/// when the file starts with the byte-order mark, else the system's code
/// page (Windows-1252 in western Europe; its letters above 0x7F are
/// Latin-1's). Excel itself cannot run here: this follows its documented
/// rule.
fn as_excel_reads(bytes: &[u8]) -> String {
    match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => String::from_utf8(rest.to_vec()).unwrap(),
        None => bytes.iter().map(|&b| b as char).collect(),
    }
}

#[tokio::test]
async fn exports_open_in_excel_with_their_accents_and_import_back_unchanged() {
    let p = practice().await;
    let res = post_json(
        &p.manager,
        p.url("/api/v1/items"),
        &json!({"code": "NACL-09", "name": "Kochsalzlösung 0,9 % — 10 ml", "unit": "Ampulle"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    for sep in ["comma", "semicolon"] {
        let res = p
            .manager
            .get(p.url(&format!("/api/v1/exports/items.csv?separator={sep}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let bytes = res.bytes().await.unwrap();
        let seen = as_excel_reads(&bytes);
        assert!(
            seen.contains("Kochsalzlösung 0,9 % — 10 ml"),
            "{sep}: Excel shows {seen}"
        );
    }
    // stockroom reads its own export back: the byte-order mark is skipped.
    let bytes = p
        .manager
        .get(p.url("/api/v1/exports/items.csv"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let text = stockroom::csv_io::table::decode(&bytes).unwrap();
    let table = stockroom::csv_io::table::parse(&text).unwrap();
    assert_eq!(table.columns[0], "code", "{:?}", table.columns);
}
