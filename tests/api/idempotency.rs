//! Idempotency keys: a request sent again after a lost answer, or twice by
//! a double tap, is carried out once.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;
use crate::stock::{Practice, movement, practice};

async fn movements(p: &Practice) -> i64 {
    p.app.scalar("SELECT count(*) FROM stock_movements").await
}

async fn post_keyed(p: &Practice, key: &str, body: &Value) -> reqwest::Response {
    p.staff
        .post(p.url("/api/v1/movements"))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn receipt_with_stock(p: &Practice) {
    let res = post_json(
        &p.staff,
        p.url("/api/v1/movements"),
        &movement("receipt", p.item, p.cabinet, 20),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_same_key_and_body_again_is_answered_from_the_first_and_books_nothing() {
    let p = practice().await;
    receipt_with_stock(&p).await;
    let before = movements(&p).await;
    let body = movement("consumption", p.item, p.cabinet, -2);

    let first = post_keyed(&p, "scan-7f3a", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();

    let again = post_keyed(&p, "scan-7f3a", &body).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(
        again.headers()["idempotent-replayed"].to_str().unwrap(),
        "true"
    );
    assert!(
        again.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first, "the first answer, word for word");
    assert_eq!(movements(&p).await, before + 1, "booked once");
    assert_eq!(
        p.app.scalar("SELECT sum(quantity) FROM stock_levels").await,
        18
    );

    // Without a key, a repeat is a new movement, as before.
    for _ in 0..2 {
        let res = post_json(&p.staff, p.url("/api/v1/movements"), &body).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    assert_eq!(movements(&p).await, before + 3);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused_and_changes_nothing() {
    let p = practice().await;
    receipt_with_stock(&p).await;
    let res = post_keyed(&p, "k-1", &movement("consumption", p.item, p.cabinet, -2)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let before = movements(&p).await;

    let res = post_keyed(&p, "k-1", &movement("consumption", p.item, p.cabinet, -3)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "idempotency-key-reused");
    assert_eq!(body["error"]["details"][0]["field"], "Idempotency-Key");
    assert_eq!(movements(&p).await, before);

    // Another endpoint with the same key is another request too.
    let res = p
        .staff
        .post(p.url("/api/v1/transfers"))
        .header("Idempotency-Key", "k-1")
        .json(
            &serde_json::json!({"item_id": p.item, "from_location_id": p.cabinet,
            "to_location_id": p.fridge, "quantity": 1, "lot": "L42", "expiry": "2071-03-31"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(movements(&p).await, before);
}

#[tokio::test]
async fn a_bad_key_is_refused_before_anything_is_written() {
    let p = practice().await;
    let before = movements(&p).await;
    for bad in ["", "has space", &"x".repeat(201), "café"] {
        let res = p
            .staff
            .post(p.url("/api/v1/movements"))
            .header("Idempotency-Key", bad.as_bytes())
            .json(&movement("receipt", p.item, p.cabinet, 5))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "idempotency-key-invalid", "{bad:?}");
    }
    assert_eq!(movements(&p).await, before);
}

#[tokio::test]
async fn copies_sent_at_the_same_time_are_carried_out_once() {
    let p = practice().await;
    let before = movements(&p).await;
    let body = movement("receipt", p.item, p.cabinet, 5);
    let sends = (0..8).map(|_| post_keyed(&p, "burst-1", &body));
    let answers = futures_util::future::join_all(sends).await;
    let mut ids = Vec::new();
    let mut replayed = 0;
    for res in answers {
        assert_eq!(res.status(), StatusCode::CREATED);
        if res.headers().contains_key("idempotent-replayed") {
            replayed += 1;
        }
        let v: Value = res.json().await.unwrap();
        ids.push(v["id"].as_i64().unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one movement, answered eight times");
    assert_eq!(replayed, 7);
    assert_eq!(movements(&p).await, before + 1);
}

#[tokio::test]
async fn a_request_refused_for_its_input_leaves_the_key_free() {
    let p = practice().await;
    let before = movements(&p).await;
    // More than is there: refused, nothing written, so no key is kept.
    let res = post_keyed(&p, "k-2", &movement("consumption", p.item, p.cabinet, -5)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(
        p.app.scalar("SELECT count(*) FROM idempotency_keys").await,
        0
    );
    // The corrected request may use the same key.
    let res = post_keyed(&p, "k-2", &movement("receipt", p.item, p.cabinet, 5)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(movements(&p).await, before + 1);
}

#[tokio::test]
async fn keys_belong_to_the_user_who_sent_them() {
    let p = practice().await;
    let before = movements(&p).await;
    let body = movement("receipt", p.item, p.cabinet, 5);
    let res = post_keyed(&p, "shared", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = p
        .manager
        .post(p.url("/api/v1/movements"))
        .header("Idempotency-Key", "shared")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_eq!(movements(&p).await, before + 2);
}

/// The key is written in the same transaction as the movement; should the
/// server stop before the answer is kept, the retry is told the request
/// was carried out instead of being booked again. The stop is simulated
/// by removing the kept answer from the row.
#[tokio::test]
async fn a_retry_whose_first_answer_was_lost_is_told_so_and_books_nothing() {
    let p = practice().await;
    let before = movements(&p).await;
    let body = movement("receipt", p.item, p.cabinet, 5);
    let res = post_keyed(&p, "lost-1", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    p.app
        .raw_connection()
        .execute(
            "UPDATE idempotency_keys SET status = NULL, headers = NULL, body = NULL",
            [],
        )
        .unwrap();
    let res = post_keyed(&p, "lost-1", &body).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"]["code"], "idempotency-key-answer-lost");
    assert_eq!(movements(&p).await, before + 1);
}

#[tokio::test]
async fn keys_older_than_a_day_are_forgotten() {
    let p = practice().await;
    let before = movements(&p).await;
    let body = movement("receipt", p.item, p.cabinet, 5);
    assert_eq!(
        post_keyed(&p, "old", &body).await.status(),
        StatusCode::CREATED
    );
    p.app
        .raw_connection()
        .execute(
            "UPDATE idempotency_keys SET created_at = '2020-01-01T00:00:00.000Z'",
            [],
        )
        .unwrap();
    let res = post_keyed(&p, "old", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_eq!(movements(&p).await, before + 2);
}

/// A double-tapped "Use" sends the form twice with the key it was drawn
/// with: one movement, and both answers lead back to the form with the
/// confirmation.
#[tokio::test]
async fn a_double_tapped_form_books_once_and_both_taps_see_the_confirmation() {
    let p = practice().await;
    receipt_with_stock(&p).await;
    let before = movements(&p).await;
    let b = p.app.new_browser();
    assert_eq!(
        b.login("sam", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let html = b.get_html("/stock/use").await;
    let key = extract(&html, r#"name="idempotency_key" value=""#).expect("the form has a key");
    let again = b.get_html("/stock/use").await;
    assert_ne!(
        extract(&again, r#"name="idempotency_key" value=""#).unwrap(),
        key,
        "each drawing of the form has its own key"
    );
    let cabinet = p.cabinet.to_string();
    let fields = [
        ("item", "LID-1"),
        ("location_id", cabinet.as_str()),
        ("lot", "L42"),
        ("expiry", "2071-03-31"),
        ("quantity", "2"),
        ("idempotency_key", key.as_str()),
    ];
    let (one, two) = tokio::join!(
        b.post_form("/stock/use", &fields),
        b.post_form("/stock/use", &fields)
    );
    for res in [&one, &two] {
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(res), "/stock/use");
        let flash = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("stockroom_flash="));
        assert!(flash, "each answer carries the confirmation");
    }
    assert_eq!(movements(&p).await, before + 1);
    assert_eq!(
        p.app.scalar("SELECT sum(quantity) FROM stock_levels").await,
        18
    );
}

/// A scanner on flaky Wi-Fi gives up waiting and sends again. The server
/// carries on with the first request although its client has gone, keeps
/// the answer, and gives it to the retry.
/// The writer held by a long write on a thread of its own, until
/// [`HeldWriter::release`]; `then` runs on it just before it lets go.
struct HeldWriter {
    release: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl HeldWriter {
    /// Returns once the writer is held.
    async fn hold(p: &Practice, then: impl FnOnce(&rusqlite::Connection) + Send + 'static) -> Self {
        let db = p.app.db().clone();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (held_tx, held_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let w = db.writer().unwrap();
            held_tx.send(()).unwrap();
            let _ = wait.recv_timeout(std::time::Duration::from_secs(5));
            then(&w);
            drop(w);
        });
        held_rx.await.unwrap();
        HeldWriter { release, thread }
    }

    fn release(self) {
        self.release.send(()).unwrap();
        self.thread.join().unwrap();
    }
}

/// A first call with `client`: it notes when the token was last used,
/// which writes, so that later calls go straight to their own write.
async fn warm(p: &Practice, client: &reqwest::Client) {
    let res = client.get(p.url("/api/v1/items")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// Waits until some write waits for the writer.
async fn until_a_write_is_queued(p: &Practice) {
    let since = std::time::Instant::now();
    while p.app.db().unanswered_writes() == 0 {
        assert!(since.elapsed().as_secs() < 10, "the write was never queued");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// `post_keyed` as a task of its own, answered later.
fn spawn_keyed(
    p: &Practice,
    key: &'static str,
    body: &Value,
) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let (staff, url, body) = (p.staff.clone(), p.url("/api/v1/movements"), body.clone());
    tokio::spawn(async move {
        staff
            .post(url)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_gave_up_waiting_gets_the_first_answer_when_it_retries() {
    let p = practice().await;
    let before = movements(&p).await;
    let body = movement("receipt", p.item, p.cabinet, 5);
    warm(&p, &p.staff).await;
    // The writer is busy (a long write) for a while.
    let writer = HeldWriter::hold(&p, |_| {}).await;
    let impatient = spawn_keyed(&p, "gave-up", &body);
    // Its write waits for the writer; then the client gives up (the
    // connection is closed).
    until_a_write_is_queued(&p).await;
    impatient.abort();
    assert!(impatient.await.is_err(), "the client gave up");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    writer.release();
    let res = post_keyed(&p, "gave-up", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        res.headers()["idempotent-replayed"].to_str().unwrap(),
        "true"
    );
    assert_eq!(movements(&p).await, before + 1);
}

#[tokio::test]
async fn a_connection_reset_while_the_write_waits_does_not_let_a_retry_book_again() {
    use tokio::io::AsyncWriteExt;
    let p = practice().await;
    let token = create_token(&p.app, p.staff_id, "write").await;
    warm(&p, &api(&token)).await;
    let before = movements(&p).await;
    let body = movement("receipt", p.item, p.cabinet, 5);
    // The writer is busy (a long write) for a moment.
    let writer = HeldWriter::hold(&p, |_| {}).await;
    // A scanner sends the request, then its Wi-Fi drops: the connection is
    // reset (not closed) while the request waits for the writer.
    let json = body.to_string();
    let addr = p.app.address.trim_start_matches("http://").to_string();
    let mut raw = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "POST /api/v1/movements HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
         idempotency-key: reset\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{json}",
        json.len()
    );
    raw.write_all(request.as_bytes()).await.unwrap();
    until_a_write_is_queued(&p).await;
    raw.set_zero_linger().unwrap();
    drop(raw);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    // It retries at once, while the first is still waiting.
    let retry = spawn_keyed(&p, "reset", &body);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    writer.release();
    let res = retry.await.unwrap().unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        res.headers()["idempotent-replayed"].to_str().unwrap(),
        "true",
        "the retry gets the answer of the first request"
    );
    assert_eq!(movements(&p).await, before + 1, "booked once");
}

#[tokio::test]
async fn a_key_recorded_meanwhile_by_another_writer_undoes_the_request() {
    let p = practice().await;
    let before = movements(&p).await;
    let body = movement("receipt", p.item, p.cabinet, 5);
    warm(&p, &p.staff).await;
    // The request has looked its key up and waits for the writer; the
    // writer records the same key first (as a second server on the same
    // data would, if the directory lock did not stop it).
    let scope = format!("user:{}", p.staff_id);
    let writer = HeldWriter::hold(&p, move |w| {
        w.execute(
            "INSERT INTO idempotency_keys (scope, idempotency_key, fingerprint, created_at)
             VALUES (?1, 'raced', 'another', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            [scope],
        )
        .unwrap();
    })
    .await;
    let first = spawn_keyed(&p, "raced", &body);
    until_a_write_is_queued(&p).await;
    writer.release();
    let res = first.await.unwrap().unwrap();
    let status = res.status();
    assert!(
        status.is_server_error(),
        "{status} {}",
        res.text().await.unwrap()
    );
    assert_eq!(movements(&p).await, before, "nothing booked");
}
