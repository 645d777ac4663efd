//! The audit trail: who did what, when, from where — one hash-chained table.
//!
//! [`record`] is the single entry point and takes the caller's transaction,
//! so an audit row exists if and only if the change it describes committed.
//! Each row stores the previous row's hash and the SHA-256 of its own
//! canonical content; [`verify`] walks the chain and names the first row that
//! was edited, deleted or inserted. The chain has no secret key: someone able
//! to rewrite the whole table from a given row on can forge it, which the
//! off-box backups (whose copies anchor earlier states) are there to expose.

use crate::db::Cached;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::Timestamp;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

use crate::domain::actor::Actor;

/// How an actor is written into an audit row: kind, id, name.
fn columns(actor: &Actor) -> (&'static str, Option<i64>, String) {
    match actor {
        Actor::User(p) => ("user", Some(p.id), p.username.clone()),
        Actor::Token { id, name, .. } => ("token", Some(*id), name.clone()),
        Actor::System => ("system", None, "system".into()),
        // A supplier has no account here; the row names the link or file.
        Actor::Supplier { via } => ("anonymous", None, via.clone()),
        Actor::Anonymous { claimed } => (
            "anonymous",
            None,
            claimed.clone().unwrap_or_else(|| "anonymous".into()),
        ),
    }
}

/// Where the change came from: the actor plus the request that carried it.
#[derive(Debug, Clone)]
pub struct Context {
    pub actor: Actor,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub at: Timestamp,
}

impl Context {
    pub fn system(at: Timestamp) -> Self {
        Context {
            actor: Actor::System,
            ip: None,
            request_id: None,
            at,
        }
    }

    pub fn with_actor(&self, actor: Actor) -> Self {
        Context {
            actor,
            ..self.clone()
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Default)]
pub struct Event {
    /// Dotted verb, e.g. `user.create`, `auth.login_failed`.
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Event {
    pub fn new(action: &'static str, entity_type: &'static str, entity_id: impl ToString) -> Self {
        Event {
            action,
            entity_type,
            entity_id: Some(entity_id.to_string()),
            ..Event::default()
        }
    }

    pub fn before(mut self, v: Value) -> Self {
        self.before = Some(v);
        self
    }

    pub fn after(mut self, v: Value) -> Self {
        self.after = Some(v);
        self
    }
}

/// Appends one row to the chain inside the caller's transaction.
pub fn record(tx: &Transaction, ctx: &Context, event: Event) -> rusqlite::Result<i64> {
    let prev_hash: String = tx
        .row_cached(
            "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_else(|| GENESIS.to_string());
    // The next id follows the highest id ever used (AUTOINCREMENT keeps it),
    // not the highest present: rows deleted from the end leave a gap that
    // `verify` reports even after new rows are written.
    let highest: Option<i64> = tx
        .row_cached(
            "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let id = highest.unwrap_or(0) + 1;
    let (kind, actor_id, actor_name) = columns(&ctx.actor);
    let row = Row {
        id,
        at: ctx.at.to_db(),
        actor_kind: kind.to_string(),
        actor_id,
        actor_name,
        action: event.action.to_string(),
        entity_type: event.entity_type.to_string(),
        entity_id: event.entity_id,
        before_json: event.before.map(|v| v.to_string()),
        after_json: event.after.map(|v| v.to_string()),
        ip: ctx.ip.clone(),
        request_id: ctx.request_id.clone(),
        prev_hash,
    };
    let hash = row.hash();
    tx.exec_cached(
        "INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_name, action, entity_type, entity_id,
            before_json, after_json, ip, request_id, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            row.id, row.at, row.actor_kind, row.actor_id, row.actor_name, row.action,
            row.entity_type, row.entity_id, row.before_json, row.after_json, row.ip,
            row.request_id, row.prev_hash, hash
        ],
    )?;
    Ok(id)
}

/// One stored row as text, exactly as hashed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub id: i64,
    pub at: String,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
}

impl Row {
    /// SHA-256 over a JSON array of every column but `hash`, in a fixed order.
    fn hash(&self) -> String {
        let canonical = serde_json::json!([
            self.id,
            self.at,
            self.actor_kind,
            self.actor_id,
            self.actor_name,
            self.action,
            self.entity_type,
            self.entity_id,
            self.before_json,
            self.after_json,
            self.ip,
            self.request_id,
            self.prev_hash
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

const SELECT_ROW: &str =
    "SELECT id, at, actor_kind, actor_id, actor_name, action, entity_type, entity_id,
        before_json, after_json, ip, request_id, prev_hash, hash FROM audit_log";

fn map_row(r: &rusqlite::Row) -> rusqlite::Result<(Row, String)> {
    Ok((
        Row {
            id: r.get(0)?,
            at: r.get(1)?,
            actor_kind: r.get(2)?,
            actor_id: r.get(3)?,
            actor_name: r.get(4)?,
            action: r.get(5)?,
            entity_type: r.get(6)?,
            entity_id: r.get(7)?,
            before_json: r.get(8)?,
            after_json: r.get(9)?,
            ip: r.get(10)?,
            request_id: r.get(11)?,
            prev_hash: r.get(12)?,
        },
        r.get(13)?,
    ))
}

/// The newest rows first, for the audit page.
pub fn recent(conn: &Connection, limit: u32, before_id: Option<i64>) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT_ROW} WHERE id < ?1 ORDER BY id DESC LIMIT ?2"
    ))?;
    stmt.query_map(params![before_id.unwrap_or(i64::MAX), limit], |r| {
        map_row(r).map(|(row, _)| row)
    })?
    .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBroken {
    #[error("row {id}: its content does not match its hash (the row was edited)")]
    Edited { id: i64 },
    #[error("row {id}: it does not follow row {prev_id} (a row was inserted, deleted or edited)")]
    Unlinked { id: i64, prev_id: i64 },
    #[error("row {id}: rows {missing_from} to {missing_to} are missing (deleted)")]
    Missing {
        id: i64,
        missing_from: i64,
        missing_to: i64,
    },
    #[error("rows after {last_id} up to {expected_last} are missing (deleted from the end)")]
    TailMissing { last_id: i64, expected_last: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the audit chain is broken at {0}")]
    Broken(#[from] ChainBroken),
    #[error("cannot read the audit log: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Walks the whole chain; returns the number of good rows or the first bad one.
pub fn verify(conn: &Connection) -> Result<u64, VerifyError> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT_ROW} ORDER BY id"))?;
    let mut rows = stmt.query([])?;
    let mut prev_id = 0_i64;
    let mut prev_hash = GENESIS.to_string();
    let mut count = 0_u64;
    while let Some(r) = rows.next()? {
        let (row, stored_hash) = map_row(r)?;
        if row.hash() != stored_hash {
            return Err(ChainBroken::Edited { id: row.id }.into());
        }
        if row.id != prev_id + 1 {
            return Err(ChainBroken::Missing {
                id: row.id,
                missing_from: prev_id + 1,
                missing_to: row.id - 1,
            }
            .into());
        }
        if row.prev_hash != prev_hash {
            return Err(ChainBroken::Unlinked {
                id: row.id,
                prev_id,
            }
            .into());
        }
        prev_id = row.id;
        prev_hash = stored_hash;
        count += 1;
    }
    // AUTOINCREMENT remembers the highest id ever used.
    let highest: Option<i64> = conn
        .row_cached(
            "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(highest) = highest
        && highest > prev_id
    {
        return Err(ChainBroken::TailMissing {
            last_id: prev_id,
            expected_last: highest,
        }
        .into());
    }
    Ok(count)
}

#[cfg(test)]
mod tests;
