//! Idempotency keys: a request sent twice is carried out once.
//!
//! A scanner on practice Wi-Fi that loses an answer sends the request
//! again; a nurse double-taps "Use". Routes that create things (marked
//! `.idempotent()` in the route table) accept a key: the `Idempotency-Key`
//! header from API clients, or the `idempotency_key` field every such form
//! carries (a fresh one each time the form is drawn).
//!
//! - The first request with a key runs as usual. The key, with a
//!   fingerprint of the request (method, path and body), is written in the
//!   same transaction as the request's first write ([`crate::db::Alongside`]),
//!   so the two are durable together; the answer is stored just after.
//! - The same key and the same request within 24 hours gets the stored
//!   answer back (header `Idempotent-Replayed: true`) and writes nothing.
//!   A copy that arrives while the first is still running waits for it.
//! - The same key with another request is refused (422
//!   `idempotency-key-reused`).
//! - If the first request wrote but its answer was not kept (the server
//!   stopped in between, or it ended in an error), a retry is told so
//!   (409 `idempotency-key-answer-lost`) rather than carried out again.
//!
//! A request that wrote nothing (a form with mistakes) leaves no trace: it
//! may be sent again with the same key. Keys belong to the user who sent
//! them; stockroom is one process per data directory, so requests in
//! flight are tracked in memory.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{Error, HttpMessage, HttpResponse};
use futures_util::StreamExt;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::refuse;
use crate::db::{Alongside, DbError};
use crate::domain::Timestamp;
use crate::domain::refusal::{Code, Refusal};
use crate::web::context::Principal;
use crate::web::error::AppError;
use crate::web::render::FLASH_COOKIE;
use crate::web::state::AppState;

pub const HEADER: &str = "idempotency-key";
pub const FIELD: &str = "idempotency_key";
/// Marks an answer given again from the store.
pub const REPLAYED: &str = "idempotent-replayed";

/// How long a key is remembered.
pub const KEPT: Duration = Duration::from_secs(24 * 60 * 60);
/// Answers larger than this are not kept (creating requests answer with a
/// redirect or a small JSON record).
const LARGEST_KEPT_ANSWER: usize = 256 * 1024;
const LARGEST_KEPT_ANSWER_U64: u64 = LARGEST_KEPT_ANSWER as u64;

pub const KEY_INVALID: Code = Code::not_usable(
    "idempotency-key-invalid",
    "The `Idempotency-Key` is not 1 to 200 visible ASCII characters.",
);
pub const KEY_REUSED: Code = Code::not_usable(
    "idempotency-key-reused",
    "The `Idempotency-Key` was used in the last 24 hours for a different request (another path or body); a new request needs a new key.",
);
pub const ANSWER_LOST: Code = Code::conflict(
    "idempotency-key-answer-lost",
    "A request with this `Idempotency-Key` was carried out, but its answer was not kept (the server stopped before answering, or the answer was an error); look the record up instead of sending it again.",
);
pub const REFUSALS: &[Code] = &[KEY_INVALID, KEY_REUSED, ANSWER_LOST];

/// Requests running now, by (scope, key): a copy waits for the first.
type InFlight = Mutex<HashMap<(String, String), Arc<tokio::sync::Mutex<()>>>>;
static IN_FLIGHT: LazyLock<InFlight> = LazyLock::new(Default::default);

pub async fn idempotent(
    mut req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let scope = req
        .extensions()
        .get::<Principal>()
        .and_then(Principal::user)
        .map(|user| format!("user:{}", user.id));
    let Some(scope) = scope else {
        return next.call(req).await;
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .expect("app state is registered");
    let header_key = match req.headers().get(HEADER) {
        Some(v) => match v.to_str().ok().filter(|k| valid(k)) {
            Some(k) => Some(k.to_string()),
            None => return Ok(refuse_with(req, invalid_key())),
        },
        None => None,
    };
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if header_key.is_none() && !form {
        return next.call(req).await;
    }
    let body = match read_body(&mut req, state.config.http.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return Ok(refuse_with(req, e)),
    };
    let key = match header_key {
        Some(k) => Some(k),
        None => match form_key(&body) {
            Some(k) if valid(&k) => Some(k),
            Some(_) => return Ok(refuse_with(req, invalid_key())),
            None => None,
        },
    };
    let Some(key) = key else {
        req.set_payload(actix_web::dev::Payload::from(body));
        return next.call(req).await;
    };
    let fingerprint = fingerprint(&req, &body);
    req.set_payload(actix_web::dev::Payload::from(body));

    // The request runs in a task of its own, holding its key until the
    // answer is kept: a client whose connection drops (a reset, a TLS
    // session cut short) must not end the request half-way and free the
    // key while its write still waits in the queue, or the retry would
    // carry it out a second time.
    let work = actix_web::rt::spawn(async move {
        // One request per key at a time: a copy waits, then finds the answer.
        let slot = IN_FLIGHT
            .lock()
            .expect("in-flight keys")
            .entry((scope.clone(), key.clone()))
            .or_default()
            .clone();
        let turn = slot.clone().lock_owned().await;
        let outcome = run_once(req, next, &state, &scope, &key, fingerprint).await;
        drop(turn);
        let mut map = IN_FLIGHT.lock().expect("in-flight keys");
        // Ours and the map's: nobody else is waiting on this key.
        if Arc::strong_count(&slot) == 2 {
            map.remove(&(scope, key));
        }
        outcome
    });
    match work.await {
        Ok(outcome) => outcome,
        Err(e) => Err(AppError::internal(anyhow::anyhow!("a keyed request stopped: {e}")).into()),
    }
}

async fn run_once(
    req: ServiceRequest,
    next: Next<BoxBody>,
    state: &AppState,
    scope: &str,
    key: &str,
    fingerprint: String,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let now = state.clock.now();
    let since = now.minus(KEPT).to_db();
    let since_for_write = since.clone();
    let (s, k) = (scope.to_string(), key.to_string());
    let earlier = state
        .db
        .read(move |c| {
            c.query_row(
                "SELECT fingerprint, status, headers, body FROM idempotency_keys
                 WHERE scope = ?1 AND idempotency_key = ?2 AND created_at > ?3",
                params![s, k, since],
                |r| {
                    Ok(Earlier {
                        fingerprint: r.get(0)?,
                        status: r.get(1)?,
                        headers: r.get(2)?,
                        body: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(DbError::from)
        })
        .await
        .map_err(AppError::from);
    match earlier {
        Err(e) => return Ok(refuse_with(req, e)),
        Ok(Some(earlier)) if earlier.fingerprint != fingerprint => {
            return Ok(refuse_with(
                req,
                AppError::Refused(Refusal::on_field(
                    KEY_REUSED,
                    "Idempotency-Key",
                    "this idempotency key was already used for a different request; send a new request with a new key",
                )),
            ));
        }
        Ok(Some(earlier)) => {
            return Ok(match earlier.answer() {
                Some(answer) => {
                    tracing::info!(scope, "repeated request answered from its idempotency key");
                    let (req, _) = req.into_parts();
                    ServiceResponse::new(req, answer)
                }
                None => refuse_with(
                    req,
                    AppError::Refused(Refusal::new(
                        ANSWER_LOST,
                        "this was already carried out, but its answer was lost; look it up (for example in the list of movements or orders) instead of sending it again",
                    )),
                ),
            });
        }
        Ok(None) => {}
    }

    let (s, k, created) = (scope.to_string(), key.to_string(), now.to_db());
    let alongside = Arc::new(Alongside::new(move |tx| {
        // An expired row for the same key is replaced; a live one means
        // the key was taken meanwhile, and this write must not be kept.
        let written = tx.execute(
            "INSERT INTO idempotency_keys (scope, idempotency_key, fingerprint, created_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (scope, idempotency_key) DO UPDATE SET
                 fingerprint = excluded.fingerprint, created_at = excluded.created_at,
                 status = NULL, headers = NULL, body = NULL
             WHERE idempotency_keys.created_at <= ?5",
            params![s, k, fingerprint, created, since_for_write],
        )?;
        if written != 1 {
            return Err(DbError::Group(
                "the idempotency key was recorded by another request meanwhile".into(),
            ));
        }
        Ok(())
    }));
    let res = alongside.around(next.call(req)).await?;
    if !alongside.committed() {
        return Ok(res);
    }
    keep_answer(res, state, scope, key).await
}

/// Stores the answer of a request whose key was committed, and gives it on.
async fn keep_answer(
    res: ServiceResponse<BoxBody>,
    state: &AppState,
    scope: &str,
    key: &str,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let status = res.status();
    if status.as_u16() >= 400 {
        // An error rendered later by the error-page layer: not kept, and a
        // retry is told that the request was carried out.
        return Ok(res);
    }
    // Only a small answer of known size is kept (creating requests answer
    // with a redirect or a small record); a larger one goes to the client
    // as it is, and a retry is told that the request was carried out.
    let small = matches!(
        res.response().body().size(),
        actix_web::body::BodySize::None
            | actix_web::body::BodySize::Sized(0..=LARGEST_KEPT_ANSWER_U64)
    );
    if !small {
        tracing::warn!(scope, "the answer to a keyed request is too large to keep");
        return Ok(res);
    }
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let bytes = match body.try_into_bytes() {
        Ok(b) => b,
        Err(body) => actix_web::body::to_bytes_limited(body, LARGEST_KEPT_ANSWER)
            .await
            .map_err(|_| AppError::internal(anyhow::anyhow!("the answer outgrew its size")))?
            .map_err(|e| AppError::internal(anyhow::anyhow!("reading the answer: {e}")))?,
    };
    let headers: Vec<(String, String)> = head
        .headers()
        .iter()
        .filter(|(name, value)| {
            *name != header::SET_COOKIE
                || value
                    .to_str()
                    .is_ok_and(|v| v.starts_with(&format!("{FLASH_COOKIE}=")))
        })
        .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let (s, k, b) = (scope.to_string(), key.to_string(), bytes.to_vec());
    let headers_json = serde_json::to_string(&headers).map_err(AppError::internal)?;
    let stored = state
        .db
        .write(move |tx| {
            tx.execute(
                "UPDATE idempotency_keys SET status = ?3, headers = ?4, body = ?5
                 WHERE scope = ?1 AND idempotency_key = ?2",
                params![s, k, status.as_u16(), headers_json, b],
            )
            .map_err(DbError::from)
        })
        .await;
    if let Err(e) = stored {
        // The change itself is saved; a retry will be told so.
        tracing::warn!(error = %e, "could not keep the answer for an idempotency key");
    }
    Ok(ServiceResponse::new(
        req,
        head.set_body(BoxBody::new(bytes)),
    ))
}

struct Earlier {
    fingerprint: String,
    status: Option<u16>,
    headers: Option<String>,
    body: Option<Vec<u8>>,
}

impl Earlier {
    /// The stored answer, if one was kept.
    fn answer(self) -> Option<HttpResponse> {
        let status = StatusCode::from_u16(self.status?).ok()?;
        let headers: Vec<(String, String)> = serde_json::from_str(self.headers.as_deref()?).ok()?;
        let mut res = HttpResponse::build(status);
        for (name, value) in headers {
            res.append_header((name, value));
        }
        res.insert_header((REPLAYED, "true"));
        Some(res.body(self.body.unwrap_or_default()))
    }
}

/// 1 to 200 visible ASCII characters (a UUID, a ULID, a random token).
fn valid(key: &str) -> bool {
    (1..=200).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

fn invalid_key() -> AppError {
    AppError::Refused(Refusal::on_field(
        KEY_INVALID,
        "Idempotency-Key",
        "the idempotency key must be 1 to 200 visible ASCII characters",
    ))
}

fn refuse_with(req: ServiceRequest, e: AppError) -> ServiceResponse<BoxBody> {
    let (req, _) = req.into_parts();
    refuse(req, e)
}

fn form_key(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v)
}

/// What makes two requests the same: method, path with query, body.
fn fingerprint(req: &ServiceRequest, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(req.method().as_str());
    h.update(b"\n");
    h.update(req.uri().path_and_query().map_or("", |p| p.as_str()));
    h.update(b"\n");
    h.update(body);
    hex::encode(h.finalize())
}

async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<Bytes, AppError> {
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::unreadable_body(&e))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Forgets keys older than [`KEPT`]; returns how many.
pub fn purge(tx: &rusqlite::Transaction, now: Timestamp) -> Result<usize, DbError> {
    Ok(tx.execute(
        "DELETE FROM idempotency_keys WHERE created_at <= ?1",
        [now.minus(KEPT).to_db()],
    )?)
}
