//! Suppliers' EDI answers read back from their inbox folder through the
//! running application: an 855 acknowledges the order and shows each
//! line's answer on the order page, an 856 sets the expected delivery and
//! fills the receive screen with the shipped lot, and a file stockroom
//! cannot use is moved aside and shown on /admin/edi-inbox with its reason.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use serde_json::json;

use crate::dispatch::{eventually, order_state, send, set_channel, until_state, with_smtp};
use crate::helpers::*;
use crate::orders::{Ordering, ordering_stepped};

/// MedSupply's acknowledgment of `po`: of the 2 packs of lidocaine, one
/// accepted and one back-ordered until 30 January.
fn ack_855(po: &str) -> String {
    format!(
        "\
ISA*00*          *00*          *01*MEDSUPPLY      *ZZ*PRAXIS01       *260116*1015*U*00401*000000701*0*P*>~
GS*PR*MEDSUPPLY*PRAXIS01*20260116*1015*701*X*004010~
ST*855*0001~
BAK*00*AC*{po}*20260116~
PO1*1*2*CA*25.00**BP*LID-1*VP*LD-10~
ACK*IA*1*CA~
ACK*IB*1*CA*067*20260130~
CTT*1~
SE*7*0001~
GE*1*701~
IEA*1*000000701~
"
    )
}

/// MedSupply's ship notice for `po`: both packs, lot L77 expiring at the
/// end of January 2028, delivery expected on 19 January.
fn ship_856(po: &str) -> String {
    format!(
        "\
ISA*00*          *00*          *01*MEDSUPPLY      *ZZ*PRAXIS01       *260117*0800*U*00401*000000702*0*P*>~
GS*SH*MEDSUPPLY*PRAXIS01*20260117*0800*702*X*004010~
ST*856*0001~
BSN*00*SHP-9001*20260117*0800~
HL*1**S~
DTM*017*20260119~
HL*2*1*O~
PRF*{po}~
HL*3*2*I~
LIN**BP*LID-1*VP*LD-10*LT*L77~
SN1**2*CA~
DTM*036*20720131~
CTT*1~
SE*12*0001~
GE*1*702~
IEA*1*000000702~
"
    )
}

/// The ordering practice with MedSupply on EDI (inbox `medsupply-in`),
/// an order of 2 packs sent to it, and an administrator's browser.
async fn sent_by_edi() -> (Ordering, i64, String, Browser) {
    let o = ordering_stepped(with_smtp(1)).await;
    std::fs::create_dir_all(&o.p.app.config.dispatch.folder_root).unwrap();
    set_channel(
        &o,
        json!({"channel": "edi_x12", "sender_id": "PRAXIS01", "receiver_qualifier": "01", "receiver_id": "MEDSUPPLY",
               "folder": "medsupply-out", "inbox": "medsupply-in"}),
    )
    .await;
    let (id, number) = send(&o, 2).await;
    until_state(&o, id, "sent").await;
    let (admin, _) = o.p.app.browser_as("admin").await;
    (o, id, number, admin)
}

fn inbox(o: &Ordering) -> PathBuf {
    o.p.app.config.dispatch.folder_root.join("medsupply-in")
}

/// Puts a file into the inbox as the supplier's tool would, finished a
/// minute ago (files still being written are left alone).
fn drop_in(o: &Ordering, name: &str, text: &str) -> PathBuf {
    std::fs::create_dir_all(inbox(o)).unwrap();
    let path = inbox(o).join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(60))
        .unwrap();
    path
}

/// Presses "Check the inboxes now" and waits until `file` has been moved
/// into `folder` (`processed` or `rejected`) of the inbox.
async fn check_now(o: &Ordering, admin: &Browser, folder: &str, file: &str) {
    let res = admin.post_form("/admin/edi-inbox/check", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin/edi-inbox");
    let moved = inbox(o).join(folder).join(file);
    eventually(o, &format!("{file} in {folder}/"), || async {
        moved.is_file()
    })
    .await;
    assert!(!inbox(o).join(file).exists(), "{file} left the inbox");
}

#[tokio::test]
async fn an_855_in_the_inbox_acknowledges_the_order_and_its_page_shows_each_line_answer() {
    let (o, id, number, admin) = sent_by_edi().await;
    drop_in(&o, "ack-701.x12", &ack_855(&number));

    check_now(&o, &admin, "processed", "ack-701.x12").await;

    let order = order_state(&o, id).await;
    assert_eq!(order["state"], "acknowledged");
    assert_eq!(order["expected_on"], "2026-01-30");
    let html = admin.get_html(&format!("/orders/{id}")).await;
    assert!(html.contains(r#"data-testid="supplier-answer""#), "{html}");
    assert!(html.contains("Supplier's answer"), "{html}");
    assert!(
        html.contains("<strong>1 accepted; 1 back-ordered until 2026-01-30</strong>"),
        "{html}"
    );
    assert!(html.contains("<code>LD-10</code>"), "{html}");
    let page = admin.get_html("/admin/edi-inbox").await;
    assert!(page.contains("ack-701.x12"), "{page}");
    assert!(page.contains(r#"data-outcome="applied""#), "{page}");
    assert!(
        page.contains(&format!(r#"<a href="/orders/{id}">{number}</a>"#)),
        "{page}"
    );
    assert_eq!(o.p.app.audit_count("edi.inbox_check").await, 1);
    o.p.app.assert_audit_chain_intact().await;
}

#[tokio::test]
async fn a_ship_notice_announcing_more_than_was_ordered_is_flagged_on_the_order_and_the_receive_screen()
 {
    let (o, id, number, admin) = sent_by_edi().await;
    // Two packs ordered; the notice says 99.
    drop_in(
        &o,
        "asn-99.x12",
        &ship_856(&number).replace("SN1**2*CA~", "SN1**99*CA~"),
    );
    check_now(&o, &admin, "processed", "asn-99.x12").await;
    let order_page = admin.get_html(&format!("/orders/{id}")).await;
    assert!(
        order_page.contains(r#"data-testid="over-shipped""#)
            && order_page.contains("(LD-10): 99 shipped, 2 ordered"),
        "{order_page}"
    );
    let receive = admin.get_html(&format!("/orders/{id}/receive")).await;
    assert!(
        receive.contains(r#"data-testid="over-shipped""#)
            && receive.contains("(LD-10): 99 shipped, 2 ordered"),
        "{receive}"
    );
    // A notice for what was ordered raises nothing.
    let (o, id, number, admin) = sent_by_edi().await;
    drop_in(&o, "asn-702.x12", &ship_856(&number));
    check_now(&o, &admin, "processed", "asn-702.x12").await;
    let order_page = admin.get_html(&format!("/orders/{id}")).await;
    assert!(!order_page.contains(r#"data-testid="over-shipped""#));
}

#[tokio::test]
async fn an_856_sets_the_expected_delivery_and_fills_the_receive_screen_with_the_shipped_lot() {
    let (o, id, number, admin) = sent_by_edi().await;
    drop_in(&o, "asn-702.x12", &ship_856(&number));

    check_now(&o, &admin, "processed", "asn-702.x12").await;

    assert_eq!(order_state(&o, id).await["expected_on"], "2026-01-19");
    let order_page = admin.get_html(&format!("/orders/{id}")).await;
    assert!(order_page.contains("Ship notice SHP-9001"), "{order_page}");
    assert!(
        order_page.contains("<td><code>LD-10</code></td><td>2</td><td>L77</td><td>2072-01-31</td>"),
        "{order_page}"
    );
    let path = format!("/orders/{id}/receive");
    let html = admin.get_html(&path).await;
    assert!(html.contains(r#"name="r0_lot" value="L77""#), "{html}");
    assert!(
        html.contains(r#"name="r0_expiry" type="date" value="2072-01-31""#),
        "{html}"
    );
    assert!(
        html.contains(
            "Ship notice SHP-9001: 2 × pack of 10 ampoule shipped, lot L77, expiry 2072-01-31"
        ),
        "{html}"
    );
    let line = extract(&html, r#"name="r0_line" value=""#).unwrap();
    let row = [
        ("r0_line", line.as_str()),
        ("r0_lot", "L77"),
        ("r0_expiry", "2072-01-31"),
        ("r0_prefilled_lot", "L77"),
        ("r0_prefilled_expiry", "2072-01-31"),
    ];

    // Left as filled in, the row receives nothing.
    let mut fields = row.to_vec();
    fields.push(("action", "receive"));
    let res = admin.post_form(&path, &fields).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("Nothing to receive"));

    // Scanning a box of that lot adds to the filled-in row, not a new one.
    let mut fields = row.to_vec();
    fields.extend([
        ("code", "(01)09506000134352(17)280131(10)L77"),
        ("action", "scan"),
    ]);
    let res = admin.post_form(&path, &fields).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"inputmode="numeric" value="10""#), "{html}");
    assert!(!html.contains("r1_line"), "no second row: {html}");

    let mut fields = row.to_vec();
    fields.extend([("r0_quantity", "20"), ("action", "receive")]);
    let res = admin.post_form(&path, &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let stocked: String = o
        .p
        .app
        .raw_connection()
        .query_row(
            "SELECT lot || ' ' || expiry || ' ' || quantity FROM stock_levels WHERE lot = 'L77'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stocked, "L77 2072-01-31 20");
}

#[tokio::test]
async fn a_file_that_is_not_x12_is_moved_aside_and_shown_with_its_reason() {
    let (o, id, _, admin) = sent_by_edi().await;
    drop_in(&o, "hello.txt", "Dear customer, your order is on its way.");

    check_now(&o, &admin, "rejected", "hello.txt").await;

    let reason_file =
        std::fs::read_to_string(inbox(&o).join("rejected").join("hello.txt.reason.txt")).unwrap();
    assert!(
        reason_file.contains("This is not an X12 file"),
        "{reason_file}"
    );
    let page = admin.get_html("/admin/edi-inbox").await;
    assert!(page.contains("<code>hello.txt</code>"), "{page}");
    assert!(page.contains(r#"data-outcome="rejected""#), "{page}");
    assert!(page.contains("1 rejected"), "{page}");
    let shown = page
        .split(r#"data-testid="edi-file-reason">"#)
        .nth(1)
        .unwrap_or_default();
    assert!(shown.starts_with("This is not an X12 file"), "{page}");
    assert_eq!(
        order_state(&o, id).await["state"],
        "sent",
        "nothing applied"
    );
    // Only administrators see the page.
    let (manager, _) = o.p.app.browser_as("manager").await;
    assert_eq!(
        manager.get("/admin/edi-inbox").await.status(),
        StatusCode::FORBIDDEN
    );
}

/// Someone who can write into the share makes the inbox's `rejected`, or
/// the inbox itself, a link to another folder: stockroom moves nothing
/// through it, says why, and `/readyz` is degraded for that supplier. The
/// same for the folder orders are written into.
#[tokio::test]
async fn links_in_supplier_folders_are_refused_not_followed() {
    let (o, _, _, admin) = sent_by_edi().await;
    let elsewhere = tempfile::tempdir().unwrap();
    drop_in(&o, "hello.txt", "Dear customer, your order is on its way.");
    std::os::unix::fs::symlink(elsewhere.path(), inbox(&o).join("rejected")).unwrap();
    let res = admin.post_form("/admin/edi-inbox/check", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    o.p.app.run_pending_jobs().await;
    assert!(inbox(&o).join("hello.txt").is_file(), "left where it was");
    assert_eq!(
        std::fs::read_dir(elsewhere.path()).unwrap().count(),
        0,
        "nothing went through the link"
    );
    let page = admin.get_html("/admin/edi-inbox").await;
    assert!(page.contains("is a symbolic link"), "{page}");
    // The supplier's page says so too, where its sending is set up.
    let page = admin.get_html(&format!("/suppliers/{}", o.supplier)).await;
    assert!(
        page.contains(r#"data-testid="folder-problem">This supplier's folders cannot be used: "#)
            && page.contains("medsupply-in/rejected is a symbolic link"),
        "{page}"
    );
    let ready: serde_json::Value = admin.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["status"], "degraded", "{ready}");
    let folders = &ready["checks"][5];
    assert_eq!(folders["name"], "supplier_folders");
    assert!(
        folders["detail"].as_str().unwrap().contains("MedSupply"),
        "{ready}"
    );

    // The inbox itself a link: nothing in it is read or moved.
    std::fs::remove_file(inbox(&o).join("rejected")).unwrap();
    let real =
        o.p.app
            .config
            .dispatch
            .folder_root
            .join("medsupply-in-real");
    std::fs::rename(inbox(&o), &real).unwrap();
    std::os::unix::fs::symlink(&real, inbox(&o)).unwrap();
    let res = admin.post_form("/admin/edi-inbox/check", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    o.p.app.run_pending_jobs().await;
    assert!(real.join("hello.txt").is_file(), "not moved");
    assert!(!real.join("rejected").exists());

    // The outbox a link: the order fails with the reason, nothing is written.
    let out = o.p.app.config.dispatch.folder_root.join("medsupply-out");
    std::fs::remove_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), &out).unwrap();
    let (id, _) = send(&o, 1).await;
    let failed = until_state(&o, id, "dispatch_failed").await;
    assert!(
        failed["reason"]
            .as_str()
            .unwrap()
            .contains("is a symbolic link"),
        "{failed}"
    );
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}
