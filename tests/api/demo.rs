//! `stockroom demo`: the real binary fills a fresh data directory with a
//! demo practice that passes `check` and `audit verify`, refuses to touch a
//! database that holds data, and prints passwords that sign in.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;
use rusqlite::Connection;
use stockroom::startup::Application;

use crate::helpers::{Browser, location, test_config};

/// The practice's time zone in these tests, so "today" is known here too.
const ZONE: &str = "Europe/Berlin";

fn stockroom(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stockroom"))
        .args(args)
        .env_clear()
        .env("STOCKROOM_DATA_DIR", dir)
        .env("STOCKROOM_LOG_LEVEL", "warn")
        .env("STOCKROOM_PRACTICE_TIME_ZONE", ZONE)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `stockroom demo` on `dir` and returns its standard output.
fn demo(dir: &Path) -> String {
    let out = stockroom(dir, &["demo"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// The (username, password) pairs printed by `demo`.
fn credentials(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [.., user, password]
                    if ["admin", "manager", "nurse", "viewer"].contains(user)
                        && password.len() >= 12 =>
                {
                    Some((user.to_string(), password.to_string()))
                }
                _ => None,
            }
        })
        .collect()
}

fn scalar(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn open(dir: &Path) -> Connection {
    Connection::open(dir.join("stockroom.db")).unwrap()
}

/// The GS1 mod-10 check, written out here independently of the code under test.
fn valid_gtin(g: &str) -> bool {
    let digits: Vec<u32> = g.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != g.len() || ![8, 12, 13, 14].contains(&digits.len()) {
        return false;
    }
    let (body, check) = digits.split_at(digits.len() - 1);
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| d * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10 == check[0]
}

#[test]
fn the_gtin_check_used_below_tells_good_from_bad() {
    assert!(valid_gtin("09506000134352"));
    assert!(valid_gtin("4006381333931"));
    assert!(!valid_gtin("09506000134353"));
    assert!(!valid_gtin("0950600013435x"));
}

#[test]
fn demo_fills_an_empty_data_dir_that_passes_check_and_audit_verify() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = demo(dir.path());

    // How to sign in: the URL from the listen address and four accounts.
    assert!(stdout.contains("http://127.0.0.1:8080/login"), "{stdout}");
    let creds = credentials(&stdout);
    let users: Vec<&str> = creds.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(users, ["admin", "manager", "nurse", "viewer"], "{stdout}");
    assert!(creds.iter().all(|(_, p)| p.len() >= 12));
    assert!(!stdout.contains("setup?token="));

    let conn = open(dir.path());
    let items = scalar(&conn, "SELECT count(*) FROM items");
    assert!((250..=350).contains(&items), "{items} items");
    // Locations form a tree: one root, and a level below the rooms.
    assert!(scalar(&conn, "SELECT count(*) FROM locations") >= 4);
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM locations WHERE parent_id IS NULL"
        ),
        1
    );
    assert!(
        scalar(
            &conn,
            "SELECT count(*) FROM locations c JOIN locations p ON p.id = c.parent_id
             WHERE p.parent_id IS NOT NULL"
        ) > 0
    );
    let suppliers = scalar(&conn, "SELECT count(*) FROM suppliers");
    assert!((3..=4).contains(&suppliers), "{suppliers} suppliers");
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM suppliers
             WHERE email NOT LIKE '%.example.com' AND email NOT LIKE '%.test'"
        ),
        0
    );

    let mut stmt = conn
        .prepare("SELECT gtin FROM item_packs WHERE gtin IS NOT NULL")
        .unwrap();
    let gtins: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(gtins.len() as i64 >= items, "{} GTINs", gtins.len());
    let bad: Vec<&String> = gtins.iter().filter(|g| !valid_gtin(g)).collect();
    assert!(bad.is_empty(), "invalid GTINs: {bad:?}");
    drop(stmt);

    // Expiry dates are spread around the practice's today.
    let zone = jiff::tz::TimeZone::get(ZONE).unwrap();
    let today = stockroom::domain::time::today_in(
        stockroom::domain::Clock::now(&stockroom::domain::SystemClock),
        &zone,
    );
    let day = |n: i64| (today + time::Duration::days(n)).to_string();
    let stock_where = |cond: String| {
        conn.query_row(
            &format!(
                "SELECT count(*) FROM stock_levels WHERE quantity > 0 AND expiry <> '' AND {cond}"
            ),
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
    };
    // A day of slack on each side: the test may run across midnight.
    let expired = stock_where(format!("expiry < '{}'", day(-1)));
    let soon = stock_where(format!("expiry > '{}' AND expiry < '{}'", day(1), day(29)));
    let later = stock_where(format!("expiry > '{}'", day(31)));
    assert!(expired > 0, "some stock has expired");
    assert!(soon > 0, "some stock expires within 30 days");
    assert!(later > expired + soon, "most stock expires later");
    assert!(scalar(&conn, "SELECT count(*) FROM stock_movements") >= 20_000);
    drop(conn);

    let out = stockroom(dir.path(), &["check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("every stock level equals its ledger"));
    let out = stockroom(dir.path(), &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Audit log intact"));
}

/// Row counts of every table and the end of the audit chain.
fn snapshot(dir: &Path) -> Vec<(String, i64)> {
    let conn = open(dir);
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap();
    let tables: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out: Vec<(String, i64)> = tables
        .into_iter()
        .map(|t| {
            let n = scalar(&conn, &format!("SELECT count(*) FROM \"{t}\""));
            (t, n)
        })
        .collect();
    let last_hash: String = conn
        .query_row(
            "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap_or_default();
    out.push((last_hash, 0));
    let hashes: String = conn
        .query_row(
            "SELECT group_concat(password_hash, ' ') FROM users",
            [],
            |r| r.get::<_, Option<String>>(0),
        )
        .unwrap()
        .unwrap_or_default();
    out.push((hashes, 0));
    out
}

#[test]
fn a_second_demo_run_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let before = snapshot(dir.path());

    let out = stockroom(dir.path(), &["demo"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("already holds data"), "{err}");
    assert!(err.contains("4 users") && err.contains("items"), "{err}");
    assert!(
        credentials(&text(&out.stdout)).is_empty(),
        "no new passwords printed"
    );
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn demo_refuses_a_database_that_already_has_a_user() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stockroom"));
    let mut child = cmd
        .args([
            "create-user",
            "--username",
            "boss",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .env_clear()
        .env("STOCKROOM_DATA_DIR", dir.path())
        .env("STOCKROOM_LOG_LEVEL", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a-long-enough-password\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let before = snapshot(dir.path());

    let out = stockroom(dir.path(), &["demo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("already holds data (1 user)"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn demo_rejects_a_scale_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    for scale in ["0", "1001", "many"] {
        let out = stockroom(dir.path(), &["demo", "--scale", scale]);
        assert_eq!(out.status.code(), Some(2), "--scale {scale}");
    }
    assert!(!dir.path().join("stockroom.db").exists());
}

#[tokio::test]
async fn a_printed_demo_password_signs_in_and_setup_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let stdout = tokio::task::spawn_blocking(move || demo(&d)).await.unwrap();
    let creds = credentials(&stdout);
    assert_eq!(creds.len(), 4, "{stdout}");

    // The real server on the demo's data directory.
    let app = Application::build(test_config(&dir)).await.unwrap();
    assert!(
        app.setup_url().is_none(),
        "an administrator exists: no setup link"
    );
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());

    for (username, password) in &creds {
        let browser = Browser::new(&address);
        let res = browser.login(username, password).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "login as {username}");
        assert_eq!(location(&res), "/", "{username} needs no password change");
        let home = browser.get("/").await;
        assert_eq!(
            home.status(),
            StatusCode::OK,
            "{username} sees the home page"
        );
    }
    let browser = Browser::new(&address);
    let res = browser.login("nurse", "not-the-password-at-all").await;
    assert_ne!(location(&res), "/", "a wrong password does not sign in");
    assert_eq!(
        browser.get("/setup?token=anything").await.status(),
        StatusCode::NOT_FOUND,
        "the setup link is closed"
    );

    handle.stop(true).await;
    server.await.unwrap().unwrap();
}
