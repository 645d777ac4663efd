//! The audit trail records who did what, from where, in the same
//! transaction as the change, and its chain verifies.

use crate::helpers::*;

#[tokio::test]
async fn user_changes_are_audited_with_actor_ip_and_request_id() {
    let app = spawn_app().await;
    let (admin, me) = app.browser_as("admin").await;
    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "anna"),
                ("role", "staff"),
                ("password", "temporary-pass-123"),
            ],
        )
        .await;
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let (actor_id, actor_kind, ip, rid, after): (i64, String, String, String, String) = app
        .raw_connection()
        .query_row(
            "SELECT actor_id, actor_kind, ip, request_id, after_json FROM audit_log WHERE action = 'user.create'
             AND entity_id = (SELECT CAST(id AS TEXT) FROM users WHERE username = 'anna')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(actor_id, me.id);
    assert_eq!(actor_kind, "user");
    assert_eq!(ip, "127.0.0.1");
    assert_eq!(rid, request_id);
    assert!(after.contains("\"role\":\"staff\""), "{after}");
    assert!(
        !after.contains("argon2"),
        "no password hash in the audit log"
    );

    app.assert_audit_chain_intact().await;
}

#[tokio::test]
async fn a_refused_change_leaves_no_audit_row() {
    let app = spawn_app().await;
    let (admin, me) = app.browser_as("admin").await;
    let before = app.scalar("SELECT count(*) FROM audit_log").await;
    // The last admin cannot disable themselves: refused, nothing recorded.
    admin
        .post_form(&format!("/admin/users/{}/disable", me.id), &[])
        .await;
    assert_eq!(app.scalar("SELECT count(*) FROM audit_log").await, before);
}

#[tokio::test]
async fn managers_can_read_the_audit_page() {
    let app = spawn_app().await;
    let (manager, _) = app.browser_as("manager").await;
    let html = manager.get_html("/audit").await;
    assert!(html.contains("auth.login"), "{html}");
    assert!(html.contains("user.create"));
}
