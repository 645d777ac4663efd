//! First run: only the holder of the setup token can create the first admin.

use reqwest::StatusCode;

use crate::helpers::*;

fn setup_fields<'a>(token: &'a str, username: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("token", token),
        ("username", username),
        ("display_name", "Practice Manager"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ]
}

fn token_of(url: &str) -> String {
    url.split("token=").nth(1).unwrap().to_string()
}

#[tokio::test]
async fn the_setup_link_creates_the_first_admin_once() {
    let app = spawn_app().await;
    let url = app
        .setup_url
        .clone()
        .expect("a fresh install prints a setup URL");
    assert!(url.starts_with(&app.address), "{url}");
    let token = token_of(&url);

    let html = app.browser.get_html(&url).await;
    assert!(html.contains("Create administrator"));

    let res = app
        .browser
        .post_form("/setup", &setup_fields(&token, "boss"))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/");
    // Signed in straight away.
    let home = app.browser.get_html("/").await;
    assert!(home.contains("Hello, Practice Manager"), "{home}");
    assert_eq!(
        app.scalar("SELECT count(*) FROM users WHERE role = 'admin'")
            .await,
        1
    );

    // The token is spent: neither the page nor the form work any more.
    let other = app.new_browser();
    assert_eq!(other.get(&url).await.status(), StatusCode::NOT_FOUND);
    let res = other
        .post_form("/setup", &setup_fields(&token, "intruder"))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.scalar("SELECT count(*) FROM users").await, 1);
}

#[tokio::test]
async fn without_the_token_nobody_can_claim_the_appliance() {
    let app = spawn_app().await;
    let b = app.new_browser();
    assert_eq!(b.get("/setup").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        b.get("/setup?token=guess").await.status(),
        StatusCode::FORBIDDEN
    );
    let res = b
        .post_form("/setup", &setup_fields("guess", "intruder"))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.scalar("SELECT count(*) FROM users").await, 0);
    assert_eq!(
        app.scalar("SELECT count(*) FROM audit_log WHERE action = 'setup.refused'")
            .await,
        3,
        "refusals are audited"
    );
}

#[tokio::test]
async fn invalid_setup_input_is_refused_with_field_messages_and_changes_nothing() {
    let app = spawn_app().await;
    let token = token_of(app.setup_url.as_ref().unwrap());
    let res = app
        .browser
        .post_form(
            "/setup",
            &[
                ("token", &token),
                ("username", "x"),
                ("display_name", ""),
                ("password", "short"),
                ("confirm", "different"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Username must be 2 to 64 characters long"),
        "{html}"
    );
    assert!(
        html.contains("Password must be at least 12 characters long"),
        "{html}"
    );
    assert!(html.contains("Repeated password does not match"), "{html}");
    // Each message is tied to its field for screen readers, and summarised.
    assert!(
        html.contains(r#"aria-describedby="password-error""#)
            && html.contains(r#"id="password-error""#)
    );
    assert!(
        html.contains(r#"role="alert""#) && html.contains(r##"href="#confirm""##),
        "{html}"
    );
    assert_eq!(app.scalar("SELECT count(*) FROM users").await, 0);
    assert!(app.app_state.setup_token().is_some(), "setup is still open");
}

#[tokio::test]
async fn an_admin_created_from_the_cli_closes_setup() {
    let app = spawn_app().await;
    let url = app.setup_url.clone().unwrap();
    app.create_user("cli-admin", "admin").await;
    assert_eq!(app.browser.get(&url).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn no_setup_link_when_an_admin_exists_at_start() {
    let app = spawn_app().await;
    app.create_user("boss", "admin").await;
    let app = app.restart().await;
    assert!(app.setup_url.is_none());
}

#[tokio::test]
async fn a_preset_token_from_config_is_used() {
    let preset = "preset-setup-token-0123456789abcdefghij";
    let app =
        spawn_app_with(|c| c.setup.token = Some(stockroom::config::Secret::new(preset))).await;
    assert!(app.setup_url.as_ref().unwrap().ends_with(preset));
}

#[tokio::test]
async fn the_login_page_stops_mentioning_setup_once_an_admin_exists() {
    let app = spawn_app().await;
    let b = app.new_browser();
    assert!(b.get_html("/login").await.contains("not set up yet"));
    app.create_user("cli-admin", "admin").await;
    assert!(!b.get_html("/login").await.contains("not set up yet"));
    assert!(app.app_state.setup_token().is_none(), "setup closed");
}

#[tokio::test]
async fn setup_refusals_say_what_to_do() {
    let app = spawn_app().await;
    let html = app
        .new_browser()
        .get("/setup?token=wrong")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Setup link not valid") && html.contains("Copy the whole link"),
        "{html}"
    );
    app.create_user("boss", "admin").await;
    let html = app
        .new_browser()
        .get("/setup?token=wrong")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Already set up") && html.contains("Sign in"),
        "{html}"
    );
}
