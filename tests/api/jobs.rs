//! The job queue's admin pages and `/api/v1/jobs`: counters, the list and
//! its filter, one job with its attempts, retrying a dead job, cancelling a
//! waiting one, refusals, and who may see any of it.
//!
//! No job kind runs in this binary yet, so the jobs are seeded by inserting
//! rows straight into the database, with kinds (`example.*`) that no worker
//! claims, so they stay as seeded.

use std::time::Duration;

use reqwest::StatusCode;
use rusqlite::params;
use serde_json::{Value, json};

use stockroom::domain::Clock;

use crate::helpers::*;

/// The seeded jobs' ids.
struct Seeded {
    queued: i64,
    failed: i64,
    dead: i64,
}

const DEAD_ERROR: &str = "supplier portal answered 503 Service Unavailable after 30 s: giving up on order PO-2026-00042 because every attempt failed";

/// A queued job due two hours ago, a failed one waiting for its retry in
/// ten minutes, and a dead one with its last error and three attempts.
fn seed(app: &TestApp) -> Seeded {
    let now = app.clock.now();
    let conn = app.raw_connection();
    let insert = |kind: &str,
                  payload: Value,
                  state: &str,
                  attempts: u32,
                  run_at: String,
                  err: &str| {
        conn.execute(
            "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, last_error, created_at)
             VALUES (?1, ?2, ?3, ?4, 3, ?5, ?6, ?7)",
            params![
                kind,
                payload.to_string(),
                state,
                attempts,
                run_at,
                err,
                now.minus(Duration::from_secs(3 * 3600)).to_db()
            ],
        )
        .unwrap();
        conn.last_insert_rowid()
    };
    let queued = insert(
        "example.send",
        json!({"order_id": 7}),
        "queued",
        0,
        now.minus(Duration::from_secs(2 * 3600)).to_db(),
        "",
    );
    let failed = insert(
        "example.digest",
        json!({"day": "2026-03-01"}),
        "failed",
        1,
        now.plus(Duration::from_secs(600)).to_db(),
        "smtp timeout",
    );
    let dead = insert(
        "example.send",
        json!({"order_id": 42, "note": "<b>urgent</b>"}),
        "dead",
        3,
        now.minus(Duration::from_secs(3600)).to_db(),
        DEAD_ERROR,
    );
    for (attempt, outcome, error) in [
        (1, "failed", "connection refused"),
        (
            2,
            "lease_expired",
            "lease expired: worker w-1 stopped before finishing",
        ),
        (3, "dead", DEAD_ERROR),
    ] {
        conn.execute(
            "INSERT INTO job_attempts (job_id, attempt, worker, started_at, finished_at, outcome, error)
             VALUES (?1, ?2, 'host-a:1234', ?3, ?3, ?4, ?5)",
            params![
                dead,
                attempt,
                now.minus(Duration::from_secs(3600)).to_db(),
                outcome,
                error
            ],
        )
        .unwrap();
    }
    Seeded {
        queued,
        failed,
        dead,
    }
}

/// (state, attempts) of a job, read from the database.
fn job_row(app: &TestApp, id: i64) -> (String, i64) {
    app.raw_connection()
        .query_row(
            "SELECT state, attempts FROM jobs WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

/// The success message shown at the top of a page.
fn success(message: &str) -> String {
    format!(r#"<p class="flash flash-success" role="status">{message}</p>"#)
}

async fn post(client: &reqwest::Client, url: String) -> reqwest::Response {
    client.post(url).send().await.unwrap()
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {html}"));
    let rest = &html[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

#[tokio::test]
async fn admin_sees_the_counters_and_the_dead_job_highlighted() {
    let app = spawn_app().await;
    let jobs = seed(&app);
    let (b, _) = app.browser_as("admin").await;

    let html = b.get_html("/admin/jobs").await;
    assert!(html.contains(r#"<h1>Jobs</h1>"#), "{html}");
    for (counter, shown) in [
        ("queued", "1"),
        ("running", "0"),
        ("retrying", "1"),
        ("dead", r#"<strong class="badge badge-bad">1</strong>"#),
    ] {
        let dd = format!(r#"<dd data-testid="count-{counter}">{shown}</dd>"#);
        assert!(html.contains(&dd), "{dd} in {html}");
    }
    assert!(
        html.contains(r#"<dd data-testid="oldest-wait">2 hours</dd>"#),
        "the oldest due job waits since two hours: {html}"
    );

    // Per kind: example.send has one queued and one dead, example.digest one retrying.
    let kinds = between(&html, r#"data-testid="job-kinds""#, "</table>");
    let send = between(kinds, "example.send</a></th>", "</tr>");
    assert!(send.contains("<td>1</td><td>0</td><td>0</td>"), "{send}");
    assert!(
        send.contains(">1</a></td>"),
        "one dead example.send: {send}"
    );
    let digest = between(kinds, "example.digest</a></th>", "</tr>");
    assert!(
        digest.contains("<td>0</td><td>0</td><td>1</td>"),
        "{digest}"
    );

    // The list: newest first, the dead job's row marked and its error cut short.
    let list = between(&html, r#"data-testid="jobs""#, "</table>");
    let dead_row = format!(
        "<tr class=\"dead\">\n    <td><a href=\"/admin/jobs/{0}\">Job {0}</a></td>",
        jobs.dead
    );
    assert!(list.contains(&dead_row), "{list}");
    assert_eq!(list.matches(r#"class="dead""#).count(), 1, "{list}");
    assert!(list.contains("<td>3/3</td>"));
    assert!(list.contains("supplier portal answered 503"));
    assert!(!list.contains("every attempt failed"), "shortened: {list}");
    assert!(list.contains('…'));
    let first = list.find(&format!("/admin/jobs/{}\"", jobs.dead)).unwrap();
    let last = list
        .find(&format!("/admin/jobs/{}\"", jobs.queued))
        .unwrap();
    assert!(first < last, "newest first");
    assert!(html.contains(r#"data-testid="result-count">3 jobs<"#));

    // The filter.
    let html = b.get_html("/admin/jobs?state=dead&kind=example.send").await;
    let list = between(&html, r#"data-testid="jobs""#, "</table>");
    assert!(list.contains(&format!("/admin/jobs/{}\"", jobs.dead)));
    assert!(!list.contains(&format!("/admin/jobs/{}\"", jobs.queued)));
    assert!(!list.contains(&format!("/admin/jobs/{}\"", jobs.failed)));
    assert!(html.contains(r#"<option value="dead" selected>"#), "{html}");
    let html = b.get_html("/admin/jobs?kind=example.digest").await;
    assert!(
        html.contains(r#"data-testid="result-count">1 job<"#),
        "{html}"
    );

    // An unknown state names the field.
    let res = b.get("/admin/jobs?state=asleep").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    let message = r#"<p class="field-error" id="state-error">State is not one of the choices</p>"#;
    assert!(html.contains(message), "{html}");
    assert!(html.contains(r#"aria-invalid="true" aria-describedby="state-error""#));
}

#[tokio::test]
async fn the_job_page_shows_payload_attempts_and_the_last_error() {
    let app = spawn_app().await;
    let jobs = seed(&app);
    let (b, _) = app.browser_as("admin").await;

    let html = b.get_html(&format!("/admin/jobs/{}", jobs.dead)).await;
    assert!(
        html.contains(&format!("<h1>Job {} <small", jobs.dead)),
        "{html}"
    );
    assert!(html.contains(r#"<strong class="badge badge-bad">dead</strong>"#));
    assert!(html.contains("<dd>3 of 3</dd>"), "{html}");
    let error = format!(r#"<pre class="job-error" data-testid="last-error">{DEAD_ERROR}</pre>"#);
    assert!(html.contains(&error), "the whole last error: {html}");
    // Pretty-printed and escaped.
    let payload = between(&html, r#"data-testid="payload">"#, "</pre>");
    assert!(
        payload.contains("\n  &#34;order_id&#34;: 42\n"),
        "{payload}"
    );
    assert!(
        payload.contains("&#60;b&#62;urgent&#60;/b&#62;"),
        "{payload}"
    );
    assert!(!html.contains("<b>urgent</b>"));

    let attempts = between(&html, r#"data-testid="attempts""#, "</table>");
    assert_eq!(
        attempts.matches("<code>host-a:1234</code>").count(),
        3,
        "{attempts}"
    );
    for text in [
        "connection refused",
        "lease_expired",
        "lease expired: worker w-1",
        DEAD_ERROR,
    ] {
        assert!(attempts.contains(text), "{text} in {attempts}");
    }
    assert!(html.contains(&format!(r#"action="/admin/jobs/{}/retry""#, jobs.dead)));
    assert!(
        !html.contains("/cancel\""),
        "a dead job cannot be cancelled: {html}"
    );
    let csrf = extract(&html, r#"name="csrf-token" content=""#).unwrap();
    assert!(html.contains(&format!(r#"name="csrf_token" value="{csrf}""#)));

    let html = b.get_html(&format!("/admin/jobs/{}", jobs.queued)).await;
    assert!(html.contains(&format!(r#"action="/admin/jobs/{}/cancel""#, jobs.queued)));
    assert!(
        !html.contains("/retry\""),
        "only a dead job is retried: {html}"
    );
    assert!(html.contains("Not attempted yet."));
    let html = b.get_html(&format!("/admin/jobs/{}", jobs.failed)).await;
    assert!(html.contains(&format!(r#"action="/admin/jobs/{}/cancel""#, jobs.failed)));

    assert_eq!(
        b.get("/admin/jobs/99999").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn retrying_a_dead_job_queues_it_with_fresh_attempts_and_audits_it() {
    let app = spawn_app().await;
    let jobs = seed(&app);
    let (b, _) = app.browser_as("admin").await;

    let res = b
        .post_form(&format!("/admin/jobs/{}/retry", jobs.dead), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/admin/jobs/{}", jobs.dead));
    assert_eq!(job_row(&app, jobs.dead), ("queued".to_string(), 0));
    assert_eq!(app.audit_count("job.retry").await, 1);
    app.assert_audit_chain_intact().await;

    let html = b.get_html(&format!("/admin/jobs/{}", jobs.dead)).await;
    let flash = success(&format!("Job {} will run again.", jobs.dead));
    assert!(html.contains(&flash), "{html}");
    assert!(html.contains(&format!(r#"action="/admin/jobs/{}/cancel""#, jobs.dead)));
}

#[tokio::test]
async fn retrying_a_queued_job_is_refused_with_the_reason_and_changes_nothing() {
    let app = spawn_app().await;
    let jobs = seed(&app);
    let (b, _) = app.browser_as("admin").await;

    let res = b
        .post_form(&format!("/admin/jobs/{}/retry", jobs.queued), &[])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let html = res.text().await.unwrap();
    let id = jobs.queued;
    let flash = format!(
        r#"<p class="flash flash-error" role="status">Job {id} is queued: only a dead job can be retried.</p>"#
    );
    assert!(html.contains(&flash), "{html}");
    assert!(
        html.contains(&format!("<h1>Job {} <small", jobs.queued)),
        "the job page again"
    );
    assert_eq!(job_row(&app, jobs.queued), ("queued".to_string(), 0));
    assert_eq!(app.audit_count("job.retry").await, 0);
}

#[tokio::test]
async fn cancelling_a_queued_job_and_refusing_to_cancel_a_dead_one() {
    let app = spawn_app().await;
    let jobs = seed(&app);
    let (b, _) = app.browser_as("admin").await;

    let res = b
        .post_form(&format!("/admin/jobs/{}/cancel", jobs.queued), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/admin/jobs/{}", jobs.queued));
    assert_eq!(job_row(&app, jobs.queued).0, "cancelled");
    assert_eq!(app.audit_count("job.cancel").await, 1);
    let html = b.get_html(&format!("/admin/jobs/{}", jobs.queued)).await;
    let flash = success(&format!("Job {} cancelled.", jobs.queued));
    assert!(html.contains(&flash), "{html}");
    assert!(
        !html.contains("/cancel\""),
        "nothing left to cancel: {html}"
    );

    let res = b
        .post_form(&format!("/admin/jobs/{}/cancel", jobs.dead), &[])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("only a waiting job can be cancelled."),
        "{html}"
    );
    assert_eq!(job_row(&app, jobs.dead).0, "dead");
    assert_eq!(app.audit_count("job.cancel").await, 1);

    // Without the CSRF token nothing happens.
    let res = b
        .post_raw(&format!("/admin/jobs/{}/cancel", jobs.failed), &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(job_row(&app, jobs.failed).0, "failed");
}

#[tokio::test]
async fn the_api_lists_counts_shows_retries_and_cancels_jobs() {
    let app = spawn_app().await;
    let jobs = seed(&app);
    let admin = app.create_user("ada", "admin").await;
    let client = api(&create_token(&app, admin.id, "write").await);
    let url = |p: &str| format!("{}/api/v1/jobs{p}", app.address);

    let page = get_json(&client, url("?state=dead")).await;
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["items"][0]["id"], jobs.dead);
    assert_eq!(page["items"][0]["state"], "dead");
    assert_eq!(page["items"][0]["last_error"], DEAD_ERROR);
    let page = get_json(&client, url("?kind=example.send&per_page=1&page=2")).await;
    assert_eq!(page["total"], 2, "{page}");
    assert_eq!(page["page"], 2);
    assert_eq!(page["items"][0]["id"], jobs.queued, "newest first: {page}");

    let stats = get_json(&client, url("/stats")).await;
    assert_eq!(stats["queued"], 1, "{stats}");
    assert_eq!(stats["running"], 0);
    assert_eq!(stats["retrying"], 1);
    assert_eq!(stats["dead"], 1);
    assert_eq!(stats["oldest_queued_secs"], 7200);
    assert_eq!(stats["by_kind"].as_array().unwrap().len(), 3, "{stats}");

    let detail = get_json(&client, url(&format!("/{}", jobs.dead))).await;
    assert_eq!(detail["job"]["payload"]["order_id"], 42, "{detail}");
    let attempts = detail["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    assert_eq!(attempts[2]["outcome"], "dead");
    assert_eq!(attempts[2]["error"], DEAD_ERROR);
    let res = client.get(url("/99999")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Retry the dead job, then cancel it; retrying a cancelled job is refused.
    let res = post(&client, url(&format!("/{}/retry", jobs.dead))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let job: Value = res.json().await.unwrap();
    assert_eq!(job["state"], "queued", "{job}");
    assert_eq!(job["attempts"], 0);
    assert_eq!(job_row(&app, jobs.dead), ("queued".to_string(), 0));
    assert_eq!(app.audit_count("job.retry").await, 1);

    let res = post(&client, url(&format!("/{}/cancel", jobs.dead))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["state"], "cancelled");
    assert_eq!(app.audit_count("job.cancel").await, 1);

    let res = post(&client, url(&format!("/{}/retry", jobs.dead))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "job-not-dead");
    assert_eq!(
        body["error"]["message"],
        format!(
            "Job {} is cancelled: only a dead job can be retried",
            jobs.dead
        )
    );
    assert_eq!(job_row(&app, jobs.dead).0, "cancelled");
    assert_eq!(app.audit_count("job.retry").await, 1);

    // An unknown state is a 422 naming the field.
    let res = client.get(url("?state=asleep")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["details"][0]["field"], "state", "{body}");

    // A read-only token may look but not act.
    let reader = api(&create_token(&app, admin.id, "read").await);
    let res = reader.get(url("")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = post(&reader, url(&format!("/{}/cancel", jobs.failed))).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(job_row(&app, jobs.failed).0, "failed");
}

#[tokio::test]
async fn managers_get_403_on_the_pages_and_the_api() {
    let app = spawn_app().await;
    let jobs = seed(&app);
    let (b, manager) = app.browser_as("manager").await;
    assert_eq!(b.get("/admin/jobs").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        b.get(&format!("/admin/jobs/{}", jobs.dead)).await.status(),
        StatusCode::FORBIDDEN
    );
    let res = b
        .post_form(&format!("/admin/jobs/{}/retry", jobs.dead), &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let html = b.get_html("/").await;
    assert!(
        !html.contains(r#"href="/admin/jobs""#),
        "no Jobs in the navigation"
    );

    let client = api(&create_token(&app, manager.id, "write").await);
    for path in ["/api/v1/jobs", "/api/v1/jobs/stats"] {
        let res = client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let res = client
        .post(format!("{}/api/v1/jobs/{}/retry", app.address, jobs.dead))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(job_row(&app, jobs.dead), ("dead".to_string(), 3));
    assert_eq!(app.audit_count("job.retry").await, 0);
}

#[tokio::test]
async fn admins_see_jobs_in_the_navigation() {
    let app = spawn_app().await;
    let (b, _) = app.browser_as("admin").await;
    let html = b.get_html("/").await;
    let tokens = html.find(r#"href="/admin/tokens""#).unwrap();
    let jobs = html
        .find(r#"href="/admin/jobs""#)
        .expect("Jobs in the navigation");
    assert!(tokens < jobs, "after API tokens");
}

#[tokio::test]
async fn a_dismissed_dead_job_no_longer_needs_a_person_and_a_retry_counts_it_again() {
    let app = spawn_app().await;
    let jobs = seed(&app);
    let (b, _) = app.browser_as("admin").await;
    let dead_count = |app: &TestApp| {
        let db = app.db().clone();
        let now = app.clock.now();
        async move {
            db.read(move |c| stockroom::jobs::stats(c, now).map_err(stockroom::db::DbError::from))
                .await
                .unwrap()
                .dead
        }
    };
    assert_eq!(dead_count(&app).await, 1);
    let ready: Value = b.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["status"], "degraded", "{ready}");

    let page = b.get_html(&format!("/admin/jobs/{}", jobs.dead)).await;
    assert!(page.contains(&format!(r#"action="/admin/jobs/{}/dismiss""#, jobs.dead)));
    let res = b
        .post_form(&format!("/admin/jobs/{}/dismiss", jobs.dead), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(dead_count(&app).await, 0, "dismissed: not counted");
    assert_eq!(job_row(&app, jobs.dead).0, "dead", "still in the history");
    assert_eq!(app.audit_count("job.dismiss").await, 1);
    let page = b.get_html(&format!("/admin/jobs/{}", jobs.dead)).await;
    assert!(page.contains("dismissed by admin-user"), "{page}");
    assert!(!page.contains("/dismiss\""), "no second dismissal offered");
    let ready: Value = b.get("/readyz").await.json().await.unwrap();
    let checks = ready["checks"].as_array().unwrap();
    let jobs_check = checks.iter().find(|c| c["name"] == "jobs").unwrap();
    assert_eq!(jobs_check["status"], "ok", "{ready}");

    // Dismissed twice: refused with the reason, nothing changes.
    let res = b
        .post_form(&format!("/admin/jobs/{}/dismiss", jobs.dead), &[])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("only a dead job not yet resolved can be dismissed")
    );
    assert_eq!(app.audit_count("job.dismiss").await, 1);
    // A queued job cannot be dismissed.
    let res = b
        .post_form(&format!("/admin/jobs/{}/dismiss", jobs.queued), &[])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(app.audit_count("job.dismiss").await, 1);
    // Retried, it counts again if it dies again.
    b.post_form(&format!("/admin/jobs/{}/retry", jobs.dead), &[])
        .await;
    let resolved: Option<String> = app
        .raw_connection()
        .query_row(
            "SELECT resolved_at FROM jobs WHERE id = ?1",
            [jobs.dead],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(resolved, None);
}
