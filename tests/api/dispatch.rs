//! Sending orders to suppliers through a real SMTP server and a real HTTP
//! receiver on loopback, with every failure the issue names: a server that
//! refuses connections, answers 4xx, answers 5xx, stalls, is down for a
//! while, and a process killed with SIGKILL in the middle of sending.

use std::time::Duration;

use mail_parser::MimeHeaders;
use reqwest::StatusCode;
use serde_json::{Value, json};
use stockroom::config::{Config, SmtpConfig, SmtpSecurity};

use crate::helpers::*;
use crate::orders::{Ordering, ordering_stepped};
use crate::smtp_sink::{Mode, SmtpSink};

pub(crate) const PUBLIC_URL: &str = "https://stockroom.practice.test";

/// Email through the sink at `port`, fast retries, a public address for links.
pub(crate) fn with_smtp(port: u16) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        c.smtp = Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::None,
            username: String::new(),
            password: None,
            from: "Practice Supplies <supplies@practice.test>"
                .parse()
                .unwrap(),
            timeout: Duration::from_secs(1),
            ca_file: None,
        });
        c.jobs.backoff_base = Duration::from_millis(100);
        c.jobs.backoff_cap = Duration::from_millis(100);
        c.public_url = Some(PUBLIC_URL.into());
    }
}

/// The ordering practice with its supplier set to email, and practice details.
pub(crate) async fn emailing(port: u16) -> Ordering {
    emailing_with(port, |_| {}).await
}

/// The same, with more changes to the configuration.
pub(crate) async fn emailing_with(port: u16, more: impl FnOnce(&mut Config)) -> Ordering {
    let o = ordering_stepped(|c: &mut Config| {
        with_smtp(port)(c);
        more(c);
    })
    .await;
    o.p.app
        .raw_connection()
        .execute_batch(
            "INSERT INTO settings (key, value, updated_at) VALUES
               ('practice.name', 'Praxis Dr. Müller', 'now'),
               ('practice.address', 'Hauptstraße 1\n10115 Berlin', 'now'),
               ('practice.email', 'praxis@practice.test', 'now')",
        )
        .unwrap();
    set_channel(
        &o,
        json!({"channel": "email", "to": ["orders@medsupply.test"], "cc": ["buyer@practice.test"]}),
    )
    .await;
    o
}

pub(crate) async fn set_channel(o: &Ordering, channel: Value) -> Value {
    let res =
        o.p.admin
            .put(o.p.url(&format!("/api/v1/suppliers/{}/dispatch", o.supplier)))
            .json(&channel)
            .send()
            .await
            .unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// An approved order of `packs` packs, queued for sending; its id and number.
pub(crate) async fn send(o: &Ordering, packs: i64) -> (i64, String) {
    let d = o.draft(packs).await;
    let id = d["order"]["id"].as_i64().unwrap();
    let number = d["order"]["number"].as_str().unwrap().to_string();
    for action in ["submit", "send"] {
        let (s, b) = o
            .post(
                &o.p.manager,
                &format!("/api/v1/orders/{id}/{action}"),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{action}: {b}");
    }
    (id, number)
}

pub(crate) async fn order_state(o: &Ordering, id: i64) -> Value {
    get_json(&o.p.staff, o.p.url(&format!("/api/v1/orders/{id}"))).await["order"].clone()
}

/// Runs the queue (stepping the manual clock over back-off delays) until
/// `done`. On an application without its worker the test runs each due job
/// itself, so nothing waits on a timer; with a worker it wakes it and waits.
pub(crate) async fn eventually<F, Fut>(o: &Ordering, what: &str, done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_by(o, Duration::from_millis(500), what, done).await
}

/// The same, stepping the clock by `step` when nothing is due.
pub(crate) async fn eventually_by<F, Fut>(o: &Ordering, step: Duration, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let app = &o.p.app;
    for _ in 0..400 {
        if done().await {
            return;
        }
        if app.worker {
            app.clock.advance(step);
            app.app_state.jobs_waker.wake();
            tokio::time::sleep(Duration::from_millis(25)).await;
        } else if app.run_pending_jobs().await == 0 {
            // Nothing is due: move the clock towards the next retry.
            app.clock.advance(step);
        }
    }
    panic!("{what} did not happen");
}

pub(crate) async fn until_state(o: &Ordering, id: i64, state: &str) -> Value {
    eventually(o, state, || async {
        order_state(o, id).await["state"] == state
    })
    .await;
    order_state(o, id).await
}

async fn job_errors(o: &Ordering, kind: &'static str) -> Vec<String> {
    o.p.app
        .db()
        .read(move |c| {
            let mut stmt = c.prepare(
                "SELECT a.error FROM job_attempts a JOIN jobs j ON j.id = a.job_id
                 WHERE j.kind = ?1 AND a.error IS NOT NULL AND a.error != '' ORDER BY a.id",
            )?;
            let rows = stmt.query_map([kind], |r| r.get::<_, String>(0))?;
            Ok::<_, stockroom::db::DbError>(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
        .unwrap()
}

/// Waits for the first failed try at sending; every error so far.
async fn failed_once(o: &Ordering, what: &str) -> Vec<String> {
    eventually(o, what, || async {
        !job_errors(o, "order.dispatch").await.is_empty()
    })
    .await;
    job_errors(o, "order.dispatch").await
}

fn header(m: &mail_parser::Message, name: &str) -> String {
    m.header_raw(name).unwrap_or_default().trim().to_string()
}

/// The one message the sink took with this subject fragment.
fn only_message<'a>(
    sink: &'a [crate::smtp_sink::Received],
    subject: &str,
) -> &'a crate::smtp_sink::Received {
    let found: Vec<_> = sink
        .iter()
        .filter(|r| r.parsed().subject().unwrap_or_default().contains(subject))
        .collect();
    assert_eq!(found.len(), 1, "exactly one message about {subject:?}");
    found[0]
}

#[tokio::test]
async fn an_emailed_order_arrives_once_with_its_pdf_csv_and_confirmation_link() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let o = emailing(sink.addr.port()).await;
    let (id, number) = send(&o, 3).await;
    let order = until_state(&o, id, "sent").await;
    assert_eq!(order["channel"], "email");

    let got = sink.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.from, "supplies@practice.test");
    let mut to = r.to.clone();
    to.sort();
    assert_eq!(to, ["buyer@practice.test", "orders@medsupply.test"]);
    let m = r.parsed();
    assert_eq!(
        m.subject().unwrap(),
        format!("Purchase order {number} from Praxis Dr. Müller")
    );
    let message_id = header(&m, "Message-ID");
    assert!(
        message_id.starts_with(&format!("<{}.", number.to_lowercase()))
            && message_id.ends_with("@practice.test>"),
        "{message_id}"
    );
    assert!(header(&m, "Reply-To").contains("praxis@practice.test"));
    let text = m.body_text(0).unwrap();
    assert!(text.contains(&number) && text.contains("LD-10"), "{text}");
    assert!(
        text.contains("3 x pack of 10 ampoule at 25.00 = 75.00 EUR"),
        "{text}"
    );
    let html = m.body_html(0).unwrap();
    assert!(html.contains("<td>LD-10</td>"), "{html}");
    let link_start = text
        .find(&format!("{PUBLIC_URL}/supplier/confirm/"))
        .expect("a confirmation link");
    let link = text[link_start..].split_whitespace().next().unwrap();
    assert!(link.len() > 60, "{link}");

    let attachments: Vec<_> = m.attachments().collect();
    assert_eq!(attachments.len(), 2);
    let pdf = attachments
        .iter()
        .find(|a| a.attachment_name() == Some(format!("{number}.pdf").as_str()))
        .expect("the PDF");
    assert_eq!(pdf.content_type().unwrap().ctype(), "application");
    let pdf_text = crate::dispatch::pdf_text(pdf.contents());
    assert!(pdf_text.contains(&number), "{pdf_text}");
    assert!(pdf_text.contains("LD-10") && pdf_text.contains("Praxis Dr. Müller"));
    let csv = attachments
        .iter()
        .find(|a| a.attachment_name() == Some(format!("{number}.csv").as_str()))
        .expect("the CSV");
    let mut reader = csv::Reader::from_reader(csv.contents());
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][col("order_number")], number.as_str());
    assert_eq!(&rows[0][col("supplier_code")], "LD-10");
    assert_eq!(&rows[0][col("packs")], "3");
    assert_eq!(&rows[0][col("line_total")], "75.00");
}

#[tokio::test]
async fn a_temporary_4xx_reply_is_retried_and_the_order_goes_out_once() {
    let sink = SmtpSink::start(Mode::TempFail).await;
    let o = emailing(sink.addr.port()).await;
    let (id, _) = send(&o, 1).await;
    failed_once(&o, "a refused attempt").await;
    assert!(
        job_errors(&o, "order.dispatch").await[0].contains("451"),
        "{:?}",
        job_errors(&o, "order.dispatch").await
    );
    assert_eq!(
        order_state(&o, id).await["state"],
        "queued",
        "still on its way"
    );
    sink.set_mode(Mode::Accept);
    until_state(&o, id, "sent").await;
    assert_eq!(sink.received().len(), 1, "delivered once");
    let offered = sink.offered();
    assert!(offered.len() >= 2, "refused first, then taken");
    // Every try is recognisably the same message.
    let ids: Vec<String> = offered
        .iter()
        .map(|r| header(&r.parsed(), "Message-ID"))
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
}

#[tokio::test]
async fn a_permanent_5xx_reply_fails_the_order_with_the_reason_until_sent_again() {
    let sink = SmtpSink::start(Mode::PermFail).await;
    let o = emailing(sink.addr.port()).await;
    let (id, _) = send(&o, 1).await;
    let order = until_state(&o, id, "dispatch_failed").await;
    let reason = order["reason"].as_str().unwrap();
    assert!(
        reason.contains("554") && reason.contains("refused"),
        "{reason}"
    );
    assert_eq!(
        job_errors(&o, "order.dispatch").await.len(),
        1,
        "not retried"
    );
    assert!(sink.received().is_empty());
    // The order page offers both ways out: retry, or change the channel.
    let (browser, _) = o.p.app.browser_as("manager").await;
    let page = browser.get_html(&format!("/orders/{id}")).await;
    assert!(page.contains(">Retry sending</button>"), "{page}");
    assert!(
        page.contains(&format!(
            "href=\"/suppliers/{}#dispatch-heading\"",
            o.supplier
        )),
        "{page}"
    );

    sink.set_mode(Mode::Accept);
    let (s, b) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/retry-send"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    until_state(&o, id, "sent").await;
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn a_server_that_stalls_times_out_and_the_send_is_retried() {
    let sink = SmtpSink::start(Mode::Stall).await;
    let o = emailing(sink.addr.port()).await;
    let (id, _) = send(&o, 1).await;
    let errors = failed_once(&o, "a timed-out attempt").await;
    assert!(
        errors[0].to_lowercase().contains("timed out") || errors[0].contains("timeout"),
        "{errors:?}"
    );
    assert_eq!(order_state(&o, id).await["state"], "queued");
    sink.set_mode(Mode::Accept);
    until_state(&o, id, "sent").await;
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn orders_queued_while_the_mail_server_is_down_all_go_out_exactly_once_when_it_is_back() {
    // A port nobody listens on: connections are refused.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let o = emailing(port).await;
    let mut orders = Vec::new();
    for packs in 1..=5 {
        orders.push(send(&o, packs).await);
    }
    eventually(&o, "every order to have failed once", || async {
        o.p.app
            .scalar("SELECT count(DISTINCT job_id) FROM job_attempts WHERE outcome = 'failed'")
            .await
            >= 5
    })
    .await;
    let errors = job_errors(&o, "order.dispatch").await;
    assert!(
        errors
            .iter()
            .all(|e| e.contains("did not take the message")),
        "{errors:?}"
    );
    for (id, _) in &orders {
        assert_eq!(order_state(&o, *id).await["state"], "queued");
    }

    let sink = SmtpSink::start_on(port, Mode::Accept).await;
    for (id, _) in &orders {
        until_state(&o, *id, "sent").await;
    }
    let got = sink.received();
    assert_eq!(got.len(), 5, "each order once");
    let mut ids: Vec<String> = got
        .iter()
        .map(|r| header(&r.parsed(), "Message-ID"))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "five different orders");
    for (_, number) in &orders {
        only_message(&got, number);
    }
}

#[tokio::test]
async fn cancelling_a_sent_order_tells_the_supplier_in_reply_to_the_order() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let o = emailing(sink.addr.port()).await;
    let (id, number) = send(&o, 2).await;
    until_state(&o, id, "sent").await;
    let (s, b) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/cancel"),
            json!({"reason": "ordered twice by mistake"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    eventually(&o, "the notice", || async { sink.received().len() == 2 }).await;
    let got = sink.received();
    let order_id = header(
        &only_message(&got, &format!("Purchase order {number}")).parsed(),
        "Message-ID",
    );
    let notice = only_message(&got, "CANCELLED").parsed();
    assert_eq!(
        notice.subject().unwrap(),
        format!("CANCELLED: purchase order {number} from Praxis Dr. Müller")
    );
    assert_eq!(header(&notice, "In-Reply-To"), order_id);
    assert!(
        notice
            .body_text(0)
            .unwrap()
            .contains("ordered twice by mistake")
    );
    assert_eq!(notice.attachments().count(), 0);
}

#[tokio::test]
async fn an_order_cancelled_before_it_was_sent_sends_no_notice() {
    let sink = SmtpSink::start(Mode::TempFail).await;
    // The retry waits an hour, so it cannot be under way (and deliver) while
    // the order is cancelled; it is then made due and run here.
    let o = emailing_with(sink.addr.port(), |c| {
        c.jobs.backoff_base = Duration::from_secs(3600);
        c.jobs.backoff_cap = Duration::from_secs(3600);
    })
    .await;
    let (id, _) = send(&o, 1).await;
    failed_once(&o, "a refused attempt").await;
    let (s, b) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/cancel"),
            json!({"reason": "not needed after all"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    sink.set_mode(Mode::Accept);
    o.p.app
        .raw_connection()
        .execute(
            "UPDATE jobs SET run_at = '2000-01-01T00:00:00.000Z' WHERE kind = 'order.dispatch'",
            [],
        )
        .unwrap();
    o.p.app.run_pending_jobs().await;
    assert_eq!(
        o.p.app
            .scalar(
                "SELECT count(*) FROM jobs WHERE kind = 'order.dispatch' AND state = 'succeeded'",
            )
            .await,
        1,
        "the send ended without sending"
    );
    assert!(sink.received().is_empty(), "neither the order nor a notice");
    assert_eq!(
        o.p.app
            .scalar("SELECT count(*) FROM jobs WHERE kind = 'order.cancel_notice'")
            .await,
        0
    );
}

#[tokio::test]
async fn the_test_button_sends_a_test_message_and_reports_failure() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let o = emailing(sink.addr.port()).await;
    let test = |o: &Ordering| {
        let url =
            o.p.url(&format!("/api/v1/suppliers/{}/dispatch/test", o.supplier));
        let client = o.p.manager.clone();
        async move {
            let res = client.post(url).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::ACCEPTED);
            res.json::<Value>().await.unwrap()["job"].as_i64().unwrap()
        }
    };
    let job = test(&o).await;
    eventually(&o, "the test message", || async {
        sink.received().len() == 1
    })
    .await;
    let m = sink.received()[0].clone();
    let parsed = m.parsed();
    assert_eq!(
        parsed.subject().unwrap(),
        "Test message from Praxis Dr. Müller: no order"
    );
    assert_eq!(parsed.attachments().count(), 0);

    sink.set_mode(Mode::PermFail);
    let failing = test(&o).await;
    assert!(failing > job);
    eventually(&o, "the failed test on the supplier page", || async {
        o.p.app
            .scalar("SELECT count(*) FROM jobs WHERE kind = 'supplier.dispatch_test' AND state = 'dead'")
            .await
            == 1
    })
    .await;
    let (browser, _) = o.p.app.browser_as("manager").await;
    let page = browser
        .get_html(&format!("/suppliers/{}", o.supplier))
        .await;
    let at = page
        .find("data-testid=\"dispatch-test\"")
        .expect("the test's result on the page");
    let shown = &page[at..(at + 400).min(page.len())];
    assert!(
        shown.contains("Last test failed") && shown.contains("554"),
        "{shown}"
    );
    assert_eq!(sink.received().len(), 1);
}

/// The confirmation link from the order email, as a path on this server.
async fn confirmation_path(o: &Ordering, sink: &SmtpSink, number: &str) -> String {
    eventually(o, "the order email", || async {
        !sink.received().is_empty()
    })
    .await;
    let got = sink.received();
    let text = only_message(&got, number)
        .parsed()
        .body_text(0)
        .unwrap()
        .into_owned();
    let start = text.find(PUBLIC_URL).expect("a link") + PUBLIC_URL.len();
    text[start..].split_whitespace().next().unwrap().to_string()
}

#[tokio::test]
async fn the_supplier_confirms_through_the_signed_link_once_and_a_forged_link_changes_nothing() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let o = emailing(sink.addr.port()).await;
    let (id, number) = send(&o, 2).await;
    until_state(&o, id, "sent").await;
    let path = confirmation_path(&o, &sink, &number).await;
    assert!(path.starts_with("/supplier/confirm/"), "{path}");

    // Anyone holding the link sees the order, read-only, without signing in.
    let supplier = o.p.app.new_browser();
    let page = supplier.get_html(&path).await;
    assert!(page.contains(&number) && page.contains("LD-10"), "{page}");
    assert!(page.contains("data-testid=\"confirm-form\""));

    // Altered: another order's number, a later expiry, a changed signature.
    let token = path.trim_start_matches("/supplier/confirm/");
    let (oid, rest) = token.split_once('.').unwrap();
    let other = format!(
        "/supplier/confirm/{}.{rest}",
        oid.parse::<i64>().unwrap() + 1
    );
    let (exp, sig) = rest.split_once('.').unwrap();
    let later = format!(
        "/supplier/confirm/{oid}.{}.{sig}",
        exp.parse::<i64>().unwrap() + 86_400
    );
    let mut bad_sig = sig.to_string();
    bad_sig.replace_range(0..1, if sig.starts_with('A') { "B" } else { "A" });
    let resigned = format!("/supplier/confirm/{oid}.{exp}.{bad_sig}");
    for forged in [
        other,
        later,
        resigned,
        "/supplier/confirm/garbage".to_string(),
    ] {
        let res = supplier.get(&forged).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{forged}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("not valid") || body.contains("not complete"),
            "{body}"
        );
        let res = supplier
            .post_form(&forged, &[("expected_on", "2099-01-01")])
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{forged}");
    }
    assert_eq!(order_state(&o, id).await["state"], "sent");

    // Refused input changes nothing and names the field.
    let res = supplier
        .post_form(&path, &[("expected_on", "someday")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Expected delivery date: must be a date")
    );
    let res = supplier
        .post_form(&path, &[("expected_on", "2000-01-01")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(order_state(&o, id).await["state"], "sent");

    let res = supplier
        .post_form(
            &path,
            &[
                ("expected_on", "2099-03-04"),
                ("supplier_reference", "SO-5531"),
                ("note", "Two boxes come from our Hamburg warehouse."),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("is confirmed, delivery expected on 2099-03-04")
    );
    let order = order_state(&o, id).await;
    assert_eq!(order["state"], "acknowledged");
    assert_eq!(order["expected_on"], "2099-03-04");
    assert_eq!(order["supplier_reference"], "SO-5531");
    let actor: String =
        o.p.app
            .raw_connection()
            .query_row(
                "SELECT actor FROM order_events WHERE action = 'acknowledge'",
                [],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(actor, "supplier");
    o.p.app.assert_audit_chain_intact().await;

    // The link is for one action: a second confirmation is refused.
    let res = supplier
        .post_form(&path, &[("expected_on", "2099-05-05")])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(order_state(&o, id).await["expected_on"], "2099-03-04");
}

#[tokio::test]
async fn an_expired_confirmation_link_is_refused() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let o = emailing(sink.addr.port()).await;
    let (id, number) = send(&o, 1).await;
    until_state(&o, id, "sent").await;
    let path = confirmation_path(&o, &sink, &number).await;
    o.p.app.clock.advance(Duration::from_secs(61 * 86_400));
    let supplier = o.p.app.new_browser();
    let res = supplier.get(&path).await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert!(res.text().await.unwrap().contains("expired"));
    let res = supplier
        .post_form(&path, &[("expected_on", "2099-01-01")])
        .await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert_eq!(order_state(&o, id).await["state"], "sent");
}

/// A supplier's webhook endpoint on loopback, verifying as the docs tell
/// suppliers to: the HMAC over timestamp and body, a fresh timestamp, and
/// each delivery id only once.
/// A request as it came: its headers and raw body.
type RawRequest = (Vec<(String, String)>, Vec<u8>);

struct Receiver {
    url: String,
    /// Status to answer with once verified (200, 400, 503 …).
    answer: std::sync::Arc<std::sync::Mutex<u16>>,
    /// Verified deliveries: (delivery id, event, body).
    taken: std::sync::Arc<std::sync::Mutex<Vec<(String, String, Value)>>>,
    /// Every request as it came: (headers, body), for replaying.
    raw: std::sync::Arc<std::sync::Mutex<Vec<RawRequest>>>,
    handle: actix_web::dev::ServerHandle,
}

const SECRET: &str = "a-shared-secret-of-at-least-32-characters";

impl Receiver {
    async fn start() -> Receiver {
        Self::start_with(None).await
    }

    /// Over TLS with this server configuration.
    async fn start_with(tls: Option<rustls::ServerConfig>) -> Receiver {
        use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
        type Shared<T> = std::sync::Arc<std::sync::Mutex<T>>;
        let answer: Shared<u16> = Default::default();
        *answer.lock().unwrap() = 200;
        let taken: Shared<Vec<(String, String, Value)>> = Default::default();
        let raw: Shared<Vec<RawRequest>> = Default::default();
        let seen: Shared<std::collections::HashSet<String>> = Default::default();
        let state = (answer.clone(), taken.clone(), raw.clone(), seen);
        let server = HttpServer::new(move || {
            let (answer, taken, raw, seen) = state.clone();
            App::new().route(
                "/hook",
                web::post().to(move |req: HttpRequest, body: web::Bytes| {
                    let (answer, taken, raw, seen) =
                        (answer.clone(), taken.clone(), raw.clone(), seen.clone());
                    async move {
                        let h = |n: &str| {
                            req.headers()
                                .get(n)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_string()
                        };
                        raw.lock().unwrap().push((
                            req.headers()
                                .iter()
                                .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
                                .collect(),
                            body.to_vec(),
                        ));
                        let now = jiff::Timestamp::now().as_second();
                        if let Err(e) = stockroom::dispatch::webhook::verify(
                            SECRET,
                            &h("stockroom-signature"),
                            &body,
                            now,
                            300,
                        ) {
                            return HttpResponse::Unauthorized().body(e);
                        }
                        let status = *answer.lock().unwrap();
                        if status != 200 {
                            return HttpResponse::build(
                                actix_web::http::StatusCode::from_u16(status).unwrap(),
                            )
                            .body("not now");
                        }
                        let delivery = h("stockroom-delivery");
                        if !seen.lock().unwrap().insert(delivery.clone()) {
                            return HttpResponse::Conflict().body("replayed delivery");
                        }
                        taken.lock().unwrap().push((
                            delivery,
                            h("stockroom-event"),
                            serde_json::from_slice(&body).unwrap(),
                        ));
                        HttpResponse::Ok().finish()
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let server = match tls {
            Some(tls) => server.bind_rustls_0_23("127.0.0.1:0", tls),
            None => server.bind("127.0.0.1:0"),
        }
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            url: format!("{scheme}://127.0.0.1:{port}/hook"),
            answer,
            taken,
            raw,
            handle,
        }
    }

    fn set_answer(&self, status: u16) {
        *self.answer.lock().unwrap() = status;
    }

    fn taken(&self) -> Vec<(String, String, Value)> {
        self.taken.lock().unwrap().clone()
    }
}

/// The receiver runs on this machine, which webhooks may reach only when an
/// administrator allows it.
fn allowing_loopback() -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        with_smtp(1)(c);
        c.dispatch.webhook_allow = vec!["127.0.0.1/32".parse().unwrap()];
    }
}

async fn hooked(receiver: &Receiver) -> Ordering {
    let o = ordering_stepped(allowing_loopback()).await;
    let saved = set_channel(
        &o,
        json!({"channel": "webhook", "url": receiver.url, "secret": SECRET}),
    )
    .await;
    assert_eq!(saved["secret"], "", "the secret is never returned");
    o
}

#[tokio::test]
async fn a_webhook_order_is_signed_delivered_once_and_a_replay_is_refused() {
    let receiver = Receiver::start().await;
    let o = hooked(&receiver).await;
    // The secret is kept, and shown nowhere: not in the API, the page or the audit log.
    let shown = get_json(
        &o.p.staff,
        o.p.url(&format!("/api/v1/suppliers/{}", o.supplier)),
    )
    .await;
    assert_eq!(shown["dispatch"]["channel"], "webhook");
    assert_eq!(shown["dispatch"]["secret"], "");
    let (browser, _) = o.p.app.browser_as("manager").await;
    let page = browser
        .get_html(&format!("/suppliers/{}", o.supplier))
        .await;
    assert!(!page.contains(SECRET));
    let audit: i64 = o
        .p
        .app
        .raw_connection()
        .query_row(
            "SELECT count(*) FROM audit_log WHERE coalesce(before_json, '') || coalesce(after_json, '') LIKE ?1",
            [format!("%{SECRET}%")],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audit, 0, "no secret in the audit log");
    // Saving again without the secret keeps it.
    set_channel(&o, json!({"channel": "webhook", "url": receiver.url})).await;

    receiver.set_answer(503);
    let (id, number) = send(&o, 4).await;
    failed_once(&o, "a 503 attempt").await;
    assert!(job_errors(&o, "order.dispatch").await[0].contains("503"));
    assert_eq!(order_state(&o, id).await["state"], "queued");
    receiver.set_answer(200);
    until_state(&o, id, "sent").await;

    let taken = receiver.taken();
    assert_eq!(taken.len(), 1, "delivered once");
    let (delivery, event, body) = &taken[0];
    assert_eq!(event, "order");
    assert_eq!(body["order"]["number"], number.as_str());
    assert_eq!(body["order"]["lines"][0]["supplier_code"], "LD-10");
    assert_eq!(body["order"]["lines"][0]["packs"], 4);
    assert_eq!(body["order"]["total"], "100.00");
    assert!(
        body["confirm_url"]
            .as_str()
            .unwrap()
            .starts_with(PUBLIC_URL)
    );
    // Every attempt of one send carries the same delivery id.
    let raw = receiver.raw.lock().unwrap().clone();
    let ids: Vec<&str> = raw
        .iter()
        .map(|(h, _)| {
            h.iter()
                .find(|(k, _)| k == "stockroom-delivery")
                .unwrap()
                .1
                .as_str()
        })
        .collect();
    assert!(
        ids.len() >= 2 && ids.iter().all(|i| i == delivery),
        "{ids:?}"
    );

    // A replay of the delivered request is refused by the receiver, and
    // an altered body fails the signature.
    let (headers, body_bytes) = raw.last().unwrap().clone();
    let replay = |body: Vec<u8>| {
        let mut req = reqwest::Client::new().post(&receiver.url).body(body);
        for (k, v) in &headers {
            if k.starts_with("stockroom-") || k == "content-type" {
                req = req.header(k, v);
            }
        }
        req.send()
    };
    assert_eq!(
        replay(body_bytes.clone()).await.unwrap().status(),
        StatusCode::CONFLICT
    );
    let mut altered = body_bytes.clone();
    let at = altered.iter().position(|b| *b == b'4').unwrap();
    altered[at] = b'9';
    assert_eq!(
        replay(altered).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(receiver.taken().len(), 1);
    receiver.handle.stop(false).await;
}

#[tokio::test]
async fn a_webhook_4xx_fails_the_order_at_once_with_the_answer() {
    let receiver = Receiver::start().await;
    let o = hooked(&receiver).await;
    receiver.set_answer(422);
    let (id, _) = send(&o, 1).await;
    let order = until_state(&o, id, "dispatch_failed").await;
    assert!(order["reason"].as_str().unwrap().contains("422"), "{order}");
    assert!(
        !order["reason"].as_str().unwrap().contains("not now"),
        "the answer's body is never shown: {order}"
    );
    assert_eq!(
        job_errors(&o, "order.dispatch").await.len(),
        1,
        "not retried"
    );
    assert!(receiver.taken().is_empty());
}

#[tokio::test]
async fn a_webhook_to_this_machine_or_the_lan_is_refused_unless_allowed() {
    let receiver = Receiver::start().await;
    // The default configuration: no address on this machine or the LAN.
    let o = ordering_stepped(with_smtp(1)).await;
    for url in [
        receiver.url.clone(),
        // A name is checked on what it resolves to, at connect time.
        receiver.url.replace("127.0.0.1", "localhost"),
    ] {
        set_channel(
            &o,
            json!({"channel": "webhook", "url": url, "secret": SECRET}),
        )
        .await;
        let (id, _) = send(&o, 1).await;
        let order = until_state(&o, id, "dispatch_failed").await;
        let reason = order["reason"].as_str().unwrap();
        assert!(
            reason.contains("was not called") && reason.contains("is this machine"),
            "{url}: {order}"
        );
        assert!(
            reason.contains("dispatch.webhook_allow"),
            "names the setting: {order}"
        );
    }
    // Private, link-local and unique-local addresses the same way, with no
    // connection attempt (nothing listens there, so a try would time out).
    for url in [
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fd00::1]/hook",
        "https://10.0.0.1:8443/hook",
    ] {
        set_channel(
            &o,
            json!({"channel": "webhook", "url": url, "secret": SECRET}),
        )
        .await;
        let (id, _) = send(&o, 1).await;
        let order = until_state(&o, id, "dispatch_failed").await;
        assert!(
            order["reason"].as_str().unwrap().contains("was not called"),
            "{url}: {order}"
        );
    }
    assert!(
        receiver.raw.lock().unwrap().is_empty(),
        "no request reached this machine"
    );
    receiver.handle.stop(false).await;
}

#[tokio::test]
async fn a_queued_order_goes_where_it_was_queued_for_and_a_retry_elsewhere_is_confirmed() {
    let o = ordering_stepped(with_smtp(1)).await;
    let root = o.p.app.config.dispatch.folder_root.clone();
    std::fs::create_dir_all(&root).unwrap();
    let files = |folder: &str| -> Vec<String> {
        std::fs::read_dir(root.join(folder))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    set_channel(&o, json!({"channel": "csv_folder", "folder": "first"})).await;
    let (id, number) = send(&o, 1).await;
    assert_eq!(order_state(&o, id).await["state"], "queued");
    // The channel changes while the order waits to be sent: it still goes
    // where it was queued for.
    set_channel(&o, json!({"channel": "csv_folder", "folder": "second"})).await;
    until_state(&o, id, "sent").await;
    assert!(
        files("first").iter().any(|f| f.contains(&number)),
        "{:?}",
        files("first")
    );
    assert!(files("second").is_empty(), "{:?}", files("second"));
    let change: Value = serde_json::from_str(
        &o.p.app
            .raw_connection()
            .query_row(
                "SELECT json_object('before', json(before_json), 'after', json(after_json)) FROM audit_log
                 WHERE action = 'supplier.dispatch' ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get::<_, String>(0),
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(change["before"]["destination"], "folder first", "{change}");
    assert_eq!(change["after"]["destination"], "folder second", "{change}");

    // Queued for an endpoint it may not reach, it fails there even after
    // the channel changed; a retry goes to the new folder, once confirmed.
    set_channel(
        &o,
        json!({"channel": "webhook", "url": "https://10.0.0.1/hook", "secret": SECRET}),
    )
    .await;
    let (id, number) = send(&o, 1).await;
    set_channel(&o, json!({"channel": "csv_folder", "folder": "second"})).await;
    let failed = until_state(&o, id, "dispatch_failed").await;
    assert!(
        failed["reason"].as_str().unwrap().contains("10.0.0.1"),
        "{failed}"
    );
    let page = crate::order_pages::signed_in(&o.p.app, "mia")
        .await
        .get_html(&format!("/orders/{id}"))
        .await;
    assert!(
        page.contains("This order was queued to go to https://10.0.0.1/hook. Orders to MedSupply now go to <strong>folder second</strong>."),
        "{page}"
    );
    assert!(
        page.contains(r#"name="confirm_destination" required"#),
        "{page}"
    );
    let (status, body) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/retry-send"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "dispatch-destination-changed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("now go to folder second"),
        "{body}"
    );
    assert_eq!(order_state(&o, id).await["state"], "dispatch_failed");
    let unresolved_dead = "SELECT count(*) FROM jobs WHERE state = 'dead' AND resolved_at IS NULL";
    assert_eq!(o.p.app.scalar(unresolved_dead).await, 1, "the failed send");
    let (status, body) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/retry-send"),
            json!({"confirm_destination": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    until_state(&o, id, "sent").await;
    // The order went out after all: its dead send needs nobody any more.
    assert_eq!(o.p.app.scalar(unresolved_dead).await, 0);
    let by: String =
        o.p.app
            .raw_connection()
            .query_row(
                "SELECT resolved_by FROM jobs WHERE state = 'dead'",
                [],
                |r| r.get(0),
            )
            .unwrap();
    assert!(by.starts_with("job ") && by.ends_with(" succeeded"), "{by}");
    assert!(
        files("second").iter().any(|f| f.contains(&number)),
        "{:?}",
        files("second")
    );

    // Failed first, the channel changed after: the same question.
    set_channel(
        &o,
        json!({"channel": "webhook", "url": "https://10.0.0.1/hook", "secret": SECRET}),
    )
    .await;
    let (id, _) = send(&o, 1).await;
    until_state(&o, id, "dispatch_failed").await;
    set_channel(&o, json!({"channel": "csv_folder", "folder": "second"})).await;
    let (status, body) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/retry-send"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "dispatch-destination-changed");
}

#[tokio::test]
async fn webhook_settings_are_checked() {
    let o = ordering_stepped(with_smtp(1)).await;
    for (bad, field) in [
        (
            json!({"channel": "webhook", "url": "http://supplier.example/hook", "secret": SECRET}),
            "url",
        ),
        (
            json!({"channel": "webhook", "url": "ftp://supplier.example/", "secret": SECRET}),
            "url",
        ),
        (
            json!({"channel": "webhook", "url": "https://supplier.example/hook", "secret": "short"}),
            "secret",
        ),
        (json!({"channel": "email", "to": []}), "to"),
        (json!({"channel": "email", "to": ["not an address"]}), "to"),
    ] {
        let res =
            o.p.admin
                .put(o.p.url(&format!("/api/v1/suppliers/{}/dispatch", o.supplier)))
                .json(&bad)
                .send()
                .await
                .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let body = res.text().await.unwrap();
        assert!(body.contains(field), "{bad}: {body}");
    }
    let shown = get_json(
        &o.p.staff,
        o.p.url(&format!("/api/v1/suppliers/{}", o.supplier)),
    )
    .await;
    assert_eq!(shown["dispatch"]["channel"], "manual", "nothing saved");
}

/// `stockroom serve` on `dir` with email through `smtp_port`; its address.
fn serve(dir: &std::path::Path, smtp_port: u16) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_stockroom"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_clear()
        .env("STOCKROOM_DATA_DIR", dir)
        .env("STOCKROOM_LOG_FORMAT", "json")
        .env("STOCKROOM_PUBLIC_URL", PUBLIC_URL)
        .env("STOCKROOM_SMTP_HOST", "127.0.0.1")
        .env("STOCKROOM_SMTP_PORT", smtp_port.to_string())
        .env("STOCKROOM_SMTP_SECURITY", "none")
        .env("STOCKROOM_SMTP_FROM", "supplies@practice.test")
        .env("STOCKROOM_SMTP_TIMEOUT_SECONDS", "300")
        .env("STOCKROOM_JOBS_LEASE_SECONDS", "10")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("server output").unwrap();
        if line.contains("\"listening\"") {
            let v: Value = serde_json::from_str(&line).unwrap();
            let a = v["fields"]["address"]
                .as_str()
                .or(v["address"].as_str())
                .unwrap_or_else(|| panic!("no address in {line}"))
                .to_string();
            break format!("http://{a}");
        }
    };
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, address)
}

#[tokio::test]
async fn a_process_killed_while_sending_sends_the_order_once_after_restart() {
    let sink = SmtpSink::start(Mode::StallAfterData).await;
    let o = emailing(sink.addr.port()).await;
    let d = o.draft(2).await;
    let id = d["order"]["id"].as_i64().unwrap();
    let (s, b) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{id}/submit"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let manager = o.p.manager.clone();
    let dir = o.p.app.stop().await;

    // The real binary takes the order, and is killed while the mail server
    // holds the message without answering.
    let (mut first, address) = serve(dir.path(), sink.addr.port());
    let res = manager
        .post(format!("{address}/api/v1/orders/{id}/send"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    for _ in 0..600 {
        if *sink.seen.lock().unwrap() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        *sink.seen.lock().unwrap(),
        1,
        "the message reached the server"
    );
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let db = rusqlite::Connection::open(dir.path().join("stockroom.db")).unwrap();
    let state = |db: &rusqlite::Connection| -> String {
        db.query_row(
            "SELECT state FROM purchase_orders WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(state(&db), "queued", "not sent: the server never said so");

    // After a restart the job's lease runs out and it is sent, once. The
    // order turns "sent" in the job's own transaction and the worker writes
    // the attempt's outcome just after, so wait for the job to finish too.
    let job_done = |db: &rusqlite::Connection| -> bool {
        db.query_row(
            "SELECT count(*) = 0 FROM jobs WHERE kind = 'order.dispatch' AND state NOT IN ('succeeded', 'failed', 'dead', 'cancelled')",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    sink.set_mode(Mode::Accept);
    let (mut second, _) = serve(dir.path(), sink.addr.port());
    let started = std::time::Instant::now();
    while (state(&db) != "sent" || !job_done(&db)) && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(state(&db), "sent");
    assert_eq!(sink.received().len(), 1, "taken once");
    let outcomes: Vec<String> = db
        .prepare("SELECT outcome FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.kind = 'order.dispatch' ORDER BY a.id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(outcomes, ["lease_expired", "succeeded"]);
}

/// The text of a PDF, read back with an independent reader.
pub(crate) fn pdf_text(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).expect("a PDF that opens");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("its text")
}

/// What the independent X12 reader (pyx12, installed by scripts/test) says of a file.
fn pyx12_check(path: &std::path::Path) -> Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("target/pytools/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/test to install the X12 test parser",
        python.display()
    );
    let out = std::process::Command::new(python)
        .arg(root.join("tests/x12/check_850.py"))
        .arg(path)
        .output()
        .unwrap();
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success(), "{summary:#}");
    summary
}

#[tokio::test]
async fn an_edi_order_is_an_x12_850_with_stored_increasing_control_numbers() {
    let o = ordering_stepped(with_smtp(1)).await;
    let root = o.p.app.config.dispatch.folder_root.clone();
    std::fs::create_dir_all(&root).unwrap();
    let edi = json!({"channel": "edi_x12", "sender_id": "PRAXIS01", "receiver_id": "MEDSUPPLY",
                     "receiver_qualifier": "01", "folder": "medsupply-edi", "inbox": "medsupply-in"});
    let saved = set_channel(&o, edi).await;
    assert_eq!(saved["sender_qualifier"], "ZZ", "the default qualifier");

    let (first, first_number) = send(&o, 2).await;
    until_state(&o, first, "sent").await;
    let (second, second_number) = send(&o, 3).await;
    until_state(&o, second, "sent").await;
    let dir = root.join("medsupply-edi");
    let file_1 = dir.join(format!("{first_number}-000000001.x12"));
    let file_2 = dir.join(format!("{second_number}-000000002.x12"));
    let s = pyx12_check(&file_1);
    assert_eq!(s["po_number"], first_number.as_str());
    assert_eq!(
        (s["isa13"].as_str(), s["iea02"].as_str()),
        (Some("000000001"), Some("000000001"))
    );
    assert_eq!(s["po1"], 1);
    let s = pyx12_check(&file_2);
    assert_eq!(s["isa13"], "000000002", "the next number");
    let text = std::fs::read_to_string(&file_1).unwrap();
    assert!(
        text.contains("*ZZ*PRAXIS01       *01*MEDSUPPLY      *"),
        "{text}"
    );
    assert!(text.contains("PO1*1*2*CA*25"), "{text}");
    assert!(text.contains("VP*LD-10"), "{text}");
    assert_eq!(
        o.p.app
            .scalar("SELECT count(*) FROM edi_interchanges WHERE transaction_set = '850'")
            .await,
        2
    );

    // Cancelling a sent order sends an 850 with purpose 01 under a new number.
    let (s, b) = o
        .post(
            &o.p.manager,
            &format!("/api/v1/orders/{first}/cancel"),
            json!({"reason": "duplicate"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let cancel = dir.join(format!("{first_number}-cancel-000000003.x12"));
    eventually(&o, "the cancellation file", || async { cancel.exists() }).await;
    let s = pyx12_check(&cancel);
    assert_eq!(s["po_number"], first_number.as_str());
    assert!(
        std::fs::read_to_string(&cancel)
            .unwrap()
            .contains("BEG*01*SA*")
    );
}

#[tokio::test]
async fn the_order_page_follows_a_queued_send_live_until_it_is_sent() {
    let sink = SmtpSink::start(Mode::TempFail).await;
    let o = emailing(sink.addr.port()).await;
    let (id, _) = send(&o, 1).await;
    failed_once(&o, "a refused attempt").await;
    let (browser, _) = o.p.app.browser_as("staff").await;
    let page = browser.get_html(&format!("/orders/{id}")).await;
    assert!(
        page.contains(&format!("hx-get=\"/orders/{id}/sending\""))
            && page.contains("hx-trigger=\"every 3s\""),
        "the block asks again while queued"
    );
    let res = browser.get(&format!("/orders/{id}/sending")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("hx-refresh").is_none());
    let block = res.text().await.unwrap();
    assert!(
        block.starts_with("<section") || block.trim_start().starts_with("<section"),
        "{block}"
    );
    // The worker keeps retrying meanwhile: the try count and whether it is
    // waiting or sending at this moment vary; the last error does not.
    assert!(block.contains("data-testid=\"sending-state\""), "{block}");
    assert!(
        block.contains("451") && block.contains(" of 8</dd>"),
        "{block}"
    );

    sink.set_mode(Mode::Accept);
    until_state(&o, id, "sent").await;
    let res = browser.get(&format!("/orders/{id}/sending")).await;
    assert_eq!(
        res.headers().get("hx-refresh").unwrap(),
        "true",
        "the page reloads"
    );
    let page = browser.get_html(&format!("/orders/{id}")).await;
    assert!(!page.contains("hx-trigger=\"every 3s\""));
}

#[tokio::test]
async fn an_edi_inbox_is_polled_every_five_minutes_once_a_supplier_has_one() {
    let o = ordering_stepped(with_smtp(1)).await;
    let polls = |state: &'static str| {
        let app = &o.p.app;
        async move {
            app.db()
                .read(move |c| {
                    c.query_row(
                        "SELECT count(*) FROM jobs WHERE kind = 'edi.inbox' AND state = ?1
                           AND idempotency_key LIKE 'edi-inbox:poll:%'",
                        [state],
                        |r| r.get::<_, i64>(0),
                    )
                    .map_err(stockroom::db::DbError::from)
                })
                .await
                .unwrap()
        }
    };
    set_channel(
        &o,
        json!({"channel": "edi_x12", "sender_id": "PRAXIS01", "receiver_id": "MEDSUPPLY",
               "folder": "medsupply-edi"}),
    )
    .await;
    assert_eq!(polls("queued").await, 0, "no inbox, no polling");
    set_channel(
        &o,
        json!({"channel": "edi_x12", "sender_id": "PRAXIS01", "receiver_id": "MEDSUPPLY",
               "folder": "medsupply-edi", "inbox": "medsupply-in"}),
    )
    .await;
    assert_eq!(polls("queued").await, 1, "the first look is queued");
    // Each look queues the next before it starts.
    eventually_by(
        &o,
        Duration::from_secs(30),
        "two looks done and the next queued",
        || async { polls("succeeded").await >= 2 && polls("queued").await == 1 },
    )
    .await;
    assert!(
        o.p.app
            .config
            .dispatch
            .folder_root
            .join("medsupply-in")
            .is_dir()
    );
    // Back to email: the next look is the last.
    set_channel(
        &o,
        json!({"channel": "email", "to": ["orders@medsupply.test"]}),
    )
    .await;
    eventually_by(&o, Duration::from_secs(30), "polling to stop", || async {
        polls("queued").await == 0
    })
    .await;
}

#[tokio::test]
async fn mail_goes_over_starttls_or_implicit_tls_after_login_and_an_unknown_certificate_is_refused()
{
    use crate::smtp_sink::Secure;
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into()),
        )
        .unwrap();
    let tls = std::sync::Arc::new(tls);
    let secure = Secure {
        tls: tls.clone(),
        implicit: false,
        user: "supplies".into(),
        password: "a-long-mail-password".into(),
    };
    let sink = SmtpSink::start_with(0, Mode::Accept, Some(secure.clone())).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("practice-ca.pem");
    std::fs::write(&ca, cert.cert.pem()).unwrap();
    let secured = |ca_file: Option<std::path::PathBuf>| {
        move |c: &mut Config| {
            let smtp = c.smtp.as_mut().unwrap();
            smtp.security = SmtpSecurity::StartTls;
            smtp.username = "supplies".into();
            smtp.password = Some(stockroom::config::Secret::new("a-long-mail-password"));
            smtp.ca_file = ca_file;
        }
    };

    // Trusting the practice's CA: upgraded, logged in, delivered.
    let o = emailing_with(sink.addr.port(), secured(Some(ca.clone()))).await;
    let (id, number) = send(&o, 1).await;
    until_state(&o, id, "sent").await;
    only_message(&sink.received(), &number);

    // Without it the certificate is not trusted: nothing is sent in the clear.
    let o = emailing_with(sink.addr.port(), secured(None)).await;
    let (id, _) = send(&o, 1).await;
    let errors = failed_once(&o, "a refused handshake").await;
    assert!(
        errors[0].to_lowercase().contains("certificate"),
        "{errors:?}"
    );
    assert_eq!(order_state(&o, id).await["state"], "queued");
    assert_eq!(sink.received().len(), 1, "only the first practice's order");

    // Implicit TLS (port 465): TLS from the first byte, then login.
    let implicit = SmtpSink::start_with(
        0,
        Mode::Accept,
        Some(Secure {
            implicit: true,
            ..secure
        }),
    )
    .await;
    let o = emailing_with(implicit.addr.port(), |c: &mut Config| {
        secured(Some(ca.clone()))(c);
        c.smtp.as_mut().unwrap().security = SmtpSecurity::Tls;
    })
    .await;
    let (id, number) = send(&o, 1).await;
    until_state(&o, id, "sent").await;
    only_message(&implicit.received(), &number);
}

#[tokio::test]
async fn an_edi_supplier_may_take_its_850s_by_email_as_an_attachment() {
    let sink = SmtpSink::start(Mode::Accept).await;
    let o = emailing(sink.addr.port()).await;
    let saved = set_channel(
        &o,
        json!({"channel": "edi_x12", "sender_id": "PRAXIS01", "receiver_id": "MEDSUPPLY",
               "folder": "", "email_to": ["edi@medsupply.test"]}),
    )
    .await;
    assert_eq!(saved["email_to"], json!(["edi@medsupply.test"]));
    let (id, number) = send(&o, 2).await;
    until_state(&o, id, "sent").await;
    let got = sink.received();
    let message = only_message(&got, &number);
    assert_eq!(message.to, ["edi@medsupply.test"]);
    let m = message.parsed();
    assert_eq!(
        m.subject().unwrap(),
        format!("EDI X12 850: purchase order {number} from Praxis Dr. Müller")
    );
    let attachments: Vec<_> = m.attachments().collect();
    assert_eq!(attachments.len(), 1);
    let file = attachments[0];
    assert_eq!(
        file.attachment_name(),
        Some(format!("{number}-000000001.x12").as_str())
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("order.x12");
    std::fs::write(&path, file.contents()).unwrap();
    let s = pyx12_check(&path);
    assert_eq!(s["po_number"], number.as_str());
    assert!(
        !o.p.app
            .config
            .dispatch
            .folder_root
            .join("medsupply-edi")
            .exists(),
        "nothing written to a folder"
    );
}

#[tokio::test]
async fn a_webhook_whose_certificate_is_not_trusted_gets_nothing() {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into()),
        )
        .unwrap();
    let receiver = Receiver::start_with(Some(tls)).await;
    assert!(receiver.url.starts_with("https://"));
    let o = hooked(&receiver).await;
    let (id, _) = send(&o, 1).await;
    let errors = failed_once(&o, "a refused handshake").await;
    assert!(
        errors[0].contains("could not connect") || errors[0].contains("request failed"),
        "{errors:?}"
    );
    assert!(
        errors[0].to_lowercase().contains("certificate"),
        "{errors:?}"
    );
    assert_eq!(
        order_state(&o, id).await["state"],
        "queued",
        "retried, not given up"
    );
    assert!(
        receiver.raw.lock().unwrap().is_empty(),
        "no request reached it"
    );
}

#[tokio::test]
async fn when_the_mail_server_takes_one_order_again_the_others_waiting_on_it_go_at_once() {
    // The mail server is down: nothing listens on its port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let o = emailing(port).await;
    let app = &o.p.app;
    // Two orders fail half a minute apart, so their retries fall apart too.
    let (first, _) = send(&o, 1).await;
    app.run_pending_jobs().await;
    app.clock.advance(Duration::from_secs(30));
    let (second, _) = send(&o, 2).await;
    app.run_pending_jobs().await;
    let waiting =
        "SELECT count(*) FROM jobs WHERE state = 'failed' AND target LIKE 'smtp:127.0.0.1:%'";
    assert_eq!(app.scalar(waiting).await, 2, "both wait on the mail server");

    // The mail server is back. The first retry comes due and gets through;
    // the second order goes with it instead of waiting for its own retry.
    let sink = SmtpSink::start_on(port, Mode::Accept).await;
    let due = "SELECT min(run_at) FROM jobs WHERE state = 'failed'";
    let first_retry: String = app
        .raw_connection()
        .query_row(due, [], |r| r.get(0))
        .unwrap();
    let until = stockroom::domain::Timestamp::parse(&first_retry).unwrap();
    app.clock
        .advance(until.since(stockroom::domain::Clock::now(&app.clock)));
    app.run_pending_jobs().await;
    assert_eq!(order_state(&o, first).await["state"], "sent");
    assert_eq!(order_state(&o, second).await["state"], "sent");
    assert_eq!(sink.received().len(), 2);
}

/// A message the server itself put off (451) is not a server that is down:
/// the order keeps its own back-off, and another order getting through
/// does not make it try again at once (each try counts).
#[tokio::test]
async fn an_order_the_mail_server_put_off_does_not_wait_on_the_server() {
    let sink = SmtpSink::start(Mode::TempFail).await;
    let o = emailing(sink.addr.port()).await;
    let app = &o.p.app;
    let (put_off, _) = send(&o, 1).await;
    app.run_pending_jobs().await;
    assert_eq!(order_state(&o, put_off).await["state"], "queued");
    let waiting = "SELECT count(*) FROM jobs WHERE state = 'failed' AND target IS NOT NULL";
    assert_eq!(app.scalar(waiting).await, 0, "not waiting on the server");
    let attempts = "SELECT count(*) FROM job_attempts";
    let tried = app.scalar(attempts).await;

    sink.set_mode(Mode::Accept);
    let (other, _) = send(&o, 2).await;
    app.run_pending_jobs().await;
    assert_eq!(order_state(&o, other).await["state"], "sent");
    assert_eq!(
        order_state(&o, put_off).await["state"],
        "queued",
        "still waiting its turn"
    );
    assert_eq!(
        app.scalar(attempts).await,
        tried + 1,
        "only the other order was tried"
    );
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn a_send_waiting_after_a_failure_can_be_tried_now_from_the_order_and_from_jobs() {
    let sink = SmtpSink::start(Mode::TempFail).await;
    let o = emailing(sink.addr.port()).await;
    let app = &o.p.app;
    let (id, _) = send(&o, 1).await;
    app.run_pending_jobs().await;
    assert_eq!(order_state(&o, id).await["state"], "queued");
    let mia = crate::order_pages::signed_in(app, "mia").await;
    let page = mia.get_html(&format!("/orders/{id}")).await;
    assert!(page.contains(r#"data-testid="sending-try-now""#), "{page}");
    let (viewer, _) = app.browser_as("viewer").await;
    let page = viewer.get_html(&format!("/orders/{id}")).await;
    assert!(
        !page.contains(r#"data-testid="sending-try-now""#),
        "managers only"
    );

    // The mail server is fixed; the manager does not wait for the next try.
    sink.set_mode(Mode::Accept);
    let res = mia
        .post_form(&format!("/orders/{id}/try-send-now"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.run_pending_jobs().await;
    assert_eq!(
        order_state(&o, id).await["state"],
        "sent",
        "at once, the clock unmoved"
    );
    assert_eq!(app.audit_count("job.try_now").await, 1);
    // Nothing waits any more: asked again, it says so and changes nothing.
    let res = mia
        .post_form(&format!("/orders/{id}/try-send-now"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.audit_count("job.try_now").await, 1);

    // From Jobs, for an administrator.
    sink.set_mode(Mode::TempFail);
    let (second, _) = send(&o, 2).await;
    app.run_pending_jobs().await;
    let job: i64 = app
        .raw_connection()
        .query_row(
            "SELECT id FROM jobs WHERE state = 'failed' AND kind = 'order.dispatch'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let (admin, _) = app.browser_as("admin").await;
    let page = admin.get_html(&format!("/admin/jobs/{job}")).await;
    assert!(
        page.contains(&format!(r#"action="/admin/jobs/{job}/try-now""#)),
        "{page}"
    );
    sink.set_mode(Mode::Accept);
    let res = admin
        .post_form(&format!("/admin/jobs/{job}/try-now"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.run_pending_jobs().await;
    assert_eq!(order_state(&o, second).await["state"], "sent");
    let res = admin
        .post_form(&format!("/admin/jobs/{job}/try-now"), &[])
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "succeeded: nothing to try"
    );
}

/// While orders wait out a long back-off on a mail server that is down, the
/// server is probed (no attempt used); the first probe that gets through
/// tries one order, and the rest follow it at once.
#[tokio::test]
async fn a_mail_server_that_jobs_wait_on_is_probed_and_they_go_as_soon_as_it_answers() {
    use stockroom::jobs::watch::{Probe, Watched, round};
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let o = emailing_with(port, |c| {
        c.jobs.backoff_base = Duration::from_secs(600);
        c.jobs.backoff_cap = Duration::from_secs(600);
    })
    .await;
    let app = &o.p.app;
    let mut orders = Vec::new();
    for packs in 1..=3 {
        orders.push(send(&o, packs).await);
    }
    app.run_pending_jobs().await;
    let waiting = "SELECT count(*) FROM jobs WHERE state = 'failed' AND target LIKE 'smtp:%'";
    assert_eq!(app.scalar(waiting).await, 3);
    let attempts = "SELECT count(*) FROM job_attempts";
    let tried = app.scalar(attempts).await;

    let dispatcher = std::sync::Arc::new(
        stockroom::dispatch::Dispatcher::new(std::sync::Arc::new(app.config.clone())).unwrap(),
    );
    let probe: Probe = std::sync::Arc::new(move |target: String| {
        let d = dispatcher.clone();
        Box::pin(async move { d.probe(&target).await })
    });
    let mut watched = Watched::default();
    // Down: probed each round, nothing made due, no attempt used.
    for _ in 0..3 {
        let woken = round(app.db(), &app.clock, &probe, Duration::ZERO, &mut watched)
            .await
            .unwrap();
        assert_eq!(woken, 0);
    }
    assert_eq!(app.run_pending_jobs().await, 0, "nothing is due");
    assert_eq!(app.scalar(attempts).await, tried);

    // Back: the next probe answers; one order is tried, the others go with it.
    let sink = SmtpSink::start_on(port, Mode::Accept).await;
    let woken = round(app.db(), &app.clock, &probe, Duration::ZERO, &mut watched)
        .await
        .unwrap();
    assert_eq!(woken, 1, "one job first");
    app.run_pending_jobs().await;
    for (id, _) in &orders {
        assert_eq!(order_state(&o, *id).await["state"], "sent");
    }
    assert_eq!(sink.received().len(), 3, "each once, the clock unmoved");
    assert_eq!(app.scalar(waiting).await, 0);
}
