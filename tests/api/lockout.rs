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
