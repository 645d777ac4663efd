//! The second factor: an authenticator app (TOTP) and recovery codes,
//! required for administrators by default. The test plays the phone: it
//! reads the key from the set-up page and computes codes on the app's
//! manual clock.

use std::time::Duration;

use reqwest::StatusCode;
use stockroom::accounts::second_factor::code_at;
use stockroom::config::SecondFactorPolicy;
use stockroom::domain::Clock;

use crate::helpers::*;

async fn app_with(policy: SecondFactorPolicy) -> TestApp {
    spawn_app_with(move |c| c.security.second_factor = policy).await
}

/// The key shown on a set-up page, without its spaces.
fn secret_on(html: &str) -> String {
    let start = html
        .find(r#"data-testid="totp-secret">"#)
        .expect("the page shows the key")
        + r#"data-testid="totp-secret">"#.len();
    let end = html[start..].find("</code>").unwrap();
    html[start..start + end].replace(' ', "")
}

/// The recovery codes on the page shown after setting up.
fn codes_on(html: &str) -> Vec<String> {
    let list = &html[html
        .find(r#"data-testid="recovery-codes""#)
        .expect("codes shown")..];
    let list = &list[..list.find("</ul>").unwrap()];
    list.split("<li><code>")
        .skip(1)
        .map(|s| s[..s.find("</code>").unwrap()].to_string())
        .collect()
}

/// Signs `username` in with the password, sets up the app when asked and
/// returns the key and the recovery codes. The browser is then signed in.
async fn enrol(app: &TestApp, b: &Browser, username: &str) -> (String, Vec<String>) {
    let res = b.login(username, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login/setup");
    let html = b.get_html("/login/setup").await;
    let secret = secret_on(&html);
    let res = b
        .post_form(
            "/login/setup",
            &[("code", &code_at(&secret, app.clock.now()))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let codes = codes_on(&res.text().await.unwrap());
    (secret, codes)
}

/// Moves the clock on a step, so that the next code is a new one.
fn next_step(app: &TestApp) {
    app.clock.advance(Duration::from_secs(30));
}

async fn signed_in(b: &Browser) -> bool {
    b.get("/").await.status() == StatusCode::OK
}

#[tokio::test]
async fn an_administrator_sets_up_an_app_at_first_sign_in_then_signs_in_with_its_codes() {
    let app = app_with(SecondFactorPolicy::Administrators).await;
    let ada = app.create_user("ada", "admin").await;
    let b = app.new_browser();

    // The right password alone gives no session, only the set-up step.
    let res = b.login("ada", PASSWORD).await;
    assert_eq!(location(&res), "/login/setup");
    assert!(!signed_in(&b).await, "no session before the second factor");
    let html = b.get_html("/login/setup").await;
    assert!(
        html.contains("<svg") && html.contains("QR code"),
        "QR code shown"
    );
    assert!(!html.contains("<?xml"), "inline SVG");
    let secret = secret_on(&html);
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
    assert_eq!(
        secret_on(&b.get_html("/login/setup").await),
        secret,
        "reloading shows the same key, so a scan already made stays good"
    );

    // A wrong code sets nothing up.
    let res = b.post_form("/login/setup", &[("code", "000000")]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("That code is not right"));
    assert!(!signed_in(&b).await);
    assert_eq!(app.audit_count("auth.second_factor_enrolled").await, 0);

    let code = code_at(&secret, app.clock.now());
    let res = b.post_form("/login/setup", &[("code", &code)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let codes = codes_on(&res.text().await.unwrap());
    assert_eq!(codes.len(), 10, "{codes:?}");
    assert!(signed_in(&b).await, "signed in once the app is proved");
    assert_eq!(app.audit_count("auth.second_factor_enrolled").await, 1);
    // Only hashes are kept.
    let plain = codes[0].replace('-', "");
    let stored: i64 = app
        .db()
        .read(move |c| {
            c.query_row(
                "SELECT count(*) FROM recovery_codes WHERE user_id = ?1 AND code_hash LIKE '$argon2id$%' AND instr(code_hash, ?2) = 0",
                rusqlite::params![ada.id, plain],
                |r| r.get(0),
            )
            .map_err(stockroom::db::DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(stored, 10);

    // The next sign-in asks for a code; the one just used is refused.
    b.logout().await;
    let res = b.login("ada", PASSWORD).await;
    assert_eq!(location(&res), "/login/code");
    assert!(!signed_in(&b).await);
    let res = b.post_form("/login/code", &[("code", &code)]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "a code works once");
    assert!(!signed_in(&b).await);
    next_step(&app);
    let res = b
        .post_form(
            "/login/code",
            &[("code", &code_at(&secret, app.clock.now()))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/");
    assert!(signed_in(&b).await);

    // A recovery code works once, typed any which way.
    b.logout().await;
    b.login("ada", PASSWORD).await;
    let typed = codes[4].to_uppercase().replace('-', " ");
    let res = b.post_form("/login/code", &[("code", &typed)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(signed_in(&b).await);
    assert_eq!(app.audit_count("auth.recovery_code_used").await, 1);
    let page = b.get_html("/account/second-factor").await;
    assert!(
        page.contains("Recovery codes left: <strong>9</strong>"),
        "{page}"
    );
    b.logout().await;
    b.login("ada", PASSWORD).await;
    let res = b.post_form("/login/code", &[("code", &codes[4])]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "used up");
    assert!(!signed_in(&b).await);

    // Tokens are not a sign-in: they work as before.
    let token = create_token(&app, ada.id, "read").await;
    let me = api(&token)
        .get(format!("{}/api/v1/me", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // Every sign-in records how the second step was passed.
    let how: Vec<String> = app
        .db()
        .read(|c| {
            let mut s = c.prepare(
                "SELECT json_extract(after_json, '$.second_factor') FROM audit_log WHERE action = 'auth.login' ORDER BY id",
            )?;
            let rows = s.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
            Ok::<_, stockroom::db::DbError>(rows)
        })
        .await
        .unwrap();
    assert_eq!(how, ["authenticator", "authenticator", "recovery_code"]);
    app.assert_audit_chain_intact().await;
}

#[tokio::test]
async fn wrong_codes_end_the_sign_in_and_count_towards_the_lock_out() {
    let app = app_with(SecondFactorPolicy::Administrators).await;
    app.create_user("ada", "admin").await;
    let (secret, _) = enrol(&app, &app.new_browser(), "ada").await;

    let b = Browser::from_address(&app.address, "127.0.0.2");
    b.login("ada", PASSWORD).await;
    for _ in 0..4 {
        let res = b.post_form("/login/code", &[("code", "123456")]).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
    let res = b.post_form("/login/code", &[("code", "123456")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the fifth ends it");
    assert_eq!(location(&res), "/login");
    next_step(&app);
    let res = b
        .post_form(
            "/login/code",
            &[("code", &code_at(&secret, app.clock.now()))],
        )
        .await;
    assert_eq!(
        location(&res),
        "/login",
        "even the right code needs a new sign-in"
    );
    assert!(!signed_in(&b).await);
    assert_eq!(app.audit_count("auth.second_factor_failed").await, 5);
    // Five wrong codes count like five wrong passwords: that address is locked …
    let res = b.login("ada", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // … and the owner, elsewhere, is not.
    let owner = Browser::from_address(&app.address, "127.0.0.3");
    owner.login("ada", PASSWORD).await;
    let res = owner
        .post_form(
            "/login/code",
            &[("code", &code_at(&secret, app.clock.now()))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(signed_in(&owner).await);

    // The code step waits ten minutes, no longer.
    let late = app.new_browser();
    late.login("ada", PASSWORD).await;
    app.clock.advance(Duration::from_secs(10 * 60 + 1));
    let res = late
        .post_form(
            "/login/code",
            &[("code", &code_at(&secret, app.clock.now()))],
        )
        .await;
    assert_eq!(location(&res), "/login");
    assert!(!signed_in(&late).await);
}

#[tokio::test]
async fn the_policy_decides_who_must_set_one_up_and_anyone_may_choose_one() {
    let app = app_with(SecondFactorPolicy::Administrators).await;
    app.create_user("ada", "admin").await;
    app.create_user("meg", "manager").await;
    app.create_user("sam", "staff").await;
    // Managers and staff sign in with a password alone by default.
    for name in ["meg", "sam"] {
        let b = app.new_browser();
        let res = b.login(name, PASSWORD).await;
        assert_eq!(location(&res), "/", "{name}");
        assert!(signed_in(&b).await);
    }

    // Sam turns one on from the account page …
    let sam = app.new_browser();
    sam.login("sam", PASSWORD).await;
    assert!(
        sam.get_html("/account/second-factor")
            .await
            .contains("<strong>Off.</strong>")
    );
    let res = sam.post_form("/account/second-factor/begin", &[]).await;
    assert_eq!(location(&res), "/account/second-factor");
    let secret = secret_on(&sam.get_html("/account/second-factor").await);
    let res = sam
        .post_form(
            "/account/second-factor/setup",
            &[("code", &code_at(&secret, app.clock.now()))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let first_codes = codes_on(&res.text().await.unwrap());
    // … is then asked for a code at sign-in …
    let again = app.new_browser();
    assert_eq!(location(&again.login("sam", PASSWORD).await), "/login/code");
    // … replaces the recovery codes (which needs a current code) …
    next_step(&app);
    let res = sam
        .post_form(
            "/account/second-factor/recovery-codes",
            &[("code", "000000")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = sam
        .post_form(
            "/account/second-factor/recovery-codes",
            &[("code", &code_at(&secret, app.clock.now()))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let new_codes = codes_on(&res.text().await.unwrap());
    assert_eq!(new_codes.len(), 10);
    assert!(new_codes.iter().all(|c| !first_codes.contains(c)));
    let res = again
        .post_form("/login/code", &[("code", &first_codes[0])])
        .await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "old codes stop working"
    );
    // … and may turn it off again.
    next_step(&app);
    let res = sam
        .post_form(
            "/account/second-factor/remove",
            &[("code", &code_at(&secret, app.clock.now()))],
        )
        .await;
    assert_eq!(location(&res), "/account/second-factor");
    assert_eq!(
        location(&app.new_browser().login("sam", PASSWORD).await),
        "/"
    );

    // An administrator may not turn theirs off.
    let ada = app.new_browser();
    let (secret, _) = enrol(&app, &ada, "ada").await;
    next_step(&app);
    let res = ada
        .post_form(
            "/account/second-factor/remove",
            &[("code", &code_at(&secret, app.clock.now()))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("cannot be turned off"));
    assert_eq!(app.audit_count("auth.second_factor_removed").await, 1);

    // Extended to managers, Meg sets one up at her next sign-in; her
    // session from before ends at the restart.
    let meg = app.new_browser();
    meg.login("meg", PASSWORD).await;
    let mut app = app;
    app.config.security.second_factor = SecondFactorPolicy::Managers;
    let app = app.restart().await;
    let meg = Browser {
        client: meg.client,
        address: app.address.clone(),
    };
    assert!(!signed_in(&meg).await, "signed out by the wider policy");
    assert_eq!(location(&meg.login("meg", PASSWORD).await), "/login/setup");
    // Staff still need none.
    assert_eq!(
        location(&app.new_browser().login("sam", PASSWORD).await),
        "/"
    );
}

#[tokio::test]
async fn everyone_can_be_required_to_use_one() {
    let app = app_with(SecondFactorPolicy::Everyone).await;
    app.create_user("vic", "viewer").await;
    let b = app.new_browser();
    let (secret, codes) = enrol(&app, &b, "vic").await;
    assert_eq!(codes.len(), 10);
    assert!(!secret.is_empty());
    assert!(signed_in(&b).await);
}

#[tokio::test]
async fn a_lost_phone_is_reset_by_an_administrator_or_on_the_machine() {
    let app = app_with(SecondFactorPolicy::Administrators).await;
    app.create_user("ada", "admin").await;
    let bob_user = app.create_user("bob", "admin").await;
    let ada = app.new_browser();
    enrol(&app, &ada, "ada").await;
    let bob = app.new_browser();
    enrol(&app, &bob, "bob").await;

    // Ada sees Bob's second factor on his page and resets it.
    let page = ada.get_html(&format!("/admin/users/{}", bob_user.id)).await;
    assert!(page.contains("On, with 10 recovery codes left."), "{page}");
    let res = ada
        .post_form(
            &format!("/admin/users/{}/second-factor/reset", bob_user.id),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!signed_in(&bob).await, "Bob was signed out");
    assert_eq!(app.audit_count("auth.second_factor_reset").await, 1);
    assert_eq!(location(&bob.login("bob", PASSWORD).await), "/login/setup");
    // A manager may not.
    let (meg, _) = app.browser_as("manager").await;
    let res = meg
        .post_form(
            &format!("/admin/users/{}/second-factor/reset", bob_user.id),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // On the machine, for an administrator with no one else to ask.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stockroom"))
        .args(["reset-second-factor", "ada"])
        .env_clear()
        .env("STOCKROOM_DATA_DIR", app.data_dir.path())
        .env("STOCKROOM_LOG_LEVEL", "warn")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("Reset the second factor of ada"), "{said}");
    assert_eq!(app.audit_count("auth.second_factor_reset").await, 2);
    assert!(!signed_in(&ada).await, "Ada was signed out");
    assert_eq!(location(&ada.login("ada", PASSWORD).await), "/login/setup");
    app.assert_audit_chain_intact().await;
}

#[tokio::test]
async fn the_first_administrator_sets_up_the_app_before_the_first_session() {
    let app = app_with(SecondFactorPolicy::Administrators).await;
    let url = app.setup_url.clone().unwrap();
    let token = url.split("token=").nth(1).unwrap().to_string();
    let b = app.new_browser();
    b.get(&url).await;
    let res = b
        .post_form(
            "/setup",
            &[
                ("token", token.as_str()),
                ("username", "ada"),
                ("display_name", "Ada"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&res), "/login/setup");
    assert!(!signed_in(&b).await);
    let secret = secret_on(&b.get_html("/login/setup").await);
    let res = b
        .post_form(
            "/login/setup",
            &[("code", &code_at(&secret, app.clock.now()))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(signed_in(&b).await);
}
