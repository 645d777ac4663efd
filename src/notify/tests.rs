use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::digest::{self, Digest, Scope};
use super::settings::{self as digest_settings, DigestInput, DigestSettings};
use super::*;
use crate::config::{SmtpConfig, SmtpSecurity};
use crate::db::Db;
use crate::domain::{Clock, Timestamp};

const NOW: &str = "2026-11-30T10:00:00.000Z";

#[derive(Debug)]
struct Fixed(Timestamp);

impl Clock for Fixed {
    fn now(&self) -> Timestamp {
        self.0
    }
}

fn now() -> Timestamp {
    Timestamp::parse(NOW).unwrap()
}

fn scope(public_url: Option<&str>) -> Scope<'_> {
    Scope {
        now: now(),
        today: time::macros::date!(2026 - 11 - 30),
        expiry_days: 30,
        public_url,
    }
}

/// A practice with a store, a supplier and a user, and nothing that needs
/// attention: gloves with a reorder point of 10 and 50 on hand.
fn practice() -> (tempfile::TempDir, Db) {
    let (dir, db) = crate::db::testing::migrated_db();
    sql(
        &db,
        "INSERT INTO users (id, username, display_name, role, password_hash, created_at, updated_at)
           VALUES (1, 'sam', 'Sam Staff', 'staff', 'x', 'now', 'now');
         INSERT INTO locations (id, parent_id, name, kind, created_at, updated_at)
           VALUES (1, NULL, 'Store', 'room', 'now', 'now');
         INSERT INTO suppliers (id, name, lead_time_days, created_at, updated_at)
           VALUES (1, 'MedSupply', 3, 'now', 'now');
         INSERT INTO items (id, code, name, unit, created_at, updated_at)
           VALUES (1, 'GLV-M', 'Nitrile gloves M', 'each', 'now', 'now');
         INSERT INTO item_locations (item_id, location_id, reorder_point, par_level) VALUES (1, 1, 10, 100);
         INSERT INTO stock_levels (item_id, location_id, lot, expiry, quantity) VALUES (1, 1, '', '', 50);
         INSERT INTO settings (key, value, updated_at) VALUES ('practice.name', 'Riverside Surgery', 'now');",
    );
    (dir, db)
}

fn sql(db: &Db, batch: &str) {
    let batch = batch.to_string();
    db.write_blocking(move |tx| tx.execute_batch(&batch).map_err(DbError::from))
        .unwrap();
}

fn gather(db: &Db, public_url: Option<&str>) -> Digest {
    db.read_blocking(|c| digest::gather(c, &scope(public_url)).map_err(DbError::from))
        .unwrap()
}

fn headings(d: &Digest) -> Vec<String> {
    d.sections()
        .iter()
        .map(|s| s.heading.split(':').next().unwrap().to_string())
        .collect()
}

const LOW: &str = "UPDATE stock_levels SET quantity = 4 WHERE item_id = 1;";
const EXPIRING: &str =
    "INSERT INTO items (id, code, name, unit, lot_tracked, expiry_tracked, created_at, updated_at)
      VALUES (2, 'LID-1', 'Lidocaine 1%', 'ampoule', 1, 1, 'now', 'now');
    INSERT INTO stock_levels (item_id, location_id, lot, expiry, quantity) VALUES
      (2, 1, 'L1', '2026-12-10', 5), (2, 1, 'L0', '2026-11-01', 2);";
const TO_APPROVE: &str = "INSERT INTO purchase_orders (id, number, supplier_id, state, currency, total_minor, created_by, created_at, updated_at)
      VALUES (1, 'PO-2026-00001', 1, 'submitted', 'EUR', 7500, 1, 'now', 'now');";
const OVERDUE: &str = "INSERT INTO purchase_orders (id, number, supplier_id, state, currency, total_minor, expected_on, created_at, updated_at)
      VALUES (2, 'PO-2026-00002', 1, 'sent', 'EUR', 1200, '2026-11-20', 'now', 'now');";
const DEAD: &str = "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, last_error, created_at)
      VALUES ('order.dispatch', '{}', 'dead', 3, 3, 'now', 'the supplier portal answered 503', 'now');";

#[test]
fn a_quiet_day_has_nothing_to_say() {
    let (_d, db) = practice();
    let d = gather(&db, None);
    assert!(d.is_empty(), "{d:?}");
    assert!(d.sections().is_empty());
    assert_eq!(
        (
            d.low.total,
            d.expiring.total,
            d.to_approve.total,
            d.overdue.total,
            d.dead_jobs.total
        ),
        (0, 0, 0, 0, 0)
    );
    // Orders that need nothing (a draft, one expected later) stay quiet too.
    sql(
        &db,
        "INSERT INTO purchase_orders (id, number, supplier_id, state, currency, expected_on, created_at, updated_at) VALUES
           (7, 'PO-2026-00007', 1, 'draft', 'EUR', '', 'now', 'now'),
           (8, 'PO-2026-00008', 1, 'sent', 'EUR', '2026-12-05', 'now', 'now');",
    );
    assert!(gather(&db, None).is_empty());
}

#[test]
fn each_section_appears_only_when_it_has_something() {
    let (_d, db) = practice();
    let steps = [
        (LOW, "Low stock"),
        (EXPIRING, "Expiring"),
        (TO_APPROVE, "To approve"),
        (OVERDUE, "Overdue"),
        (DEAD, "Failed jobs"),
    ];
    let mut expected: Vec<&str> = Vec::new();
    for (seed, heading) in steps {
        sql(&db, seed);
        expected.push(heading);
        let d = gather(&db, None);
        assert!(!d.is_empty());
        assert_eq!(headings(&d), expected, "after seeding {heading}");
    }
    let d = gather(&db, None);
    assert_eq!(
        d.low.heading,
        "Low stock: 1 item at or below the reorder point"
    );
    assert_eq!(d.low.entries[0].title, "Nitrile gloves M (GLV-M)");
    assert_eq!(d.low.entries[0].detail, "4 each on hand");
    assert_eq!(
        d.expiring.entries[0].detail, "expired 2026-11-01",
        "the earliest expiry on hand, already past"
    );
    assert_eq!(
        d.to_approve.entries[0].title,
        "PO-2026-00001 from MedSupply"
    );
    assert_eq!(
        d.to_approve.entries[0].detail,
        "75.00 EUR, requested by Sam Staff"
    );
    assert_eq!(d.overdue.entries[0].detail, "expected 2026-11-20, Sent");
    assert_eq!(d.dead_jobs.entries[0].title, "Job 1 (order.dispatch)");
    assert_eq!(
        d.dead_jobs.entries[0].detail,
        "the supplier portal answered 503"
    );
}

#[test]
fn stock_expiring_after_the_window_is_not_listed() {
    let (_d, db) = practice();
    sql(
        &db,
        "INSERT INTO items (id, code, name, unit, created_at, updated_at)
           VALUES (2, 'LID-1', 'Lidocaine 1%', 'ampoule', 'now', 'now');
         INSERT INTO stock_levels (item_id, location_id, lot, expiry, quantity)
           VALUES (2, 1, 'L1', '2026-12-31', 5);",
    );
    // 30 days from 2026-11-30 is 2026-12-30.
    assert!(gather(&db, None).is_empty());
    let wider = db
        .read_blocking(|c| {
            digest::gather(
                c,
                &Scope {
                    expiry_days: 31,
                    ..scope(None)
                },
            )
            .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(wider.expiring.total, 1);
    assert_eq!(wider.expiring.entries[0].detail, "expires 2026-12-31");
}

#[test]
fn the_subject_counts_each_section_that_has_something() {
    let (_d, db) = practice();
    sql(&db, &format!("{LOW}{EXPIRING}{TO_APPROVE}"));
    assert_eq!(
        gather(&db, None).subject(),
        "stockroom daily digest for Riverside Surgery, 2026-11-30: 1 low, 1 expiring, 1 to approve"
    );
    sql(
        &db,
        &format!(
            "{OVERDUE}{DEAD}{DEAD}
             INSERT INTO items (id, code, name, unit, created_at, updated_at)
               VALUES (3, 'SWB', 'Swabs', 'each', 'now', 'now');
             INSERT INTO item_locations (item_id, location_id, reorder_point) VALUES (3, 1, 5);"
        ),
    );
    assert_eq!(
        gather(&db, None).subject(),
        "stockroom daily digest for Riverside Surgery, 2026-11-30: 2 low, 1 expiring, 1 to approve, 1 overdue, 2 failed jobs"
    );
}

#[test]
fn a_long_section_lists_twenty_and_counts_all() {
    let (_d, db) = practice();
    let mut batch = String::new();
    for i in 10..35 {
        batch.push_str(&format!(
            "INSERT INTO items (id, code, name, unit, created_at, updated_at) VALUES ({i}, 'IT-{i}', 'Item {i}', 'each', 'now', 'now');
             INSERT INTO item_locations (item_id, location_id, reorder_point) VALUES ({i}, 1, 1);"
        ));
    }
    sql(&db, &batch);
    let d = gather(&db, None);
    assert_eq!(d.low.total, 25);
    assert_eq!(d.low.entries.len(), digest::SHOWN as usize);
    assert_eq!(d.low.more(), 5);
    let text = d.text().unwrap();
    assert!(text.contains("... and 5 more"), "{text}");
}

#[test]
fn links_are_absolute_with_a_public_address_and_left_out_without() {
    let (_d, db) = practice();
    sql(&db, &format!("{LOW}{TO_APPROVE}{DEAD}"));
    let d = gather(&db, Some("https://stock.example/"));
    assert_eq!(
        d.low.entries[0].link.as_deref(),
        Some("https://stock.example/items/1")
    );
    assert_eq!(
        d.to_approve.entries[0].link.as_deref(),
        Some("https://stock.example/orders/1")
    );
    assert_eq!(
        d.dead_jobs.link.as_deref(),
        Some("https://stock.example/admin/jobs?state=dead")
    );
    let html = d.html().unwrap();
    assert!(
        html.contains(r#"<a href="https://stock.example/items/1">Nitrile gloves M (GLV-M)</a>"#),
        "{html}"
    );

    let d = gather(&db, None);
    assert!(
        d.sections()
            .iter()
            .all(|s| s.link.is_none() && s.entries.iter().all(|e| e.link.is_none()))
    );
    let (text, html) = (d.text().unwrap(), d.html().unwrap());
    assert!(
        !text.contains("http") && !html.contains("<a "),
        "{text}\n{html}"
    );
    assert!(
        text.contains("- Nitrile gloves M (GLV-M): 4 each on hand"),
        "{text}"
    );
}

#[test]
fn the_message_has_both_bodies_every_recipient_and_only_the_full_sections() {
    let (_d, db) = practice();
    sql(&db, &format!("{LOW}{OVERDUE}"));
    let d = gather(&db, None);
    let from = "Stock <stock@practice.example>".parse().unwrap();
    let to = vec![
        "max@practice.example".to_string(),
        "mia@practice.example".to_string(),
    ];
    let message = digest::compose(
        &d,
        &from,
        &to,
        "office@practice.example",
        "<x@practice.example>",
    )
    .unwrap();
    let raw = String::from_utf8(message.formatted()).unwrap();
    assert!(
        raw.contains("To: max@practice.example, mia@practice.example"),
        "{raw}"
    );
    assert!(raw.contains("Reply-To: office@practice.example"), "{raw}");
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(
        raw.contains("text/plain") && raw.contains("text/html"),
        "{raw}"
    );
    let text = d.text().unwrap();
    assert!(
        text.contains("Low stock: 1 item") && text.contains("Overdue: 1 delivery"),
        "{text}"
    );
    assert!(
        !text.contains("Expiring") && !text.contains("To approve") && !text.contains("Failed jobs"),
        "{text}"
    );
}

// --- The job -------------------------------------------------------------

fn config(smtp_port: Option<u16>) -> Arc<Config> {
    let mut c = Config::for_data_dir("/nonexistent");
    c.practice.time_zone = jiff::tz::TimeZone::UTC;
    c.smtp = smtp_port.map(|port| SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: String::new(),
        password: None,
        from: "Stock <stock@practice.example>".parse().unwrap(),
        timeout: Duration::from_secs(1),
        ca_file: None,
    });
    Arc::new(c)
}

/// A port nothing listens on: any attempt to send fails.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn job(db: &Db) -> JobContext {
    JobContext {
        id: 1,
        kind: KIND.into(),
        json: json!({"manual": true}),
        attempt: 1,
        max_attempts: 5,
        key: None,
        db: db.clone(),
        clock: Arc::new(Fixed(now())),
        target: Default::default(),
    }
}

fn set_recipients(db: &Db, recipients: &str) {
    let input = DigestInput {
        recipients: recipients.into(),
        expiry_days: String::new(),
    };
    db.write_blocking(|tx| digest_settings::set(tx, &Context::system(now()), &input))
        .unwrap();
}

fn outcome(db: &Db) -> Option<String> {
    db.read_blocking(|c| {
        c.query_row(
            "SELECT action FROM audit_log WHERE action LIKE 'digest.%' ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(DbError::from)
    })
    .unwrap()
}

#[tokio::test]
async fn nothing_to_say_sends_nothing_and_succeeds() {
    let (_d, db) = practice();
    set_recipients(&db, "max@practice.example");
    // Any attempt to reach the mail server would fail with a retry.
    let d = Notifier::new(config(Some(closed_port()))).unwrap();
    assert_eq!(run(job(&db), Arc::new(d.clone())).await, Ok(()));
    assert_eq!(outcome(&db).as_deref(), Some("digest.empty"));

    sql(&db, LOW);
    let err = run(job(&db), Arc::new(d)).await.unwrap_err();
    assert!(
        matches!(&err, JobError::Unreachable(e) if e.contains("the mail server did not take the message")),
        "with something to say it does try to send: {err:?}"
    );
}

#[tokio::test]
async fn without_recipients_the_digest_is_off_even_without_a_mail_server() {
    let (_d, db) = practice();
    sql(&db, LOW);
    let d = Notifier::new(config(None)).unwrap();
    assert_eq!(run(job(&db), Arc::new(d)).await, Ok(()));
    assert_eq!(outcome(&db), None, "nothing recorded: nothing was decided");
}

#[tokio::test]
async fn without_a_mail_server_the_job_fails_for_good() {
    let (_d, db) = practice();
    set_recipients(&db, "max@practice.example");
    let d = Notifier::new(config(None)).unwrap();
    let err = run(job(&db), Arc::new(d)).await.unwrap_err();
    assert!(
        matches!(&err, JobError::Permanent(e) if e.contains("no mail server is configured")),
        "{err:?}"
    );
}

// --- Settings and schedule --------------------------------------------

#[test]
fn settings_round_trip_are_audited_and_bad_ones_change_nothing() {
    let (_d, db) = practice();
    let read = || {
        db.read_blocking(|c| digest_settings::get(c).map_err(DbError::from))
            .unwrap()
    };
    assert_eq!(read(), DigestSettings::default());
    assert_eq!(read().expiry_days, 30);
    let input = DigestInput {
        recipients: " max@practice.example;\nmia@practice.example, MAX@practice.example ".into(),
        expiry_days: "14".into(),
    };
    let ctx = Context::system(now());
    db.write_blocking(|tx| digest_settings::set(tx, &ctx, &input))
        .unwrap();
    let saved = read();
    assert_eq!(
        saved.recipients,
        ["max@practice.example", "mia@practice.example"]
    );
    assert_eq!(saved.expiry_days, 14);
    let audited: i64 = db
        .read_blocking(|c| {
            c.query_row(
                "SELECT count(*) FROM audit_log WHERE action = 'settings.digest'",
                [],
                |r| r.get(0),
            )
            .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(audited, 1);

    let eleven: Vec<String> = (0..11).map(|i| format!("m{i}@practice.example")).collect();
    let cases: Vec<(String, &str, &str)> = vec![
        ("not-an-address".into(), "14", "recipients"),
        ("max@practice.example, bob@".into(), "14", "recipients"),
        (eleven.join(","), "14", "recipients"),
        ("max@practice.example".into(), "0", "expiry_days"),
        ("max@practice.example".into(), "366", "expiry_days"),
        ("max@practice.example".into(), "soon", "expiry_days"),
    ];
    for (recipients, days, field) in cases {
        let bad = DigestInput {
            recipients: recipients.clone(),
            expiry_days: days.into(),
        };
        let err = db
            .write_blocking(|tx| digest_settings::set(tx, &ctx, &bad))
            .unwrap_err();
        let NotifyError::Invalid(e) = err else {
            panic!("{err:?}")
        };
        assert!(e.get(field).is_some(), "{recipients:?} {days:?}: {e}");
        assert_eq!(read(), saved, "{recipients:?} {days:?} changed nothing");
    }
}

#[test]
fn the_digest_is_scheduled_at_seven_unless_the_configuration_says_otherwise() {
    let kinds = |c: &Config| -> Vec<(String, String)> {
        schedules(c).into_iter().map(|s| (s.kind, s.text)).collect()
    };
    let with_mail = config(Some(25));
    assert_eq!(
        kinds(&with_mail),
        [(KIND.to_string(), "0 7 * * *".to_string())]
    );
    let mut own = (*with_mail).clone();
    own.jobs.schedules =
        crate::domain::schedule::parse("backup.verify = 30 3 * * *; digest.daily = 0 6 * * 1-5")
            .unwrap();
    assert_eq!(
        kinds(&own),
        [
            ("backup.verify".to_string(), "30 3 * * *".to_string()),
            (KIND.to_string(), "0 6 * * 1-5".to_string())
        ]
    );
    assert!(kinds(&config(None)).is_empty(), "no mail server, no digest");
}

#[test]
fn the_last_outcome_is_found_through_an_index() {
    let (_d, db) = practice();
    let steps: Vec<String> = db
        .read_blocking(|c| {
            let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {OUTCOME_SQL}"))?;
            let rows = stmt.query_map(["1"], |r| r.get::<_, String>(3))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(DbError::from)
        })
        .unwrap();
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with("SEARCH audit_log USING INDEX audit_log_by_entity")),
        "{steps:?}"
    );
    assert!(!steps.iter().any(|s| s.starts_with("SCAN")), "{steps:?}");
}

#[tokio::test]
async fn send_now_runs_through_the_queue_and_the_page_reads_its_outcome() {
    let (_d, db) = practice();
    set_recipients(&db, "max@practice.example");
    let id = db
        .write_blocking(|tx| enqueue_now(tx, &Context::system(now())))
        .unwrap();
    let notifier = Notifier::new(config(Some(closed_port()))).unwrap();
    let ran = crate::jobs::worker::run_pending(&db, Arc::new(Fixed(now())), &kinds(notifier)).await;
    assert_eq!(ran, 1);
    let last = db
        .read_blocking(|c| last_run(c).map_err(DbError::from))
        .unwrap()
        .unwrap();
    assert_eq!(last.job.id, id);
    assert_eq!(last.job.state, crate::jobs::JobState::Succeeded);
    assert_eq!(
        last.outcome.map(|(action, _)| action).as_deref(),
        Some("digest.empty")
    );
}

#[tokio::test]
async fn a_digest_job_whose_payload_does_not_read_is_dead_with_the_reason() {
    let (_d, db) = practice();
    set_recipients(&db, "max@practice.example");
    sql(
        &db,
        "INSERT INTO jobs (kind, payload, max_attempts, run_at, created_at)
         VALUES ('digest.daily', '{\"when\": \"now\"}', 5, '2026-11-30T10:00:00.000Z', 'x')",
    );
    let notifier = Notifier::new(config(Some(closed_port()))).unwrap();
    let ran = crate::jobs::worker::run_pending(&db, Arc::new(Fixed(now())), &kinds(notifier)).await;
    assert_eq!(ran, 1);
    let job = db
        .read_blocking(|c| last_run(c).map_err(DbError::from))
        .unwrap()
        .unwrap()
        .job;
    assert_eq!(job.state, crate::jobs::JobState::Dead);
    assert!(
        job.last_error
            .starts_with("the payload of a digest.daily job does not read:"),
        "{}",
        job.last_error
    );
    assert_eq!(outcome(&db), None, "no digest was decided on");
}
