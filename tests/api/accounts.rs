//! Signing in and out, password changes, admin user management.

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn login_and_logout() {
    let app = spawn_app().await;
    app.create_user("anna", "staff").await;

    // Anonymous visitors are sent to the login page, keeping where they wanted to go.
    let res = app.browser.get("/").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login?next=%2F");

    let res = app.browser.login("anna", "wrong-password-123").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Wrong username or password.")
    );

    let res = app.browser.login("Anna", PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "usernames are case-insensitive"
    );
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "no Secure flag without TLS: {cookie}"
    );
    assert!(app.browser.get_html("/").await.contains("Hello, anna"));

    let res = app.browser.logout().await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login");
    assert_eq!(app.browser.get("/").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.scalar("SELECT count(*) FROM sessions").await,
        0,
        "logout destroys the session"
    );
    for action in ["auth.login_failed", "auth.login", "auth.logout"] {
        let n = app.audit_count(action).await;
        assert_eq!(n, 1, "{action} audited");
    }
}

#[tokio::test]
async fn the_session_id_is_stored_hashed() {
    let app = spawn_app().await;
    app.create_user("anna", "staff").await;
    let res = app.browser.login("anna", PASSWORD).await;
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .split('=')
        .nth(1)
        .unwrap()
        .to_string();
    assert!(value.len() >= 43, "256 bits of randomness");
    let stored: String = app
        .raw_connection()
        .query_row("SELECT id_hash FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_ne!(stored, value);
    assert_eq!(stored, stockroom::crypto::sha256_hex(&value));
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_is_signed_out() {
    let app = spawn_app().await;
    let (admin, _) = app.browser_as("admin").await;
    let anna = app.create_user("anna", "staff").await;
    let nurse = app.new_browser();
    nurse.login("anna", PASSWORD).await;
    assert_eq!(nurse.get("/").await.status(), StatusCode::OK);

    let res = admin
        .post_form(&format!("/admin/users/{}/disable", anna.id), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        nurse.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "session ended"
    );
    let res = nurse.login("anna", PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "same answer as a wrong password"
    );

    admin
        .post_form(&format!("/admin/users/{}/enable", anna.id), &[])
        .await;
    assert_eq!(
        nurse.login("anna", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn an_admin_cannot_lock_themselves_out() {
    let app = spawn_app().await;
    let (admin, me) = app.browser_as("admin").await;
    let res = admin
        .post_form(&format!("/admin/users/{}/disable", me.id), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = admin
        .post_form(
            &format!("/admin/users/{}/role", me.id),
            &[("role", "staff")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = admin.get_html(&format!("/admin/users/{}", me.id)).await;
    assert!(
        page.contains("cannot disable your own account or remove your own admin role"),
        "{page}"
    );
    assert_eq!(
        app.scalar("SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0")
            .await,
        1
    );
}

#[tokio::test]
async fn changing_a_password_ends_other_sessions() {
    let app = spawn_app().await;
    app.create_user("anna", "staff").await;
    let desk = app.new_browser();
    let tablet = app.new_browser();
    desk.login("anna", PASSWORD).await;
    tablet.login("anna", PASSWORD).await;

    let new = "new-gauze-trolley-99";
    let res = desk
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("confirm", new),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        desk.get("/").await.status(),
        StatusCode::OK,
        "this browser stays signed in"
    );
    assert_eq!(
        tablet.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "the other session ended"
    );
    assert_eq!(
        app.new_browser().login("anna", new).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.new_browser().login("anna", PASSWORD).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_weak_or_wrong_password_change_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.create_user("anna", "staff").await;
    app.browser.login("anna", PASSWORD).await;
    let before: String = app
        .raw_connection()
        .query_row("SELECT password_hash FROM users", [], |r| r.get(0))
        .unwrap();
    for (current, new, confirm, message) in [
        (
            "wrong-current-pass",
            "fine-new-password-1",
            "fine-new-password-1",
            "is not your current password",
        ),
        (PASSWORD, "short", "short", "at least 12 characters"),
        (
            PASSWORD,
            "password1234",
            "password1234",
            "most common passwords",
        ),
        (
            PASSWORD,
            "fine-new-password-1",
            "fine-new-password-2",
            "does not match",
        ),
    ] {
        let res = app
            .browser
            .post_form(
                "/account/password",
                &[
                    ("current_password", current),
                    ("new_password", new),
                    ("confirm", confirm),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains(message), "{message}");
    }
    let after: String = app
        .raw_connection()
        .query_row("SELECT password_hash FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_temporary_password_must_be_changed_at_next_login() {
    let app = spawn_app().await;
    let (admin, _) = app.browser_as("admin").await;
    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "newnurse"),
                ("display_name", "New Nurse"),
                ("role", "staff"),
                ("password", "temporary-pass-123"),
                ("must_change", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let nurse = app.new_browser();
    let res = nurse.login("newnurse", "temporary-pass-123").await;
    assert_eq!(location(&res), "/account/password");
    // Every other page sends them back to change it.
    let res = nurse.get("/").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/account/password");
    let res = nurse
        .post_form(
            "/account/password",
            &[
                ("current_password", "temporary-pass-123"),
                ("new_password", "my-own-password-77"),
                ("confirm", "my-own-password-77"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(nurse.get("/").await.status(), StatusCode::OK);

    // An admin resetting it again forces another change.
    let id = app
        .scalar("SELECT id FROM users WHERE username = 'newnurse'")
        .await;
    admin
        .post_form(
            &format!("/admin/users/{id}/password"),
            &[("password", "another-temp-pass-1")],
        )
        .await;
    assert_eq!(
        nurse.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "reset ends their sessions"
    );
    let res = nurse.login("newnurse", "another-temp-pass-1").await;
    assert_eq!(location(&res), "/account/password");
}

#[tokio::test]
async fn creating_a_user_validates_every_field_and_changes_nothing_on_error() {
    let app = spawn_app().await;
    let (admin, _) = app.browser_as("admin").await;
    let before = app.scalar("SELECT count(*) FROM users").await;
    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "a b"),
                ("display_name", ""),
                ("role", "root"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    for msg in [
        "Username may contain only letters a-z, digits and . _ -",
        "Role must be one of admin, manager, staff, viewer",
    ] {
        assert!(html.contains(msg), "{msg} missing");
    }
    // A taken username is a field error too.
    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "admin-user"),
                ("role", "staff"),
                ("password", "temporary-pass-123"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Username is already taken")
    );
    assert_eq!(app.scalar("SELECT count(*) FROM users").await, before);
}

#[tokio::test]
async fn a_role_change_takes_effect_at_once() {
    let app = spawn_app().await;
    let (admin, _) = app.browser_as("admin").await;
    let (manager, m) = app.browser_as("manager").await;
    assert_eq!(manager.get("/audit").await.status(), StatusCode::OK);
    admin
        .post_form(
            &format!("/admin/users/{}/role", m.id),
            &[("role", "viewer")],
        )
        .await;
    manager.login("manager-user", PASSWORD).await;
    assert_eq!(manager.get("/audit").await.status(), StatusCode::FORBIDDEN);
    let role: String = app
        .raw_connection()
        .query_row("SELECT role FROM users WHERE id = ?1", [m.id], |r| r.get(0))
        .unwrap();
    assert_eq!(role, "viewer");
}

/// `next` after signing in stays on this site however it is spelt: a tab a
/// browser would drop, a backslash it would read as a slash, or a line
/// break meant to end the Location header, all land on `/`.
#[tokio::test]
async fn signing_in_never_redirects_off_site() {
    let app = spawn_app().await;
    app.create_user("anna", "staff").await;
    for (next, want) in [
        ("/orders?state=queued", "/orders?state=queued"),
        ("/\t/evil.example/phish", "/"),
        ("/\\evil.example", "/"),
        ("//evil.example", "/"),
        ("/ok\r\nSet-Cookie: stolen=1", "/"),
    ] {
        let b = app.new_browser();
        let res = b
            .post_form(
                "/login",
                &[("username", "anna"), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&res), want, "{next:?}");
        assert!(res.headers().get("stolen").is_none());
    }
}
