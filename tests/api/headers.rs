//! Security headers on pages, error pages, static files and the API;
//! error pages in the layout; static caching.

use std::time::Duration;

use reqwest::{Response, StatusCode};

use crate::helpers::*;

fn assert_security_headers(res: &Response, what: &str) {
    let h = res.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{what}: {csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "same-origin", "{what}");
    assert!(h.contains_key("permissions-policy"), "{what}");
    assert!(h.contains_key("x-request-id"), "{what}");
    assert!(
        !h.contains_key("strict-transport-security"),
        "{what}: no HSTS over plain HTTP"
    );
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let (admin, _) = app.browser_as("admin").await;
    let (staff, _) = app.browser_as("staff").await;
    let anon = app.new_browser();
    let cases = [
        ("page", admin.get("/").await),
        ("login page", anon.get("/login").await),
        ("redirect", anon.get("/").await),
        ("404 page", admin.get("/no/such/page").await),
        ("403 page", staff.get("/admin/users").await),
        ("static file", anon.get("/static/app.css").await),
        ("API error", anon.get("/api/v1/me").await),
        ("OpenAPI", anon.get("/api/v1/openapi.json").await),
        ("health", anon.get("/healthz").await),
    ];
    for (what, res) in &cases {
        assert_security_headers(res, what);
    }
}

#[tokio::test]
async fn error_pages_use_the_layout_and_json_errors_have_a_code() {
    let app = spawn_app().await;
    let (staff, _) = app.browser_as("staff").await;
    let res = staff.get("/admin/users").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("<h1>Not allowed</h1>") && html.contains("class=\"mainnav\""),
        "{html}"
    );
    assert!(html.contains("stockroom 0."), "footer with the version");

    let res = staff.get("/nothing-here").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("<h1>Not found</h1>"));

    let res = app.new_browser().get("/api/v1/nothing").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not-found");
    assert!(body["error"]["request_id"].as_str().unwrap().len() > 10);
}

#[tokio::test]
async fn a_500_page_never_leaks_internals() {
    let app = spawn_app().await;
    let (admin, _) = app.browser_as("admin").await;
    // Break the database under the running server.
    app.raw_connection()
        .execute_batch("DROP TABLE api_tokens")
        .unwrap();
    let res = admin.get("/admin/tokens").await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let html = res.text().await.unwrap();
    assert!(html.contains("Something went wrong"), "{html}");
    assert!(
        html.contains(&id),
        "the page gives the request id as a reference"
    );
    for secret in ["api_tokens", "no such table", "rusqlite", "SELECT", "src/"] {
        assert!(!html.contains(secret), "500 page leaks {secret}");
    }
}

#[tokio::test]
async fn static_files_are_cacheable_by_hash_and_etag() {
    let app = spawn_app().await;
    let b = app.new_browser();
    let html = b.get_html("/login").await;
    let css = extract(&html, "rel=\"stylesheet\" href=\"").unwrap();
    assert!(css.starts_with("/static/app.css?v="), "{css}");
    let res = b.get(&css).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let etag = res.headers()["etag"].to_str().unwrap().to_string();

    let res = b
        .client
        .get(b.url("/static/app.css"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    // Without the current hash the file must be revalidated.
    let res = b.get("/static/app.css?v=old").await;
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("must-revalidate")
    );
    assert_eq!(
        b.get("/static/missing.js").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get("/static/../Cargo.toml").await.status(),
        StatusCode::NOT_FOUND
    );
    // htmx is served from the binary, with its licence.
    assert_eq!(b.get("/static/htmx.min.js").await.status(), StatusCode::OK);
    assert_eq!(b.get("/static/htmx.LICENSE").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn pages_are_not_cached_and_every_request_has_an_id() {
    let app = spawn_app().await;
    let (admin, _) = app.browser_as("admin").await;
    let a = admin.get("/").await;
    let b = admin.get("/").await;
    assert_eq!(a.headers()["cache-control"], "no-store");
    assert_ne!(a.headers()["x-request-id"], b.headers()["x-request-id"]);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = spawn_app_with(|c| c.http.max_body_bytes = 4096).await;
    let (admin, _) = app.browser_as("admin").await;
    let big = "x".repeat(10_000);
    let res = admin.post_form("/admin/users", &[("username", &big)]).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // JSON too: 413 with its code.
    let user = app.create_user("tim", "admin").await;
    let token = api(&create_token(&app, user.id, "write").await);
    let body = serde_json::json!({"username": big, "role": "staff", "password": big});
    let res = post_json(&token, format!("{}/api/v1/users", app.address), &body).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error: serde_json::Value = res.json().await.unwrap();
    assert_eq!(error["error"]["code"], "payload-too-large");
    assert_eq!(
        app.scalar("SELECT count(*) FROM users").await,
        2,
        "nothing created"
    );
}

#[tokio::test]
async fn text_says_its_charset_and_downloads_run_sandboxed() {
    let app = spawn_app().await;
    let (admin, _) = app.browser_as("admin").await;
    let user = app.create_user("tim", "admin").await;
    let token = api(&create_token(&app, user.id, "read").await);
    let json = token
        .get(format!("{}/api/v1/me", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let text = admin.get("/healthz").await;
    assert_eq!(text.headers()["content-type"], "text/plain; charset=utf-8");
    let page = admin.get("/").await;
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let csv = admin.get("/export/items.csv").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
    );
    assert_eq!(
        csv.headers()["content-security-policy"],
        "sandbox; default-src 'none'"
    );
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("charset=utf-8")
    );
    // Pages keep their own policy.
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
}

/// Sends the head and the first bytes of a body, then nothing more; returns
/// what the server answered and whether it then closed the connection.
async fn trickle(address: &str, head: String, first: &[u8]) -> (String, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = address.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(host).await.unwrap();
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(first).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf)).await {
            Ok(Ok(0)) => break true,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Ok(Err(_)) => break true,
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&answer).into_owned(), closed)
}

#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off_with_408() {
    let app = spawn_app_with(|c| c.http.body_timeout = Duration::from_secs(1)).await;
    let user = app.create_user("tim", "admin").await;
    let token = create_token(&app, user.id, "write").await;
    let started = std::time::Instant::now();
    let body = r#"{"username":"slow","role":"staff","password":"correct-horse-gauze-42"}"#;
    let head = format!(
        "POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let (answer, closed) = trickle(&app.address, head, &body.as_bytes()[..10]).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request-timeout"), "{answer}");
    assert!(closed, "the connection is closed");
    assert!(started.elapsed() < Duration::from_secs(8));
    assert_eq!(
        app.scalar("SELECT count(*) FROM users").await,
        1,
        "nothing created"
    );

    // A form, read first by the CSRF check: the same.
    let head = "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\n".to_string();
    let (answer, closed) = trickle(&app.address, head, b"username=a").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(closed);

    // A body that arrives in time, even in pieces, is read as ever.
    let res = post_json(
        &api(&token),
        format!("{}/api/v1/users", app.address),
        &serde_json::json!({"username": "quick", "role": "staff", "password": PASSWORD}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}
