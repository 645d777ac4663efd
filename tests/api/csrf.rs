//! CSRF: a state-changing page request without the right token is refused
//! with 403 before anything changes.

use reqwest::StatusCode;

use crate::helpers::*;

async fn admin_app() -> (TestApp, Browser) {
    let app = spawn_app().await;
    let (admin, _) = app.browser_as("admin").await;
    (app, admin)
}

const NEW_USER: [(&str, &str); 3] = [
    ("username", "sneaky"),
    ("role", "admin"),
    ("password", "temporary-pass-123"),
];

#[tokio::test]
async fn a_missing_or_wrong_token_is_refused_and_changes_nothing() {
    let (app, admin) = admin_app().await;
    let users = app.scalar("SELECT count(*) FROM users").await;
    let audit = app.scalar("SELECT count(*) FROM audit_log").await;

    let res = admin.post_raw("/admin/users", &NEW_USER).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("came from another site"));

    let mut wrong = NEW_USER.to_vec();
    wrong.push(("csrf_token", "not-the-token-not-the-token-not-the-token"));
    assert_eq!(
        admin.post_raw("/admin/users", &wrong).await.status(),
        StatusCode::FORBIDDEN
    );

    // Another user's valid token does not work either.
    let other = app.new_browser();
    app.create_user("other", "staff").await;
    other.login("other", PASSWORD).await;
    let theirs = other.csrf_token().await;
    let mut borrowed = NEW_USER.to_vec();
    borrowed.push(("csrf_token", &theirs));
    assert_eq!(
        admin.post_raw("/admin/users", &borrowed).await.status(),
        StatusCode::FORBIDDEN
    );

    assert_eq!(
        app.scalar("SELECT count(*) FROM users WHERE username = 'sneaky'")
            .await,
        0
    );
    assert_eq!(
        app.scalar("SELECT count(*) FROM users").await,
        users + 1,
        "only `other` was added"
    );
    assert!(
        app.scalar("SELECT count(*) FROM audit_log").await <= audit + 2,
        "nothing but other's creation and login"
    );
    // With the token it works: the refusals above were about the token.
    assert_eq!(
        admin.post_form("/admin/users", &NEW_USER).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_token_is_accepted_as_a_header() {
    let (_app, admin) = admin_app().await;
    let token = admin.csrf_token().await;
    let res = admin
        .client
        .post(admin.url("/admin/users"))
        .header("x-csrf-token", token)
        .form(&NEW_USER)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_cross_site_request_is_refused_even_with_a_token() {
    let (app, admin) = admin_app().await;
    let token = admin.csrf_token().await;
    let mut fields = NEW_USER.to_vec();
    fields.push(("csrf_token", &token));
    let res = admin
        .client
        .post(admin.url("/admin/users"))
        .header("origin", "http://evil.example")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = admin
        .client
        .post(admin.url("/admin/users"))
        .header("sec-fetch-site", "cross-site")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.scalar("SELECT count(*) FROM users WHERE username = 'sneaky'")
            .await,
        0
    );
    // Same origin passes.
    let res = admin
        .client
        .post(admin.url("/admin/users"))
        .header("origin", &app.address)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_login_form_needs_its_token_too() {
    let app = spawn_app().await;
    app.create_user("anna", "staff").await;
    let b = app.new_browser();
    let res = b
        .post_raw("/login", &[("username", "anna"), ("password", PASSWORD)])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.scalar("SELECT count(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn logout_without_a_token_keeps_the_session() {
    let (app, admin) = admin_app().await;
    assert_eq!(
        admin.post_raw("/logout", &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.scalar("SELECT count(*) FROM sessions").await, 1);
    assert_eq!(admin.get("/").await.status(), StatusCode::OK);
}

/// Forwarded headers come from anyone unless a trusted proxy sends them:
/// a cross-site form with a matching `X-Forwarded-Host` is still refused.
/// Behind a configured proxy they name the browser's site and address.
#[tokio::test]
async fn forwarded_headers_count_only_from_a_trusted_proxy() {
    let (app, admin) = admin_app().await;
    let token = admin.csrf_token().await;
    let mut fields = NEW_USER.to_vec();
    fields.push(("csrf_token", &token));
    let res = admin
        .client
        .post(admin.url("/admin/users"))
        .header("origin", "http://evil.example")
        .header("x-forwarded-host", "evil.example")
        .header("forwarded", "host=evil.example;proto=http")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.scalar("SELECT count(*) FROM users WHERE username = 'sneaky'")
            .await,
        0
    );

    // Behind a proxy on this machine, the browser's address is the one
    // the proxy saw, for the audit log and the rate limit alike.
    let app =
        spawn_app_with(|c| c.http.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let b = app.new_browser();
    let token = b.csrf_token().await;
    let res = b
        .client
        .post(b.url("/login"))
        .header("origin", "https://stock.practice.example")
        .header("x-forwarded-host", "stock.practice.example")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-for", "203.0.113.9")
        .form(&[
            ("username", "nobody"),
            ("password", "wrong-password-000"),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "checked, not refused as cross-site"
    );
    let ip: String = app
        .raw_connection()
        .query_row(
            "SELECT ip FROM audit_log WHERE action = 'auth.login_failed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ip, "203.0.113.9");
}
