//! The daily digest through the real application: its page (settings
//! saved, bad ones refused and nothing changed), "send the digest now"
//! through a real SMTP server on loopback, and the days it must stay
//! silent: nothing to report, nobody to tell, no mail server.

use reqwest::StatusCode;
use serde_json::json;
use stockroom::domain::Clock;
use stockroom::notify::settings::{self, DigestSettings};

use crate::dispatch::{PUBLIC_URL, with_smtp};
use crate::helpers::*;
use crate::orders::ordering_stepped;
use crate::smtp_sink::{Mode, SmtpSink};

const PAGE: &str = "/admin/digest";

async fn stored(app: &TestApp) -> DigestSettings {
    app.db()
        .read(|c| settings::get(c).map_err(stockroom::db::DbError::from))
        .await
        .unwrap()
}

/// Runs the queue (and the schedule) until nothing is due, then expects
/// `sql` (a count) to be `n`.
async fn after_running(app: &TestApp, sql: &'static str, n: i64) {
    app.run_pending_jobs().await;
    assert_eq!(app.scalar(sql).await, n, "{sql}");
}

/// With a mail server configured, the default schedule makes up for this
/// morning's 07:00 at start; it finds no recipients and ends quietly. The
/// tests run it first so that it is out of their way.
async fn after_the_startup_digest(app: &TestApp) {
    after_running(
        app,
        "SELECT count(*) FROM jobs WHERE kind = 'digest.daily' AND state = 'succeeded'",
        1,
    )
    .await;
}

const MANUAL_DONE: &str = "SELECT count(*) FROM jobs WHERE idempotency_key LIKE 'digest:manual:%'
     AND state IN ('succeeded', 'dead')";

async fn save(b: &Browser, recipients: &str, days: &str) -> reqwest::Response {
    b.post_form(PAGE, &[("recipients", recipients), ("expiry_days", days)])
        .await
}

#[tokio::test]
async fn the_page_saves_valid_settings_and_refuses_bad_ones_changing_nothing() {
    let app = spawn_app().await;
    let (admin, _) = app.browser_as("admin").await;
    let html = admin.get_html(PAGE).await;
    assert!(html.contains("The digest is off"), "{html}");
    assert!(
        html.contains("only when there is something to report"),
        "{html}"
    );

    let res = save(&admin, "max@practice.test,\nmia@practice.test", "14").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), PAGE);
    let saved = stored(&app).await;
    assert_eq!(saved.recipients, ["max@practice.test", "mia@practice.test"]);
    assert_eq!(saved.expiry_days, 14);
    assert_eq!(app.audit_count("settings.digest").await, 1);
    let html = admin.get_html(PAGE).await;
    assert!(html.contains("Saved. The digest goes to max@practice.test, mia@practice.test."));
    assert!(html.contains("The digest is on"), "{html}");
    assert!(
        html.contains(">max@practice.test, mia@practice.test</textarea>"),
        "{html}"
    );
    assert!(html.contains(r#"value="14""#), "{html}");

    for (recipients, days, field, message) in [
        (
            "max@practice.test, nonsense",
            "14",
            "recipients",
            "Recipients &#34;nonsense&#34; is not an email address",
        ),
        (
            "max@practice.test",
            "400",
            "expiry_days",
            "Expiry days must be a number of days from 1 to 365",
        ),
    ] {
        let res = save(&admin, recipients, days).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!(r##"<a href="#{field}">"##)),
            "summary names {field}: {html}"
        );
        assert!(html.contains(&format!(r#"id="{field}-error""#)), "{html}");
        assert!(html.contains(message), "{html}");
        assert!(html.contains(r#"aria-invalid="true""#));
        assert_eq!(stored(&app).await, saved, "{field}: nothing saved");
    }
    assert_eq!(app.audit_count("settings.digest").await, 1);

    // Emptying the list turns the digest off.
    let res = save(&admin, "", "30").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(stored(&app).await.recipients.is_empty());
    assert!(admin.get_html(PAGE).await.contains("The digest is off"));

    // The page is the administrator's, like the practice's details.
    let (manager, _) = app.browser_as("manager").await;
    assert_eq!(manager.get(PAGE).await.status(), StatusCode::FORBIDDEN);
    let res = manager
        .post_form(PAGE, &[("recipients", "me@practice.test")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(stored(&app).await.recipients.is_empty());
}

#[tokio::test]
async fn send_now_emails_every_recipient_the_low_item_and_the_order_to_approve() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let o = ordering_stepped(with_smtp(sink.addr.port())).await;
    let app = &o.p.app;
    after_the_startup_digest(app).await;
    let (admin, admin_user) = app.browser_as("admin").await;
    let res = admin
        .post_form("/admin/practice", &[("name", "Riverside Surgery")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Lidocaine has none in the cabinet and a reorder point of 5: low.
    let res =
        o.p.manager
            .put(o.p.url(&format!(
                "/api/v1/items/{}/targets/{}",
                o.p.item, o.p.cabinet
            )))
            .json(&json!({"reorder_point": 5, "par_level": 20}))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // An order over 10.00 waits for a manager's approval.
    let admin_api = api(&create_token(app, admin_user.id, "write").await);
    let (s, b) = o
        .post(
            &admin_api,
            "/api/v1/approval-rules",
            json!({"kind": "amount_over", "amount_minor": 1000, "role": "manager"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let draft = o.draft(3).await;
    let order_id = draft["order"]["id"].as_i64().unwrap();
    let number = draft["order"]["number"].as_str().unwrap().to_string();
    let (s, b) = o
        .post(
            &o.p.staff,
            &format!("/api/v1/orders/{order_id}/submit"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["state"], "submitted", "{b}");

    let res = save(&admin, "max@practice.test, mia@practice.test", "30").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = admin.post_form("/admin/digest/send", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), PAGE);
    after_running(app, MANUAL_DONE, 1).await;

    let got = sink.received();
    assert_eq!(got.len(), 1, "one message for everyone");
    let mut to = got[0].to.clone();
    to.sort();
    assert_eq!(to, ["max@practice.test", "mia@practice.test"]);
    let m = got[0].parsed();
    let today = stockroom::domain::time::today_in(app.clock.now(), &app.config.practice.time_zone);
    assert_eq!(
        m.subject().unwrap(),
        format!("stockroom daily digest for Riverside Surgery, {today}: 1 low, 1 to approve")
    );
    let text = m.body_text(0).unwrap();
    assert!(
        text.contains("Low stock: 1 item at or below the reorder point"),
        "{text}"
    );
    assert!(
        text.contains("- Lidocaine 1% (LID-1): 0 ampoule on hand"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{PUBLIC_URL}/items/{}", o.p.item)),
        "{text}"
    );
    assert!(
        text.contains("To approve: 1 order waiting for approval"),
        "{text}"
    );
    assert!(
        text.contains(&format!("- {number} from MedSupply: 75.00 EUR")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{PUBLIC_URL}/orders/{order_id}")),
        "{text}"
    );
    for quiet in ["Expiring:", "Overdue:", "Failed jobs:"] {
        assert!(!text.contains(quiet), "{quiet} has nothing: {text}");
    }
    let html = m.body_html(0).unwrap();
    assert!(
        html.contains(&format!(
            r#"<a href="{PUBLIC_URL}/orders/{order_id}">{number} from MedSupply</a>"#
        )),
        "{html}"
    );

    let page = admin.get_html(PAGE).await;
    assert!(
        page.contains("to max@practice.test, mia@practice.test."),
        "the page tells how it went: {page}"
    );
    assert_eq!(app.audit_count("digest.sent").await, 1);
}

#[tokio::test]
async fn with_nothing_to_report_send_now_sends_nothing_and_the_page_says_so() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let app = spawn_app_without_worker(with_smtp(sink.addr.port())).await;
    after_the_startup_digest(&app).await;
    let (admin, _) = app.browser_as("admin").await;
    let res = save(&admin, "max@practice.test", "30").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let res = admin.post_form("/admin/digest/send", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    after_running(&app, MANUAL_DONE, 1).await;
    assert_eq!(
        app.scalar(
            "SELECT count(*) FROM jobs WHERE idempotency_key LIKE 'digest:manual:%' AND state = 'succeeded'"
        )
        .await,
        1
    );
    assert!(sink.received().is_empty(), "no email on a quiet day");
    let page = admin.get_html(PAGE).await;
    assert!(
        page.contains("nothing to report, so no email was sent."),
        "{page}"
    );
}

#[tokio::test]
async fn without_recipients_send_now_sends_nothing_and_says_why() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let o = ordering_stepped(with_smtp(sink.addr.port())).await;
    let app = &o.p.app;
    after_the_startup_digest(app).await;
    // Something to report, so only the missing recipients keep it quiet.
    let res =
        o.p.manager
            .put(o.p.url(&format!(
                "/api/v1/items/{}/targets/{}",
                o.p.item, o.p.cabinet
            )))
            .json(&json!({"reorder_point": 5, "par_level": 20}))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (admin, _) = app.browser_as("admin").await;

    let res = admin.post_form("/admin/digest/send", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), PAGE);
    let page = admin.get_html(PAGE).await;
    assert!(
        page.contains("Nothing was sent: nobody is set to get the digest."),
        "{page}"
    );
    assert_eq!(
        app.scalar("SELECT count(*) FROM jobs WHERE idempotency_key LIKE 'digest:manual:%'")
            .await,
        0,
        "no job was queued"
    );
    assert_eq!(app.run_pending_jobs().await, 0, "nothing is due to run");
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn without_a_mail_server_the_digest_dies_with_the_reason_on_the_page() {
    let app = spawn_app_without_worker(|_| {}).await;
    let (admin, _) = app.browser_as("admin").await;
    let page = admin.get_html(PAGE).await;
    assert!(page.contains(r#"data-testid="digest-no-mail""#), "{page}");
    assert!(
        page.contains("It is not sent on a schedule: no mail server is configured."),
        "{page}"
    );
    let res = save(&admin, "max@practice.test", "30").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let res = admin.post_form("/admin/digest/send", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    after_running(&app, MANUAL_DONE, 1).await;
    assert_eq!(
        app.scalar("SELECT count(*) FROM jobs WHERE kind = 'digest.daily' AND state = 'dead' AND attempts = 1")
            .await,
        1,
        "dead at the first attempt"
    );
    let page = admin.get_html(PAGE).await;
    assert!(
        page.contains("the digest cannot be sent: no mail server is configured"),
        "{page}"
    );
}
