//! Many writers at once: every request succeeds (no SQLITE_BUSY reaches a
//! caller) and no write is lost.

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_writing_requests_all_succeed() {
    let app = spawn_app().await;
    let admin = app.create_user("boss", "admin").await;
    let token = create_token(&app, admin.id, "write").await;
    let client = api(&token);
    let mut tasks = Vec::new();
    for i in 0..64 {
        let client = client.clone();
        let url = format!("{}/api/v1/users", app.address);
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&serde_json::json!({
                    "username": format!("writer{i:02}"),
                    "role": "staff",
                    "password": "concurrent-password-1",
                }))
                .send()
                .await
                .unwrap()
        }));
    }
    let mut failures = Vec::new();
    for t in tasks {
        let res = t.await.unwrap();
        if res.status() != StatusCode::CREATED {
            failures.push((res.status(), res.text().await.unwrap()));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(
        app.scalar("SELECT count(*) FROM users WHERE username LIKE 'writer%'")
            .await,
        64
    );
    app.assert_audit_chain_intact().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_simultaneous_setups_create_one_admin() {
    let app = spawn_app().await;
    let url = app.setup_url.clone().unwrap();
    let token = url.split("token=").nth(1).unwrap().to_string();
    let mut tasks = Vec::new();
    for name in ["first", "second"] {
        let b = app.new_browser();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            b.get(&format!("/setup?token={token}")).await;
            b.post_form(
                "/setup",
                &[
                    ("token", &token),
                    ("username", name),
                    ("display_name", name),
                    ("password", PASSWORD),
                    ("confirm", PASSWORD),
                ],
            )
            .await
            .status()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        app.scalar("SELECT count(*) FROM users WHERE role = 'admin'")
            .await,
        1
    );
}
