//! API tokens and the state of the user they act for.

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn a_token_waits_while_its_user_must_change_the_password() {
    let app = spawn_app().await;
    let user = app.create_user("tim", "staff").await;
    let token = api(&create_token(&app, user.id, "read").await);
    let me = format!("{}/api/v1/me", app.address);
    assert_eq!(
        token.get(&me).send().await.unwrap().status(),
        StatusCode::OK
    );
    // An administrator sets a temporary password (after a compromise, say).
    app.raw_connection()
        .execute(
            "UPDATE users SET must_change_password = 1 WHERE id = ?1",
            [user.id],
        )
        .unwrap();
    let res = token.get(&me).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "password-change-required");
    app.raw_connection()
        .execute(
            "UPDATE users SET must_change_password = 0 WHERE id = ?1",
            [user.id],
        )
        .unwrap();
    assert_eq!(
        token.get(&me).send().await.unwrap().status(),
        StatusCode::OK
    );
}
