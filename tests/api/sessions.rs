//! Automatic log-off: idle and absolute session timeouts.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::*;

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn an_idle_session_is_signed_out_after_the_idle_timeout() {
    let app = spawn_app().await;
    app.create_user("anna", "staff").await;
    app.browser.login("anna", PASSWORD).await;

    app.clock.advance(14 * MINUTE);
    assert_eq!(
        app.browser.get("/").await.status(),
        StatusCode::OK,
        "14 minutes idle is fine"
    );
    // Activity resets the idle clock.
    app.clock.advance(14 * MINUTE);
    assert_eq!(app.browser.get("/").await.status(), StatusCode::OK);

    app.clock.advance(15 * MINUTE);
    let res = app.browser.get("/").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).contains("expired=1"), "{}", location(&res));
    assert_eq!(
        app.scalar("SELECT count(*) FROM sessions").await,
        0,
        "the expired session is deleted"
    );
    // Going back in time does not revive it.
    let html = app.browser.get_html("/login?expired=1").await;
    assert!(html.contains("signed out because the session ended"));
}

#[tokio::test]
async fn the_idle_timeout_is_configurable() {
    let app = spawn_app_with(|c| c.session.idle_timeout = 5 * MINUTE).await;
    app.create_user("anna", "staff").await;
    app.browser.login("anna", PASSWORD).await;
    app.clock.advance(6 * MINUTE);
    assert_eq!(app.browser.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_busy_session_still_ends_at_the_absolute_timeout() {
    let app = spawn_app().await;
    app.create_user("anna", "staff").await;
    app.browser.login("anna", PASSWORD).await;
    // Active every ten minutes for eleven hours and fifty minutes.
    for _ in 0..71 {
        app.clock.advance(10 * MINUTE);
        assert_eq!(app.browser.get("/").await.status(), StatusCode::OK);
    }
    app.clock.advance(10 * MINUTE);
    assert_eq!(
        app.browser.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "12 hours after login"
    );
}

#[tokio::test]
async fn a_forged_or_stale_cookie_is_anonymous() {
    let app = spawn_app().await;
    let res = app
        .browser
        .client
        .get(app.browser.url("/"))
        .header("cookie", "stockroom_session=forged-value")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cleared = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("stockroom_session=;"));
    assert!(cleared, "the stale cookie is removed");
}

#[tokio::test]
async fn users_see_where_they_are_signed_in_and_end_it_there() {
    let app = spawn_app().await;
    app.create_user("anna", "staff").await;
    let desk = app.new_browser();
    let phone = app.new_browser();
    for b in [&desk, &phone] {
        assert_eq!(
            b.login("anna", PASSWORD).await.status(),
            StatusCode::SEE_OTHER
        );
    }
    let page = desk.get_html("/account/sessions").await;
    assert_eq!(
        page.matches("<tr>").count(),
        3,
        "a header and two sessions: {page}"
    );
    assert!(page.contains("<strong>this browser</strong>"), "{page}");
    let handle = page
        .split("/account/sessions/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_string();

    // Someone else cannot end Anna's session with its handle.
    let (other, _) = app.browser_as("staff").await;
    let res = other
        .post_form(&format!("/account/sessions/{handle}/end"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        phone.get("/").await.status(),
        StatusCode::OK,
        "still signed in"
    );

    let res = desk
        .post_form(&format!("/account/sessions/{handle}/end"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        desk.get_html("/account/sessions")
            .await
            .contains("Signed out there.")
    );
    let res = phone.get("/").await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the phone is signed out"
    );
    assert!(location(&res).starts_with("/login"));
    assert_eq!(
        desk.get("/").await.status(),
        StatusCode::OK,
        "this one stays"
    );
    assert_eq!(app.audit_count("auth.session_end").await, 1);
}
