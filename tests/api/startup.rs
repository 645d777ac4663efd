//! Start-up refusals, health and readiness, TLS.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use stockroom::domain::ManualClock;
use stockroom::startup::Application;

use crate::helpers::*;

/// Starts a second application on the same data directory; it must refuse.
/// Stops the server and starts it again on the same data directory: the
/// error the new start ends with.
async fn second_start_error(app: TestApp) -> String {
    let config = app.config.clone();
    let _dir = app.stop().await;
    let err = Application::build_with_clock(config, Arc::new(ManualClock::starting_now()))
        .await
        .err()
        .expect("start-up must refuse");
    format!("{err:#}")
}

#[tokio::test]
async fn start_up_refuses_a_database_from_a_newer_version() {
    let app = spawn_app().await;
    app.raw_connection()
        .execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (9999, 'future', 'x', 'now')",
            [],
        )
        .unwrap();
    let msg = second_start_error(app).await;
    assert!(
        msg.contains("migration 9999 (future)") && msg.contains("newer"),
        "{msg}"
    );
}

#[tokio::test]
async fn start_up_refuses_a_changed_migration() {
    let app = spawn_app().await;
    app.raw_connection()
        .execute(
            "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1",
            [],
        )
        .unwrap();
    let msg = second_start_error(app).await;
    assert!(msg.contains("must never change"), "{msg}");
}

#[tokio::test]
async fn healthz_and_readyz_report_each_check() {
    let app = spawn_app().await;
    let (b, _) = app.browser_as("admin").await;
    let res = b.get("/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = b.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let names: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "database_read",
            "database_write",
            "disk_free",
            "migrations",
            "jobs",
            "supplier_folders"
        ]
    );
    for c in body["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "ok", "{c}");
        assert!(c["latency_ms"].as_f64().unwrap() >= 0.0);
    }
    assert_eq!(
        app.scalar("SELECT count(*) FROM health_probe").await,
        1,
        "the write check really wrote"
    );
}

#[tokio::test]
async fn readyz_tells_strangers_only_the_status_and_writes_at_most_once_a_minute() {
    let app = spawn_app().await;
    let anonymous = app.new_browser();
    let res = anonymous.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"status": "ok"}),
        "no checks, no version"
    );
    let probe = || async {
        app.raw_connection()
            .query_row("SELECT checked_at FROM health_probe", [], |r| {
                r.get::<_, String>(0)
            })
            .unwrap()
    };
    let first = probe().await;
    for _ in 0..20 {
        anonymous.get("/readyz").await;
    }
    app.clock.advance(Duration::from_secs(30));
    let (admin, _) = app.browser_as("admin").await;
    let body: serde_json::Value = admin.get("/readyz").await.json().await.unwrap();
    assert_eq!(probe().await, first, "no second write within the minute");
    let write = &body["checks"][1];
    assert_eq!(write["name"], "database_write");
    assert_eq!(write["detail"], "committed 30 s ago", "{body}");
    app.clock.advance(Duration::from_secs(31));
    anonymous.get("/readyz").await;
    assert_ne!(probe().await, first, "written again after a minute");
}

/// A long write (an import of 50,000 rows) holds the single writer for
/// seconds: readiness says so at once rather than queueing behind it and
/// failing after its own timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_does_not_wait_behind_a_long_write() {
    let app = spawn_app().await;
    let (admin, _) = app.browser_as("admin").await;
    let db = app.db().clone();
    let (held, release) = std::sync::mpsc::channel::<()>();
    let (taken, is_taken) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let writer = db.writer().unwrap();
        taken.send(()).unwrap();
        // Held until the test lets go, at most 10 s.
        let _ = release.recv_timeout(Duration::from_secs(10));
        drop(writer);
    });
    is_taken.recv().unwrap();
    // Past the moment a probe would simply wait its turn.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let started = std::time::Instant::now();
    let res = admin.get("/readyz").await;
    let waited = started.elapsed();
    held.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    let write = &body["checks"][1];
    assert_eq!(write["name"], "database_write");
    assert_eq!(write["status"], "ok", "{body}");
    assert!(
        write["detail"]
            .as_str()
            .unwrap()
            .starts_with("busy: one write has held the writer for"),
        "{body}"
    );
    assert!(waited < Duration::from_secs(2), "answered after {waited:?}");
    // Once the writer is free, the next answer probes again.
    let body: serde_json::Value = admin.get("/readyz").await.json().await.unwrap();
    assert_eq!(body["checks"][1]["detail"], "committed", "{body}");
}

#[tokio::test]
async fn readyz_fails_when_the_disk_is_short_of_space() {
    let app = spawn_app_with(|c| c.health.min_free_disk_bytes = u64::MAX / 2).await;
    let (admin, _) = app.browser_as("admin").await;
    let res = admin.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "fail");
    let disk = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "disk_free")
        .unwrap();
    assert_eq!(disk["status"], "fail");
}

#[tokio::test]
async fn readyz_fails_when_the_database_cannot_be_written() {
    let app = spawn_app().await;
    app.raw_connection()
        .execute_batch("DROP TABLE health_probe")
        .unwrap();
    let (admin, _) = app.browser_as("admin").await;
    let res = admin.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = res.json().await.unwrap();
    let write = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "database_write")
        .unwrap();
    assert_eq!(write["status"], "fail");
}

#[tokio::test]
async fn over_tls_cookies_are_secure_and_hsts_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert_file = dir.path().join("cert.pem");
    let key_file = dir.path().join("key.pem");
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
    let app = spawn_app_with(|c| {
        c.tls = Some(stockroom::config::TlsConfig {
            cert_file,
            key_file,
        });
    })
    .await;
    assert!(app.address.starts_with("https://"));
    assert!(app.setup_url.as_ref().unwrap().starts_with("https://"));
    app.create_user("anna", "staff").await;
    let res = app.browser.get("/login").await;
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let csrf = res.headers()["set-cookie"].to_str().unwrap();
    assert!(
        csrf.starts_with("__Host-stockroom_csrf=") && csrf.contains("Secure"),
        "{csrf}"
    );
    let res = app.browser.login("anna", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("__Host-stockroom_session=")
            && cookie.contains("Secure")
            && cookie.contains("Path=/")
            && !cookie.contains("Domain"),
        "{cookie}"
    );
    // The browser sends it back under that name, and it signs in.
    assert_eq!(app.browser.get("/").await.status(), StatusCode::OK);
    // Every cookie, including the one-time flash message.
    let res = app.browser.logout().await;
    let cookies: Vec<&str> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("stockroom_flash=")),
        "{cookies:?}"
    );
    assert!(cookies.iter().all(|c| c.contains("Secure")), "{cookies:?}");
}

#[tokio::test]
async fn a_new_data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("fresh");
    stockroom::startup::prepare_data_dir(&dir).unwrap();
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}

#[tokio::test]
async fn readyz_is_degraded_while_a_job_is_dead() {
    let app = spawn_app().await;
    app.raw_connection()
        .execute(
            "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, last_error,
                created_at, finished_at)
             VALUES ('order.dispatch', '{}', 'dead', 5, 5, '2026-11-30T10:00:00.000Z',
                '550 mailbox unknown', '2026-11-30T10:00:00.000Z', '2026-11-30T10:05:00.000Z')",
            [],
        )
        .unwrap();
    let (admin, _) = app.browser_as("admin").await;
    let res = admin.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::OK, "degraded still serves");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "degraded");
    let jobs = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "jobs")
        .unwrap();
    assert_eq!(jobs["status"], "degraded");
    assert!(
        jobs["detail"].as_str().unwrap().contains("1 dead"),
        "{jobs}"
    );
}

#[tokio::test]
async fn a_full_disk_is_named_and_nothing_is_saved_until_there_is_room() {
    let app = spawn_app().await;
    let admin = app.create_user("ada", "admin").await;
    let token = api(&create_token(&app, admin.id, "write").await);
    let (b, _) = app.browser_as("manager").await;
    // The database may grow no more: SQLite answers as on a full disk.
    let set_limit = |pages: &'static str| {
        app.db().write(move |tx| {
            tx.execute_batch(&format!("PRAGMA max_page_count = {pages}"))
                .map_err(stockroom::db::DbError::from)
        })
    };
    let users = app.scalar("SELECT count(*) FROM users").await;
    let pages = app.scalar("PRAGMA page_count").await;
    let limit: &'static str = Box::leak(pages.to_string().into_boxed_str());
    set_limit(limit).await.unwrap();
    let big = "x".repeat(60);
    let mut refused = None;
    // Each user takes room; the first that does not fit is refused.
    for n in 0..200 {
        let res = post_json(
            &token,
            format!("{}/api/v1/users", app.address),
            &serde_json::json!({"username": format!("u{n}"), "display_name": big, "role": "staff", "password": PASSWORD}),
        )
        .await;
        if res.status() != StatusCode::CREATED {
            refused = Some(res);
            break;
        }
    }
    let res = refused.expect("the database filled up");
    assert_eq!(res.status(), StatusCode::INSUFFICIENT_STORAGE);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "disk-full", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("The data disk is full: nothing was saved."),
        "{body}"
    );
    let before = app.scalar("SELECT count(*) FROM users").await;
    assert!(before > users);
    // A page says the same, in the layout.
    let res = b
        .post_form("/categories", &[("name", "Dressings and bandages")])
        .await;
    assert_eq!(res.status(), StatusCode::INSUFFICIENT_STORAGE);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("The data disk is full: nothing was saved."),
        "{page}"
    );
    assert!(page.contains("<nav"), "in the site layout");
    assert_eq!(app.scalar("SELECT count(*) FROM categories").await, 0);
    // Room again: writes work without a restart.
    set_limit("1073741823").await.unwrap();
    let res = post_json(
        &token,
        format!("{}/api/v1/users", app.address),
        &serde_json::json!({"username": "after", "role": "staff", "password": PASSWORD}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(app.scalar("SELECT count(*) FROM users").await, before + 1);
}
