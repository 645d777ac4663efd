//! Authorization: every route in the route table, for every role and for
//! anonymous callers, is allowed or refused exactly as its `Access` says.

use reqwest::{Method, StatusCode};
use stockroom::domain::Role;
use stockroom::web::middleware::authorize::Access;
use stockroom::web::routes;

use crate::helpers::*;

fn concrete(path: &str, user_id: i64, token_id: i64) -> String {
    path.replace("{path:.*}", "app.css")
        .replace("/admin/users/{id}", &format!("/admin/users/{user_id}"))
        .replace("/admin/tokens/{id}", &format!("/admin/tokens/{token_id}"))
        .replace("{id}", "1")
        .replace("{location_id}", "1")
}

fn method(route: &routes::RouteDef) -> Method {
    Method::from_bytes(route.method.as_str().as_bytes()).unwrap()
}

fn refused(status: StatusCode, location: &str) -> bool {
    status == StatusCode::FORBIDDEN
        || status == StatusCode::UNAUTHORIZED
        || (status == StatusCode::SEE_OTHER && location.starts_with("/login"))
}

#[tokio::test]
async fn every_route_allows_exactly_the_roles_it_names() {
    let app = spawn_app().await;
    let victim = app.create_user("victim", "staff").await;
    let table = routes::table();
    assert!(table.len() > 20);

    let mut checked = 0;
    for role in Role::ALL {
        let (browser, user) = app.browser_as(role.as_str()).await;
        create_token(&app, victim.id, "read").await;
        let victim_token: i64 = app.scalar("SELECT max(id) FROM api_tokens").await;
        let token = create_token(&app, user.id, "write").await;
        let bearer = api(&token);
        for route in &table {
            // Public routes are for everyone; logging out is tested on its own
            // and would end this browser's session for the routes after it.
            if route.access == Access::Public || route.path == "/logout" {
                continue;
            }
            let path = concrete(route.path, victim.id, victim_token);
            let res = if path.starts_with("/api/") {
                let req = bearer.request(method(route), browser.url(&path));
                let req = if method(route) != Method::GET {
                    req.json(&serde_json::json!({}))
                } else {
                    req
                };
                req.send().await.unwrap()
            } else if method(route) == Method::POST {
                browser.post_form(&path, &[]).await
            } else {
                browser.get(&path).await
            };
            let status = res.status();
            let loc = location(&res);
            let allowed = route.access.allows(role);
            if allowed {
                assert!(
                    !refused(status, &loc),
                    "{role} should reach {route:?} but got {status} {loc}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} must be refused {route:?}"
                );
            }
            checked += 1;
        }
        // Keep later roles' sign-ins working: logout and the victim's
        // changes above (disable, role, password) must not matter.
        app.db()
            .write(move |tx| {
                tx.execute(
                    "UPDATE users SET disabled = 0, role = 'staff' WHERE id = ?1",
                    [victim.id],
                )?;
                Ok::<_, stockroom::db::DbError>(())
            })
            .await
            .unwrap();
    }
    let guarded = table
        .iter()
        .filter(|r| r.access != Access::Public && r.path != "/logout")
        .count();
    assert!(guarded >= 15);
    assert_eq!(checked, 4 * guarded);
}

#[tokio::test]
async fn anonymous_callers_reach_only_public_routes() {
    let app = spawn_app().await;
    let victim = app.create_user("victim", "staff").await;
    let b = app.new_browser();
    for route in routes::table() {
        let path = concrete(route.path, victim.id, 1);
        let res = b
            .client
            .request(method(&route), b.url(&path))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let loc = location(&res);
        match route.access {
            // The second step of signing in needs the first: without a
            // challenge cookie it sends the visitor back to the password
            // (POSTs are refused by CSRF first).
            Access::Public if path.starts_with("/login/") => assert!(
                refused(status, &loc)
                    && (status != StatusCode::SEE_OTHER || loc.starts_with("/login")),
                "{route:?} answered {status} {loc}"
            ),
            Access::Public => assert!(
                !(status == StatusCode::SEE_OTHER && loc.starts_with("/login"))
                    && status != StatusCode::UNAUTHORIZED,
                "{route:?} is public but answered {status} {loc}"
            ),
            _ if path.starts_with("/api/") => {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{route:?}")
            }
            // Pages send anonymous visitors to sign in (POSTs are refused by
            // CSRF first, which is just as closed).
            _ => assert!(refused(status, &loc), "{route:?} answered {status}"),
        }
    }
}

#[tokio::test]
async fn sessions_do_not_work_on_the_api_nor_tokens_on_pages() {
    let app = spawn_app().await;
    let (browser, admin) = app.browser_as("admin").await;
    assert_eq!(
        browser.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let token = create_token(&app, admin.id, "write").await;
    let res = api(&token)
        .get(browser.url("/admin/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/login"));
}

#[tokio::test]
async fn navigation_shows_each_role_only_what_it_may_use() {
    let app = spawn_app().await;
    for (role, visible, hidden) in [
        (
            "admin",
            vec!["/admin/users", "/admin/tokens", "/audit"],
            vec![],
        ),
        (
            "manager",
            vec!["/audit"],
            vec!["/admin/users", "/admin/tokens"],
        ),
        (
            "staff",
            vec![],
            vec!["/admin/users", "/admin/tokens", "/audit"],
        ),
        (
            "viewer",
            vec![],
            vec!["/admin/users", "/admin/tokens", "/audit"],
        ),
    ] {
        let (b, _) = app.browser_as(role).await;
        let html = b.get_html("/").await;
        let nav = &html[html.find("class=\"mainnav\"").unwrap()..html.find("</nav>").unwrap()];
        for href in visible {
            assert!(
                nav.contains(&format!("href=\"{href}\"")),
                "{role} should see {href}"
            );
        }
        for href in hidden {
            assert!(
                !nav.contains(&format!("href=\"{href}\"")),
                "{role} must not see {href}"
            );
        }
    }
}
