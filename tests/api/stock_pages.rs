//! The "Use stock" and "Receive" pages: a scan fills the form.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::stock::{movement, practice};

/// A GS1 DataMatrix on the box: GTIN, lot (ended by FNC1, sent as GS), expiry.
fn scan_with_lot(lot: &str, expiry: &str) -> String {
    format!("]d2010950600013435210{lot}\u{1d}17{expiry}")
}

fn query(code: &str) -> String {
    serde_urlencoded::to_string([("code", code)]).unwrap()
}

#[tokio::test]
async fn a_scan_fills_item_pack_quantity_lot_expiry_and_the_lot_s_location() {
    let p = practice().await;
    post_json(
        &p.staff,
        p.url("/api/v1/movements"),
        &movement("receipt", p.item, p.cabinet, 20),
    )
    .await;
    let b = p.app.new_browser();
    assert_eq!(
        b.login("sam", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    let html = b
        .get_html(&format!(
            "/stock/use?{}",
            query(&scan_with_lot("L42", "710331"))
        ))
        .await;
    assert!(html.contains("Lidocaine 1%"), "{html}");
    assert!(html.contains(r#"name="item" value="LID-1""#));
    assert!(html.contains(r#"name="lot" value="L42""#));
    assert!(html.contains(r#"name="expiry" type="date" value="2071-03-31""#));
    assert!(
        html.contains(r#"value="1" required autofocus"#),
        "one Enter uses one ampoule, not the box of 10: {html}"
    );
    assert!(
        html.contains("You scanned a pack of 10 ampoules: the quantity is 1 ampoule; enter 10 to use the whole pack."),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            r#"<option value="{}" selected>Treatment room › Cabinet A</option>"#,
            p.cabinet
        )),
        "{html}"
    );

    let res = b
        .post_form(
            "/stock/use",
            &[
                ("item", "LID-1"),
                ("location_id", &p.cabinet.to_string()),
                ("lot", "L42"),
                ("expiry", "2071-03-31"),
                ("quantity", "2"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/stock/use");
    let page = b.get_html("/stock/use").await;
    assert!(
        page.contains("Used 2 ampoules of Lidocaine 1%, lot L42 from Treatment room › Cabinet A."),
        "{page}"
    );
    // Receiving takes the box whole.
    let html = b
        .get_html(&format!(
            "/stock/receive?{}",
            query(&scan_with_lot("L43", "710331"))
        ))
        .await;
    assert!(html.contains(r#"value="10" required autofocus"#), "{html}");
    assert_eq!(
        p.app.scalar("SELECT sum(quantity) FROM stock_levels").await,
        18
    );
}

async fn receive(p: &crate::stock::Practice, lot: &str, expiry: &str, q: i64, at: i64) {
    let m = json!({"kind": "receipt", "item_id": p.item, "location_id": at, "quantity": q, "lot": lot, "expiry": expiry});
    assert_eq!(
        post_json(&p.staff, p.url("/api/v1/movements"), &m)
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn without_a_lot_the_first_good_lot_is_suggested_never_an_expired_one() {
    let p = practice().await;
    receive(&p, "LATE", "2072-01-31", 5, p.fridge).await;
    receive(&p, "OLD", "2020-01-31", 2, p.fridge).await;
    let b = p.app.new_browser();
    b.login("sam", PASSWORD).await;
    let html = b.get_html("/stock/use?item=lid-1").await;
    assert!(
        html.contains(r#"name="lot" value="LATE""#),
        "the first lot that may be used: {html}"
    );
    assert!(
        html.contains("Lot OLD expired on 2020-01-31: dispose of it."),
        "{html}"
    );
    let lots = &html[html.find(r#"data-testid="lots""#).unwrap()..];
    assert!(lots.find("OLD").unwrap() < lots.find("LATE").unwrap());
}

#[tokio::test]
async fn a_scanned_expired_lot_is_not_filled_in_and_a_good_lot_from_the_same_room_is() {
    let p = practice().await;
    receive(&p, "GOOD-C", "2073-01-31", 5, p.cabinet).await;
    receive(&p, "GOOD-F", "2072-01-31", 5, p.fridge).await;
    receive(&p, "OLD", "2020-01-31", 2, p.fridge).await;
    let b = p.app.new_browser();
    b.login("sam", PASSWORD).await;
    let html = b
        .get_html(&format!(
            "/stock/use?{}",
            query(&scan_with_lot("old", "200131"))
        ))
        .await;
    assert!(
        html.contains("Lot old expired on 2020-01-31. Do not use it; dispose of it instead."),
        "{html}"
    );
    assert!(
        html.contains(r#"name="lot" value="GOOD-F""#),
        "same room: {html}"
    );
    assert!(!html.contains(r#"name="lot" value="old""#), "{html}");
    assert!(
        html.contains(
            "The form shows lot GOOD-F instead (expires 2072-01-31), in Treatment room › Fridge."
        ),
        "{html}"
    );
    assert!(
        html.contains(&format!(r#"<option value="{}" selected>"#, p.fridge)),
        "{html}"
    );
}

#[tokio::test]
async fn an_expired_lot_is_used_only_with_a_reason_which_is_kept_and_audited() {
    let p = practice().await;
    receive(&p, "OLD", "2020-01-31", 2, p.fridge).await;
    let b = p.app.new_browser();
    b.login("sam", PASSWORD).await;
    let fridge = p.fridge.to_string();
    let mut form = vec![
        ("item", "LID-1"),
        ("location_id", fridge.as_str()),
        ("lot", "OLD"),
        ("expiry", "2020-01-31"),
        ("quantity", "1"),
    ];
    let before = p.app.scalar("SELECT count(*) FROM stock_movements").await;
    let res = b.post_form("/stock/use", &form).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("A reason is needed: lot OLD expired on 2020-01-31 and must not be used; dispose of it instead, or say why it is used anyway"),
        "{html}"
    );
    assert!(html.contains(r#"id="expired_use_reason""#), "{html}");
    assert_eq!(
        p.app.scalar("SELECT count(*) FROM stock_movements").await,
        before,
        "nothing booked"
    );

    form.push(("expired_use_reason", "no other stock; approved by Dr Weber"));
    let res = b.post_form("/stock/use", &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let reason: String = p
        .app
        .raw_connection()
        .query_row(
            "SELECT reason FROM stock_movements ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        reason,
        "used after expiry: no other stock; approved by Dr Weber"
    );
    assert_eq!(p.app.audit_count("stock.use_expired").await, 1);
}

#[tokio::test]
async fn a_recalled_lot_is_named_as_quarantined_on_every_form_that_takes_a_scan() {
    let p = practice().await;
    receive(&p, "MV2701", "2072-01-31", 10, p.fridge).await;
    receive(&p, "SAFE", "2073-01-31", 4, p.fridge).await;
    let res = post_json(
        &p.manager,
        p.url("/api/v1/recalls/quarantine"),
        &json!({"gtin": "9506000134352", "lots": ["MV2701"]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let b = p.app.new_browser();
    b.login("sam", PASSWORD).await;
    let scan = query(&scan_with_lot("mv-2701", "720131"));
    for form in ["use", "receive", "transfer"] {
        let html = b.get_html(&format!("/stock/{form}?{scan}")).await;
        assert!(
            html.contains("Lot mv-2701 is quarantined after a recall (10 ampoules at Treatment room › Fridge). Do not use it: set it aside and dispose of it as recalled."),
            "{form}: {html}"
        );
    }
    let html = b.get_html(&format!("/stock/use?{scan}")).await;
    assert!(html.contains(r#"name="lot" value="SAFE""#), "{html}");
    let html = b.get_html(&format!("/stock/dispose?{scan}")).await;
    assert!(html.contains(r#"value="recalled" checked"#), "{html}");
}

#[tokio::test]
async fn mistakes_are_shown_on_the_form_and_change_nothing() {
    let p = practice().await;
    post_json(
        &p.staff,
        p.url("/api/v1/movements"),
        &movement("receipt", p.item, p.cabinet, 3),
    )
    .await;
    let b = p.app.new_browser();
    b.login("sam", PASSWORD).await;

    // An unknown GTIN (valid check digit) and a misread one.
    let res = b
        .get(&format!("/stock/use?{}", query("4006381333931")))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("is GTIN 4006381333931, which no item has yet")
    );
    let res = b
        .get(&format!("/stock/use?{}", query("4006381333932")))
        .await;
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("check digit is 2, expected 1")
    );

    let before = p.app.scalar("SELECT count(*) FROM stock_movements").await;
    let res = b
        .post_form(
            "/stock/use",
            &[
                ("item", "LID-1"),
                ("location_id", &p.cabinet.to_string()),
                ("lot", "L42"),
                ("expiry", "2071-03-31"),
                ("quantity", "5"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(
            "Lidocaine 1% at Treatment room › Cabinet A (lot L42) has 3 ampoules available"
        ),
        "{html}"
    );
    assert!(
        html.contains(
            r#"name="quantity" type="number" min="1" step="1" inputmode="numeric" value="5""#
        ),
        "kept what was typed"
    );

    let res = b
        .post_form(
            "/stock/use",
            &[("item", "NOPE"), ("location_id", ""), ("quantity", "x")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    for msg in [
        "Item no active item has this code",
        "Location: choose a location",
        "Quantity: must be a whole number",
    ] {
        assert!(html.contains(msg), "{msg}");
    }
    assert_eq!(
        p.app.scalar("SELECT count(*) FROM stock_movements").await,
        before
    );
}

#[tokio::test]
async fn receiving_adds_stock_with_the_scanned_lot() {
    let p = practice().await;
    let b = p.app.new_browser();
    b.login("sam", PASSWORD).await;
    let html = b
        .get_html(&format!(
            "/stock/receive?{}",
            query(&scan_with_lot("NEW1", "720600"))
        ))
        .await;
    assert!(
        html.contains(r#"name="expiry" type="date" value="2072-06-30""#),
        "DD=00: {html}"
    );
    let res = b
        .post_form(
            "/stock/receive",
            &[
                ("item", "LID-1"),
                ("location_id", &p.fridge.to_string()),
                ("lot", "NEW1"),
                ("expiry", "2072-06-30"),
                ("quantity", "10"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        p.app
            .scalar("SELECT sum(quantity) FROM stock_levels WHERE lot = 'NEW1'")
            .await,
        10
    );
}

#[tokio::test]
async fn adjust_dispose_and_move_forms_record_their_movements() {
    let p = practice().await;
    let mut receipt = movement("receipt", p.item, p.cabinet, 20);
    receipt["lot"] = json!("L42");
    receipt["expiry"] = json!("2071-03-31");
    post_json(&p.staff, p.url("/api/v1/movements"), &receipt).await;
    let b = p.app.new_browser();
    b.login("sam", PASSWORD).await;
    let (cabinet, fridge) = (p.cabinet.to_string(), p.fridge.to_string());
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut f = vec![("item", "LID-1"), ("lot", "L42"), ("expiry", "2071-03-31")];
        f.extend_from_slice(extra);
        f
    };

    // An adjustment needs a reason; refused, nothing changes.
    let mut f = base(&[("quantity", "-3")]);
    f.push(("location_id", &cabinet));
    let res = b.post_form("/stock/adjust", &f).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Reason is required for an adjustment")
    );
    assert_eq!(
        p.app.scalar("SELECT count(*) FROM stock_movements").await,
        1
    );
    f.push(("reason", "broken ampoules found"));
    let res = b.post_form("/stock/adjust", &f).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        b.get_html("/stock/adjust").await.contains(
            "Took 3 ampoules of Lidocaine 1%, lot L42 off at Treatment room › Cabinet A."
        )
    );

    // A disposal's reason is one of three.
    let mut f = base(&[("quantity", "2"), ("reason", "lost")]);
    f.push(("location_id", &cabinet));
    let res = b.post_form("/stock/dispose", &f).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut f = base(&[("quantity", "2"), ("reason", "damaged")]);
    f.push(("location_id", &cabinet));
    assert_eq!(
        b.post_form("/stock/dispose", &f).await.status(),
        StatusCode::SEE_OTHER
    );

    // A move needs somewhere to go, and goes there.
    let mut f = base(&[("quantity", "5")]);
    f.push(("location_id", &cabinet));
    let res = b.post_form("/stock/transfer", &f).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("choose where the stock goes")
    );
    f.push(("to_location_id", &fridge));
    assert_eq!(
        b.post_form("/stock/transfer", &f).await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(b.get_html("/stock/transfer").await.contains("Moved 5 ampoules of Lidocaine 1%, lot L42 from Treatment room › Cabinet A to Treatment room › Fridge."));

    let kinds: Vec<(String, i64)> = p
        .app
        .db()
        .read(|c| {
            let mut s = c.prepare("SELECT kind, quantity FROM stock_movements ORDER BY id")?;
            let rows = s
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok::<_, stockroom::db::DbError>(rows)
        })
        .await
        .unwrap();
    let kinds: Vec<(&str, i64)> = kinds.iter().map(|(k, q)| (k.as_str(), *q)).collect();
    assert_eq!(
        kinds,
        [
            ("receipt", 20),
            ("adjustment", -3),
            ("disposal", -2),
            ("transfer_out", -5),
            ("transfer_in", 5)
        ]
    );
    assert_eq!(p.app.scalar("SELECT quantity FROM stock_levels WHERE location_id = (SELECT max(id) FROM locations)").await, 5);
}

#[tokio::test]
async fn a_recall_finds_quarantines_and_disposes_of_the_lots() {
    let p = practice().await;
    for (lot, location, quantity) in [
        ("R1", p.cabinet, 10),
        ("R1", p.fridge, 4),
        ("OK", p.cabinet, 7),
    ] {
        let mut receipt = movement("receipt", p.item, location, quantity);
        receipt["lot"] = json!(lot);
        receipt["expiry"] = json!("2030-06-30");
        post_json(&p.staff, p.url("/api/v1/movements"), &receipt).await;
    }
    let mut used = movement("consumption", p.item, p.cabinet, -3);
    used["lot"] = json!("R1");
    used["expiry"] = json!("2030-06-30");
    post_json(&p.staff, p.url("/api/v1/movements"), &used).await;

    let b = p.app.new_browser();
    b.login("mia", PASSWORD).await;
    // A scanned code fills in GTIN and lot.
    let scan =
        serde_urlencoded::to_string([("gtin", "]d2010950600013435210R1\u{1d}17300630")]).unwrap();
    let html = b.get_html(&format!("/recall?{scan}")).await;
    assert!(
        html.contains("Treatment room › Cabinet A</td><td>R1</td><td>2030-06-30</td><td>7 ampoule"),
        "{html}"
    );
    assert!(
        html.contains("Treatment room › Fridge</td><td>R1</td><td>2030-06-30</td><td>4 ampoule")
    );
    assert!(
        !html.contains("<td>OK</td>"),
        "other lots are not part of the recall"
    );
    assert!(html.contains("consumption</td><td>Treatment room › Cabinet A</td><td>R1</td><td>3 ampoules</td><td>sam</td>"), "{html}");
    assert!(html.contains("Quarantine 11 ampoules"));

    let form = [("gtin", "09506000134352"), ("lots", "R1")];
    let res = b.post_form("/recall/dispose", &form).await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "quarantine first"
    );
    let res = b.post_form("/recall/quarantine", &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Quarantined stock cannot be used.
    let mut again = movement("consumption", p.item, p.fridge, -1);
    again["lot"] = json!("R1");
    again["expiry"] = json!("2030-06-30");
    let res = post_json(&p.staff, p.url("/api/v1/movements"), &again).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let refusal = res.text().await.unwrap();
    assert!(
        refusal.contains("at Treatment room › Fridge (lot R1) has 0 ampoules available (4 more quarantined after a recall"),
        "the refusal says why: {refusal}"
    );
    let res = b.post_form("/recall/dispose", &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        b.get_html(&location(&res))
            .await
            .contains("Disposed of 11 ampoules as recalled.")
    );
    assert_eq!(
        p.app.scalar("SELECT count(*) FROM stock_movements WHERE kind = 'disposal' AND reason = 'recalled'").await,
        2,
        "one disposal per location"
    );
    assert_eq!(
        p.app.scalar("SELECT sum(quantity) FROM stock_levels").await,
        7,
        "lot OK stays"
    );

    // Staff may not run recalls; unknown input is named.
    let s = p.app.new_browser();
    s.login("sam", PASSWORD).await;
    assert_eq!(s.get("/recall").await.status(), StatusCode::FORBIDDEN);
    let res = b.get("/recall?gtin=12345&lots=").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("GTIN") && html.contains("Lots: name 1 to 50 lot numbers"),
        "{html}"
    );
    let report: serde_json::Value = get_json(
        &p.manager,
        p.url("/api/v1/recalls?gtin=9506000134352&lots=R1,OK"),
    )
    .await;
    assert_eq!(
        report["used"].as_array().unwrap().len(),
        3,
        "use and two disposals: {report}"
    );
}

/// A HIBCC label as a scanner types it: the data and its check character.
fn hibcc(data: &str) -> String {
    let check = stockroom::domain::barcode::hibcc::check_char(data).unwrap();
    format!("{data}{check}")
}

#[tokio::test]
async fn hibcc_labels_find_their_item_and_fill_lot_and_expiry() {
    let p = practice().await;
    let primary = hibcc("+A123LIDO11");
    let secondary = hibcc("+$$0928L77X");

    // Not linked yet: staff are told so; nothing is guessed.
    let b = p.app.new_browser();
    b.login("sam", PASSWORD).await;
    let res = b.get(&format!("/stock/use?{}", query(&primary))).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("is HIBCC {primary}, which no item has yet")),
        "{html}"
    );

    // A manager adds it to the item as its box of 10, through the API. A
    // secondary label or a GTIN in the HIBCC field is refused.
    let packs = p.url(&format!("/api/v1/items/{}/packs", p.item));
    for (bad, problem) in [
        (secondary.as_str(), "secondary label"),
        ("4006381333931", "is a GTIN"),
        ("+A123LIDO11Z", "check character"),
    ] {
        let res = post_json(
            &p.manager,
            packs.clone(),
            &json!({"name": "tray", "quantity": 10, "hibcc": bad}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let body = res.text().await.unwrap();
        assert!(body.contains("hibcc") && body.contains(problem), "{body}");
    }
    let res = post_json(
        &p.manager,
        packs.clone(),
        &json!({"name": "tray", "quantity": 5, "hibcc": primary.to_lowercase()}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let pack: serde_json::Value = res.json().await.unwrap();
    assert_eq!(pack["hibcc"], "A123LIDO11");
    // The same code on a second pack is refused.
    let res = post_json(
        &p.manager,
        packs,
        &json!({"name": "case", "quantity": 50, "hibcc": primary}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("is already used by Lidocaine 1%")
    );

    // The primary label fills the item and the tray's quantity; the
    // secondary label scanned next keeps the item and adds lot and expiry.
    let html = b
        .get_html(&format!("/stock/receive?{}", query(&primary)))
        .await;
    assert!(html.contains(r#"name="item" value="LID-1""#), "{html}");
    assert!(html.contains(r#"value="5" required autofocus"#), "{html}");
    assert!(
        html.contains(r#"<input type="hidden" name="item" value="LID-1">"#),
        "the scan box remembers the item for the next label"
    );
    let both =
        serde_urlencoded::to_string([("code", secondary.as_str()), ("item", "LID-1")]).unwrap();
    let html = b.get_html(&format!("/stock/receive?{both}")).await;
    assert!(html.contains(r#"name="item" value="LID-1""#), "{html}");
    assert!(html.contains(r#"name="lot" value="L77""#), "{html}");
    assert!(html.contains(r#"name="expiry" type="date" value="2028-09-30""#));
    // Alone, the secondary label cannot say which item it is.
    let res = b
        .get(&format!("/stock/receive?{}", query(&secondary)))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("scan the label with the product number first")
    );
    // A label with both parts does everything at once.
    let html = b
        .get_html(&format!(
            "/stock/receive?{}",
            query(&hibcc("+A123LIDO11/$$0928L78"))
        ))
        .await;
    assert!(
        html.contains(r#"name="item" value="LID-1""#) && html.contains(r#"name="lot" value="L78""#)
    );

    // The item list opens the item for the code, typed or scanned.
    let res = b
        .get(&format!(
            "/items?{}",
            serde_urlencoded::to_string([("q", &primary)]).unwrap()
        ))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/items/{}", p.item));
    let found: serde_json::Value = p
        .staff
        .get(p.url(&format!(
            "/api/v1/items?{}",
            serde_urlencoded::to_string([("q", &primary)]).unwrap()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["id"], p.item, "{found}");
}

#[tokio::test]
async fn an_unknown_hibcc_code_can_be_attached_to_an_item() {
    let p = practice().await;
    let code = hibcc("+B456GAUZE0");
    let m = p.app.new_browser();
    m.login("mia", PASSWORD).await;
    let html = m
        .get_html(&format!(
            "/items?{}",
            serde_urlencoded::to_string([("q", &code)]).unwrap()
        ))
        .await;
    let encoded = serde_urlencoded::to_string([("gtin", &code)]).unwrap();
    assert!(
        html.contains(&format!("/items/attach?{encoded}")),
        "the + survives the link: {html}"
    );
    let form = m.get_html(&format!("/items/attach?{encoded}")).await;
    assert!(
        form.contains(&format!("Add the barcode {code} to an item")),
        "{form}"
    );
    let res = m
        .post_form(
            "/items/attach",
            &[("gtin", &code), ("item", "LID-1"), ("quantity", "1")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        p.app
            .scalar("SELECT count(*) FROM item_packs WHERE hibcc = 'B456GAUZE0'")
            .await,
        1
    );
    let res = m
        .get(&format!(
            "/items?{}",
            serde_urlencoded::to_string([("q", &code)]).unwrap()
        ))
        .await;
    assert_eq!(location(&res), format!("/items/{}", p.item));
    let page = m.get_html(&format!("/items/{}", p.item)).await;
    assert!(
        page.contains("<code>B456GAUZE0</code> <span class=\"muted\">HIBCC</span>"),
        "{page}"
    );
}

#[tokio::test]
async fn a_recall_matches_lots_as_people_type_them_and_names_each_lot_it_did_not_find() {
    let p = practice().await;
    receive(&p, "MV2701", "2072-01-31", 10, p.fridge).await;
    let b = p.app.new_browser();
    b.login("mia", PASSWORD).await;
    let q =
        serde_urlencoded::to_string([("gtin", "9506000134352"), ("lots", "mv-2701, NOSUCHLOT")])
            .unwrap();
    let html = b.get_html(&format!("/recall?{q}")).await;
    assert!(!html.contains("None of these lots is in stock"), "{html}");
    assert!(
        html.contains("<strong>mv-2701</strong>: recorded as MV2701; 10 ampoules in stock"),
        "{html}"
    );
    assert!(
        html.contains("<strong>NOSUCHLOT</strong>: no stock or movement of this lot of Lidocaine 1% was ever recorded: check the number on the notice"),
        "{html}"
    );
    // Quarantined as typed.
    let form = [("gtin", "9506000134352"), ("lots", "mv-2701, NOSUCHLOT")];
    let res = b.post_form("/recall/quarantine", &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        p.app
            .scalar("SELECT quarantined FROM stock_levels WHERE lot = 'MV2701'")
            .await,
        10
    );
}
