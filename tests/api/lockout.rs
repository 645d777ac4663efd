//! Brute-force protection: per-username lock-out in SQLite and per-IP limits.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn five_failures_lock_the_username_even_across_a_restart() {
    let app = spawn_app().await;
    app.create_user("anna", "staff").await;
    for _ in 0..4 {
        let res = app.browser.login("anna", "wrong-password-000").await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
    let res = app.browser.login("anna", "wrong-password-000").await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the fifth failure locks"
    );
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((890..=900).contains(&retry), "{retry}");

    let app = app.restart().await;
    // Locked whatever the password and whatever the browser.
    let res = app.new_browser().login("anna", PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the lock-out survived the restart"
    );
    assert!(res.headers().contains_key("retry-after"));

    app.clock.advance(Duration::from_secs(15 * 60 + 1));
    let res = app.new_browser().login("anna", PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "unlocked after 15 minutes"
    );
    for action in ["auth.lockout", "auth.login_refused_locked"] {
        let n = app.audit_count(action).await;
        assert!(n >= 1, "{action} audited");
    }
}

#[tokio::test]
async fn unknown_usernames_lock_exactly_like_real_ones() {
    let app = spawn_app().await;
    app.create_user("anna", "staff").await;
    let mut answers = Vec::new();
    for name in ["anna", "nobody"] {
        let mut statuses = Vec::new();
        let mut last_body = String::new();
        for _ in 0..6 {
            let res = app.browser.login(name, "wrong-password-000").await;
            statuses.push(res.status());
            last_body = res.text().await.unwrap();
        }
        answers.push((statuses, last_body));
    }
    assert_eq!(
        answers[0].0, answers[1].0,
        "same statuses for existing and unknown users"
    );
    assert_eq!(answers[0].1, answers[1].1.replace("nobody", "anna"));
}

#[tokio::test]
async fn failures_outside_the_window_do_not_add_up() {
    let app = spawn_app().await;
    app.create_user("anna", "staff").await;
    for _ in 0..4 {
        app.browser.login("anna", "wrong-password-000").await;
    }
    app.clock.advance(Duration::from_secs(16 * 60));
    let res = app.browser.login("anna", "wrong-password-000").await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "old failures expired"
    );
}

#[tokio::test]
async fn a_successful_login_resets_the_count() {
    let app = spawn_app().await;
    app.create_user("anna", "staff").await;
    for _ in 0..4 {
        app.browser.login("anna", "wrong-password-000").await;
    }
    assert_eq!(
        app.browser.login("anna", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    app.browser.logout().await;
    for _ in 0..4 {
        let res = app.browser.login("anna", "wrong-password-000").await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn the_per_ip_limit_answers_429_with_retry_after() {
    let app = spawn_app_with(|c| {
        c.security.auth_rate_per_minute = 6;
        c.security.auth_rate_burst = 3;
    })
    .await;
    let token = app.browser.csrf_token().await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let user = format!("user{i}");
        let res = app
            .browser
            .post_raw(
                "/login",
                &[
                    ("username", &user),
                    ("password", "whatever-password"),
                    ("csrf_token", &token),
                ],
            )
            .await;
        statuses.push(res.status());
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers().contains_key("retry-after"));
        }
    }
    assert_eq!(&statuses[..3], &[StatusCode::BAD_REQUEST; 3]);
    assert_eq!(&statuses[3..], &[StatusCode::TOO_MANY_REQUESTS; 2]);
    // The limit covers the setup and password endpoints too.
    assert_eq!(
        app.browser.get("/setup?token=x").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Refusals are audited, but at most once a minute per address.
    assert_eq!(
        app.scalar("SELECT count(*) FROM audit_log WHERE action = 'auth.rate_limited'")
            .await,
        1
    );
}

#[tokio::test]
async fn an_attacker_failing_from_one_address_does_not_stop_the_user_signing_in_from_another() {
    let app = spawn_app().await;
    app.create_user("anna", "staff").await;
    let attacker = Browser::from_address(&app.address, "127.0.0.2");
    for _ in 0..4 {
        let res = attacker.login("anna", "wrong-password-000").await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
    let res = attacker.login("anna", "wrong-password-000").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Locked from that address, even with the right password.
    let res = attacker.login("anna", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    // Anna, at her own computer, waits at most the short per-name delay.
    let anna = Browser::from_address(&app.address, "127.0.0.1");
    let res = anna.login("anna", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "1");
    app.clock.advance(Duration::from_secs(1));
    let res = anna.login("anna", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "signed in");
    // Her success does not unlock the attacker's address.
    let res = attacker.login("anna", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    // Guessing from ever more addresses gets slower: the delay doubles
    // with each failure from anywhere.
    let mut waits = Vec::new();
    for i in 3..7 {
        let guesser = Browser::from_address(&app.address, &format!("127.0.0.{i}"));
        let res = guesser.login("anna", "wrong-password-000").await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let res = guesser.login("anna", "wrong-password-000").await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        waits.push(wait);
        app.clock.advance(Duration::from_secs(wait));
    }
    assert_eq!(waits, [2, 4, 8, 16]);
}

#[tokio::test]
async fn an_administrator_sees_locked_names_and_unlocks_them() {
    let app = spawn_app().await;
    app.create_user("anna", "staff").await;
    let admin = app.create_user("ada", "admin").await;
    let admin_api = api(&create_token(&app, admin.id, "write").await);
    let attacker = Browser::from_address(&app.address, "127.0.0.2");
    for _ in 0..5 {
        attacker.login("anna", "wrong-password-000").await;
    }
    let locked =
        get_json(&admin_api, format!("{}/api/v1/lockouts", app.address)).await["items"].clone();
    assert_eq!(locked[0]["username"], "anna", "{locked}");
    assert_eq!(locked[0]["addresses"], serde_json::json!(["127.0.0.2"]));
    assert_eq!(locked[0]["recent_failures"], 5);

    // On the page, with an unlock button; staff may not see it.
    let (staff, _) = app.browser_as("staff").await;
    assert_eq!(
        staff.get("/admin/lockouts").await.status(),
        StatusCode::FORBIDDEN
    );
    let b = app.new_browser();
    assert_eq!(
        b.login("ada", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let html = b.get_html("/admin/lockouts").await;
    assert!(
        html.contains("<td>anna\n") && html.contains("127.0.0.2"),
        "{html}"
    );
    let res = b
        .post_form("/admin/lockouts/unlock", &[("username", "anna")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.audit_count("auth.unlock").await, 1);
    let html = b.get_html("/admin/lockouts").await;
    assert!(
        html.contains("anna can sign in again from every address."),
        "{html}"
    );
    assert!(html.contains("No username is locked now."), "{html}");
    let res = attacker.login("anna", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "unlocked at once");

    // The API, and the machine's console, do the same.
    let other = Browser::from_address(&app.address, "127.0.0.3");
    for _ in 0..5 {
        other.login("bob", "wrong-password-000").await;
    }
    let res = admin_api
        .delete(format!("{}/api/v1/lockouts/bob", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = admin_api
        .delete(format!("{}/api/v1/lockouts/bob", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "not locked any more");
    for _ in 0..5 {
        other.login("carl", "wrong-password-000").await;
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stockroom"))
        .args(["unlock", "Carl"])
        .env_clear()
        .env("STOCKROOM_DATA_DIR", app.data_dir.path())
        .env("STOCKROOM_LOG_LEVEL", "warn")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("Unlocked carl"), "{said}");
    assert_eq!(app.audit_count("auth.unlock").await, 3);
    let res = other.login("carl", "wrong-password-000").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "counted afresh");
}
