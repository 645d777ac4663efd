//! The binary's subcommands, run as a separate process.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn stockroom(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stockroom"));
    cmd.args(args)
        .env_clear()
        .env("STOCKROOM_DATA_DIR", dir)
        .env("STOCKROOM_LOG_LEVEL", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        pipe.write_all(input.as_bytes()).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn version_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    let out = stockroom(dir.path(), &["--version"], &[], None);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("stockroom {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn check_config_lists_every_problem_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = stockroom(
        dir.path(),
        &["check-config"],
        &[
            ("STOCKROOM_LISTEN", "localhost"),
            ("STOCKROOM_DB_POOL_SIZE", "0"),
            ("STOCKROOM_SESSION_IDLE_TIMEOUT_MINUTES", "forever"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("3 configuration problem(s)"), "{err}");
    for key in [
        "`listen`",
        "`db.pool_size`",
        "`session.idle_timeout_minutes`",
    ] {
        assert!(err.contains(key), "{key} missing from:\n{err}");
    }
    assert!(
        err.contains("env STOCKROOM_DB_POOL_SIZE"),
        "names where the value came from"
    );
}

#[test]
fn check_config_prints_the_effective_config_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "a-setup-token-that-is-long-enough-000";
    let out = stockroom(
        dir.path(),
        &["check-config"],
        &[("STOCKROOM_SETUP_TOKEN", secret)],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("db.pool_size") && stdout.contains("(default)"),
        "{stdout}"
    );
    assert!(stdout.contains("[redacted]"));
    assert!(!stdout.contains(secret));
}

#[test]
fn a_server_with_a_bad_config_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = stockroom(
        dir.path(),
        &["serve"],
        &[("STOCKROOM_LISTEN", "nope")],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !dir.path().join("stockroom.db").exists(),
        "nothing was touched"
    );
}

#[test]
fn migrate_dry_run_lists_then_migrate_applies() {
    let dir = tempfile::tempdir().unwrap();
    let out = stockroom(dir.path(), &["migrate", "--dry-run"], &[], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("0001_create_foundation"),
        "{}",
        text(&out.stdout)
    );
    let out = stockroom(dir.path(), &["migrate", "--dry-run"], &[], None);
    assert!(
        text(&out.stdout).contains("would apply"),
        "dry run changed nothing"
    );

    let out = stockroom(dir.path(), &["migrate"], &[], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = stockroom(dir.path(), &["migrate", "--dry-run"], &[], None);
    assert!(
        text(&out.stdout).contains("nothing to apply"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn create_user_reads_the_password_from_stdin_and_validates_it() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "create-user",
        "--username",
        "boss",
        "--role",
        "admin",
        "--password-stdin",
    ];
    let out = stockroom(dir.path(), &args, &[], Some("short\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("password: must be at least 12 characters"),
        "{}",
        text(&out.stderr)
    );

    let out = stockroom(dir.path(), &args, &[], Some("a-long-enough-password\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Created admin user boss"));

    let out = stockroom(dir.path(), &args, &[], Some("a-long-enough-password\n"));
    assert_eq!(out.status.code(), Some(1), "duplicate refused");
    assert!(text(&out.stderr).contains("already taken"));

    let out = stockroom(
        dir.path(),
        &["create-user", "--username", "x2", "--role", "staff"],
        &[],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "no password on the command line"
    );
}

#[test]
fn create_token_prints_it_once() {
    let dir = tempfile::tempdir().unwrap();
    stockroom(
        dir.path(),
        &[
            "create-user",
            "--username",
            "boss",
            "--role",
            "admin",
            "--password-stdin",
        ],
        &[],
        Some("a-long-enough-password\n"),
    );
    let out = stockroom(
        dir.path(),
        &[
            "create-token",
            "--username",
            "boss",
            "--name",
            "export",
            "--scope",
            "read",
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_string();
    assert!(token.starts_with("sr_") && token.len() > 40, "{token}");
    let db = rusqlite::Connection::open(dir.path().join("stockroom.db")).unwrap();
    let stored: String = db
        .query_row("SELECT token_hash FROM api_tokens", [], |r| r.get(0))
        .unwrap();
    assert_ne!(stored, token, "stored hashed");

    let out = stockroom(
        dir.path(),
        &[
            "create-token",
            "--username",
            "nobody",
            "--name",
            "x",
            "--scope",
            "read",
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn audit_verify_passes_then_names_the_tampered_row() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["anna", "ben", "cleo"] {
        let out = stockroom(
            dir.path(),
            &[
                "create-user",
                "--username",
                name,
                "--role",
                "staff",
                "--password-stdin",
            ],
            &[],
            Some("a-long-enough-password\n"),
        );
        assert!(out.status.success());
    }
    let out = stockroom(dir.path(), &["audit", "verify"], &[], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("3 rows verified"));

    let db = rusqlite::Connection::open(dir.path().join("stockroom.db")).unwrap();
    // Someone with write access to the file drops the append-only trigger first.
    db.execute_batch("DROP TRIGGER audit_log_append_only_update")
        .unwrap();
    db.execute(
        "UPDATE audit_log SET after_json = '{\"role\":\"admin\"}' WHERE id = 2",
        [],
    )
    .unwrap();
    drop(db);
    let out = stockroom(dir.path(), &["audit", "verify"], &[], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("row 2"), "{}", text(&out.stderr));
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stockroom"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_clear()
        .env("STOCKROOM_DATA_DIR", dir.path())
        .env("STOCKROOM_LOG_FORMAT", "json")
        .env("STOCKROOM_HTTP_SHUTDOWN_TIMEOUT_SECS", "2")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    loop {
        let line = lines.next().expect("server output").unwrap();
        if line.contains("\"listening\"") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(rest.iter().any(|l| l.contains("\"stopped\"")), "{rest:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn check_passes_then_reports_stock_drift_and_broken_references() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        stockroom(dir.path(), &["migrate"], &[], None)
            .status
            .success()
    );
    let out = stockroom(dir.path(), &["check"], &[], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Database consistent"));

    let db = rusqlite::Connection::open(dir.path().join("stockroom.db")).unwrap();
    db.execute_batch(
        "INSERT INTO items (id, code, name, unit, created_at, updated_at) VALUES (1, 'G', 'Gloves', 'each', 'now', 'now');
         INSERT INTO locations (id, name, created_at, updated_at) VALUES (1, 'Room', 'now', 'now');
         INSERT INTO stock_levels (item_id, location_id, quantity) VALUES (1, 1, 7);
         PRAGMA foreign_keys = OFF;
         INSERT INTO item_packs (item_id, name, quantity) VALUES (42, 'box', 100);",
    )
    .unwrap();
    drop(db);
    let out = stockroom(dir.path(), &["check"], &[], None);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.contains("stock level of item 1 at location 1")
            && report.contains("is 7 but the ledger sums to 0"),
        "{report}"
    );
    assert!(
        report.contains("item_packs row 1 refers to a missing items row"),
        "{report}"
    );
    assert!(text(&out.stderr).contains("2 problem(s) found"));
}
