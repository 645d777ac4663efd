//! Reading EDI suppliers' answers back: the `edi.inbox` job looks into the
//! inbox folder of every supplier that trades by X12 and takes up each
//! file there — an 855 acknowledgment updates the order and records each
//! line's answer, an 856 ship notice sets the expected delivery and
//! records the shipped lots for the receive screen.
//!
//! Each file is taken up exactly once, and never silently dropped:
//!
//! 1. its SHA-256 is its identity; a file whose content is already
//!    recorded for the supplier is not applied again;
//! 2. it is parsed, then applied and recorded in one write transaction —
//!    all of it, or nothing of it plus a `rejected` row with a reason a
//!    practice admin can act on;
//! 3. only after the commit is it moved out of the inbox, into
//!    `processed/` or into `rejected/` beside a `<name>.reason.txt`.
//!
//! Stopping between 2 and 3 leaves a recorded file in the inbox; the next
//! run finds its row and only finishes the move. A file for an order that
//! is still being sent (queued) waits in the inbox for the next run.
//! Dot-files, names that upload tools use while writing (`.tmp`, `.part`
//! …) and files changed within the last few seconds are left for later,
//! so a file still being copied in is not read half-written.

mod ack855;
mod answers;
mod apply;
mod ship856;

#[cfg(test)]
mod tests;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, Transaction};
use sha2::{Digest, Sha256};

use super::csv_folder::write_atomic;
use super::folder::{Folder, Kind as EntryKind};
use super::{Channel, Dispatcher, x12};
use crate::audit::{self, Context, Event};
use crate::db::{Cached, Db, DbError};
use crate::domain::Timestamp;
use crate::jobs::NewJob;
use crate::jobs::kind::{JobKind, Occasion};
use crate::jobs::worker::{JobContext, JobError, Kind};
use crate::orders::Env;

pub use answers::{
    Answers, ExpectedLot, InboundFile, InboxInfo, LineAnswer, Shipment, ShippedLine, answers,
    edi_inboxes, expected_lots, over_shipped, recent_files,
};
pub use apply::Outcome;

/// The job kind that looks into the EDI inboxes.
pub const INBOX_KIND: &str = JobKind::EDI_INBOX;

/// Where taken-up files go, inside each inbox.
pub const PROCESSED: &str = "processed";
pub const REJECTED: &str = "rejected";

/// Files larger than this are rejected unread: no 855 or 856 of a
/// practice's order comes near it.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// A file changed more recently than this may still be being copied in.
pub const SETTLE: Duration = Duration::from_secs(5);

/// How often the inboxes are looked into.
pub const POLL_SECONDS: i64 = 300;

/// Queues the next look at the inboxes, at the start of the next
/// five-minute slot, once per slot (by key) — when some supplier has an
/// inbox. Each look queues the next before it starts, so polling goes on
/// across failures and restarts (the queued job is in the database) and
/// stops by itself when no supplier has an inbox any more. Saving an EDI
/// channel with an inbox starts it.
pub(crate) fn enqueue_next_poll(tx: &Transaction, now: Timestamp) -> rusqlite::Result<()> {
    let any: bool = tx.row_cached(
        "SELECT EXISTS (SELECT 1 FROM suppliers WHERE active = 1 AND dispatch_channel = 'edi_x12'
             AND coalesce(json_extract(dispatch_settings, '$.inbox'), '') != '')",
        [],
        |r| r.get(0),
    )?;
    if !any {
        return Ok(());
    }
    let slot = now.datetime().unix_timestamp() / POLL_SECONDS + 1;
    let at = time::OffsetDateTime::from_unix_timestamp(slot * POLL_SECONDS)
        .map(Timestamp::from_datetime)
        .unwrap_or(now);
    crate::jobs::enqueue(
        tx,
        now,
        &NewJob::of(&JobKind::EdiInbox(Occasion::poll()))
            .key(format!("edi-inbox:poll:{slot}"))
            .at(at)
            .attempts(3),
    )?;
    Ok(())
}

/// The inbox job for the worker: one at a time, so two runs never take
/// up the same file together.
pub(crate) fn kind(dispatcher: Arc<Dispatcher>) -> Kind {
    Kind {
        name: INBOX_KIND.into(),
        concurrency: 1,
        handler: Arc::new(move |ctx| Box::pin(run(ctx, dispatcher.clone()))),
    }
}

/// "Check the inboxes now": an inbox job due at once, audited.
pub fn enqueue_now(tx: &Transaction, ctx: &Context) -> rusqlite::Result<i64> {
    let id = crate::jobs::enqueue(
        tx,
        ctx.at,
        &NewJob::of(&JobKind::EdiInbox(Occasion::manual()))
            .key(format!("edi-inbox:manual:{}", ctx.at.to_db()))
            .attempts(3),
    )?;
    audit::record(tx, ctx, Event::new("edi.inbox_check", "job", id))?;
    Ok(id)
}

async fn run(ctx: JobContext, d: Arc<Dispatcher>) -> Result<(), JobError> {
    // Every occasion looks the same way; reading it refuses a damaged row.
    let _: Occasion = ctx.payload()?;
    let now = ctx.clock.now();
    ctx.db
        .write(move |tx| enqueue_next_poll(tx, now).map_err(crate::db::DbError::from))
        .await
        .map_err(|e| JobError::Retry(format!("cannot queue the next look: {e}")))?;
    let check = Check {
        db: ctx.db.clone(),
        root: d.config.dispatch.folder_root.clone(),
        env: Env {
            currency: d.config.practice.currency.clone(),
            today: crate::domain::time::today_in(now, &d.config.practice.time_zone),
        },
        now,
        settle: SETTLE,
    };
    let report = crate::db::run_blocking(move || check.run()).await?;
    tracing::info!(
        applied = report.applied,
        rejected = report.rejected,
        finished = report.finished,
        waiting = report.waiting,
        "EDI inboxes checked"
    );
    if report.errors.is_empty() {
        Ok(())
    } else {
        Err(JobError::Retry(report.errors.join("; ")))
    }
}

/// One look into every EDI inbox.
pub struct Check {
    pub db: Db,
    /// `dispatch.folder_root`.
    pub root: PathBuf,
    pub env: Env,
    pub now: Timestamp,
    /// Files changed more recently than this are left for the next look.
    pub settle: Duration,
}

/// What one look did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Files newly applied, and newly rejected.
    pub applied: usize,
    pub rejected: usize,
    /// Files recorded before (sent twice, or left by a run that stopped
    /// before moving them) that were only moved.
    pub finished: usize,
    /// Files left in the inbox for a later look.
    pub waiting: usize,
    /// Problems that may pass (a file that could not be read or moved).
    pub errors: Vec<String>,
}

/// A supplier with an EDI inbox.
#[derive(Debug, Clone)]
pub(crate) struct Inbox {
    pub supplier_id: i64,
    pub supplier: String,
    pub settings: x12::Settings,
    /// Why the inbox is not looked into: its folder is also another
    /// supplier's inbox (whose file would it be?) or a folder orders are
    /// written to (stockroom would take its own orders away).
    pub conflict: Option<String>,
}

fn inboxes(conn: &Connection) -> rusqlite::Result<Vec<Inbox>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, dispatch_channel, dispatch_settings FROM suppliers ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            Channel::from_columns(&r.get::<_, String>(2)?, &r.get::<_, String>(3)?)?,
        ))
    })?;
    let mut out = Vec::new();
    let mut outboxes: Vec<(String, String)> = Vec::new();
    for row in rows {
        let (supplier_id, supplier, channel) = row?;
        match channel {
            Channel::CsvFolder(s) => outboxes.push((s.folder.trim().to_string(), supplier)),
            Channel::EdiX12(settings) => {
                outboxes.push((settings.folder.trim().to_string(), supplier.clone()));
                if !settings.inbox.trim().is_empty() {
                    out.push(Inbox {
                        supplier_id,
                        supplier,
                        settings,
                        conflict: None,
                    });
                }
            }
            _ => {}
        }
    }
    let folders: Vec<(String, String)> = out
        .iter()
        .map(|i| (i.settings.inbox.trim().to_string(), i.supplier.clone()))
        .collect();
    for inbox in &mut out {
        let name = inbox.settings.inbox.trim();
        if let Some((_, other)) = outboxes.iter().find(|(f, _)| f == name) {
            inbox.conflict = Some(format!(
                "its inbox folder {name} is where orders to {other} are written: give it a folder of its own"
            ));
        } else if let Some((_, other)) = folders
            .iter()
            .find(|(f, s)| f == name && *s != inbox.supplier)
        {
            inbox.conflict = Some(format!(
                "its inbox folder {name} is also {other}'s inbox: give each supplier a folder of its own"
            ));
        }
    }
    Ok(out)
}

impl Check {
    /// Looks into every inbox; a missing folder root (a share not mounted)
    /// is an error worth retrying, a missing inbox folder is created.
    pub fn run(&self) -> Result<Report, JobError> {
        let boxes = self
            .db
            .read_blocking(|c| inboxes(c).map_err(DbError::from))
            .map_err(|e| JobError::Retry(format!("cannot read the suppliers: {e}")))?;
        let mut report = Report::default();
        if boxes.is_empty() {
            return Ok(report);
        }
        // Opened once; each inbox is opened by handle below it.
        let root = super::csv_folder::open_root(&self.root).map_err(JobError::Retry)?;
        for inbox in &boxes {
            if let Some(conflict) = &inbox.conflict {
                report
                    .errors
                    .push(format!("{}: {conflict}", inbox.supplier));
                continue;
            }
            if let Err(e) = inbox.settings.validate() {
                report.errors.push(format!(
                    "{}: the EDI settings are wrong ({e})",
                    inbox.supplier
                ));
                continue;
            }
            let dir = match root.sub(inbox.settings.inbox.trim()) {
                Ok(dir) => dir,
                Err(e) => {
                    report.errors.push(format!("{}: {e}", inbox.supplier));
                    continue;
                }
            };
            let mut links = Vec::new();
            let listed = self.waiting_files(&dir, &mut links);
            report.errors.extend(
                links
                    .into_iter()
                    .map(|l| format!("{}: {l}", inbox.supplier)),
            );
            match listed {
                Ok(files) => {
                    for name in files {
                        if let Err(e) = self.take_up(inbox, &dir, &name, &mut report) {
                            report.errors.push(format!(
                                "{}: {}: {e}",
                                inbox.supplier,
                                dir.path_of(&name).display()
                            ));
                        }
                    }
                }
                Err(e) => report.errors.push(format!(
                    "{}: cannot list {}: {e}",
                    inbox.supplier,
                    dir.path().display()
                )),
            }
        }
        Ok(report)
    }

    /// The files to take up, oldest first: not dot-files, not an upload
    /// tool's temporary names, not changed within `settle`, not folders.
    fn waiting_files(
        &self,
        dir: &Folder,
        refused: &mut Vec<String>,
    ) -> std::io::Result<Vec<String>> {
        let now = SystemTime::now();
        let mut files = Vec::new();
        for entry in dir.entries()? {
            let name = entry.name;
            let lower = name.to_ascii_lowercase();
            if name.starts_with('.')
                || name.ends_with('~')
                || [".tmp", ".part", ".partial", ".filepart", ".crdownload"]
                    .iter()
                    .any(|s| lower.ends_with(s))
            {
                continue;
            }
            // Links are not followed: a link is left where it is, and said.
            if entry.kind == EntryKind::Link {
                refused.push(format!(
                    "{name} is a symbolic link: left in place, not read (put the file itself there)"
                ));
                continue;
            }
            if entry.kind != EntryKind::File {
                continue;
            }
            let young = now
                .duration_since(entry.modified)
                .is_ok_and(|age| age < self.settle);
            if young {
                continue;
            }
            files.push((entry.modified, name));
        }
        files.sort();
        Ok(files.into_iter().map(|(_, n)| n).collect())
    }

    /// Reads, records (applying it) and moves one file.
    fn take_up(
        &self,
        inbox: &Inbox,
        dir: &Folder,
        name: &str,
        report: &mut Report,
    ) -> Result<(), String> {
        let name = name.to_string();
        let read = read_file(dir, &name).map_err(|e| format!("cannot read it: {e}"))?;
        let parsed = match &read.text {
            Some(text) => x12::parse_from(text, &inbox.settings).map_err(|e| e.to_string()),
            None => Err(format!(
                "it is {} bytes long; stockroom reads files of up to {} MB",
                read.size,
                MAX_FILE_BYTES / 1024 / 1024
            )),
        };
        let incoming = apply::Incoming {
            supplier_id: inbox.supplier_id,
            supplier: inbox.supplier.clone(),
            file_name: name.clone(),
            sha256: read.sha256,
            size: read.size,
            parsed,
        };
        let (env, now) = (self.env.clone(), self.now);
        let recorded = self
            .db
            .write_blocking(|tx| apply::record(tx, &env, now, &incoming))
            .map_err(|e| format!("cannot record it: {e}"))?;
        let outcome = match recorded {
            apply::Recorded::Waiting(why) => {
                tracing::info!(supplier = %inbox.supplier, file = %name, "left in the inbox: {why}");
                report.waiting += 1;
                return Ok(());
            }
            apply::Recorded::Known(outcome) => {
                report.finished += 1;
                outcome
            }
            apply::Recorded::New(outcome) => {
                match &outcome {
                    Outcome::Applied { .. } => report.applied += 1,
                    Outcome::Rejected { .. } => report.rejected += 1,
                }
                outcome
            }
        };
        move_aside(dir, &name, &inbox.supplier, self.now, &outcome)
    }
}

/// A file's content as read.
struct ReadFile {
    sha256: String,
    size: u64,
    /// The text, when not too large (bytes that are not UTF-8 replaced).
    text: Option<String>,
}

/// Hashes the whole file and keeps its text when it is small enough.
fn read_file(dir: &Folder, name: &str) -> std::io::Result<ReadFile> {
    let mut file = dir.open_read(name)?;
    let mut hasher = Sha256::new();
    let mut kept = Vec::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
        if size <= MAX_FILE_BYTES {
            kept.extend_from_slice(&buf[..n]);
        }
    }
    Ok(ReadFile {
        sha256: hex::encode(hasher.finalize()),
        size,
        text: (size <= MAX_FILE_BYTES).then(|| String::from_utf8_lossy(&kept).into_owned()),
    })
}

/// Moves a recorded file into `processed/`, or into `rejected/` beside
/// its reason. A name already taken there gets `-2`, `-3` … added.
fn move_aside(
    dir: &Folder,
    name: &str,
    supplier: &str,
    now: Timestamp,
    outcome: &Outcome,
) -> Result<(), String> {
    let sub = match outcome {
        Outcome::Applied { .. } => PROCESSED,
        Outcome::Rejected { .. } => REJECTED,
    };
    let target_dir = dir.sub(sub)?;
    let target = free_name(&target_dir, name);
    if let Outcome::Rejected { reason } = outcome {
        let text = format!(
            "stockroom did not use this file from {supplier}.\n\nFile: {name}\nLooked at: {}\nReason: {reason}\n",
            now.human()
        );
        let reason_name = format!("{target}.reason.txt");
        write_atomic(&target_dir, &reason_name, text.as_bytes()).map_err(
            |(JobError::Retry(e) | JobError::Unreachable(e) | JobError::Permanent(e))| {
                format!("cannot write the reason: {e}")
            },
        )?;
    }
    match dir.rename_to(name, &target_dir, &target) {
        Ok(()) => {}
        // Moved meanwhile (by a person, or another look): nothing left to do.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(format!(
                "cannot move it to {}: {e}",
                target_dir.path_of(&target).display()
            ));
        }
    }
    target_dir
        .sync()
        .and_then(|_| dir.sync())
        .map_err(|e| format!("cannot sync {}: {e}", dir.path().display()))
}

/// `name` in `dir`, or `stem-2.ext`, `stem-3.ext` … when taken (counting
/// a reason file of that name as taking it, and a link as taking it).
fn free_name(dir: &Folder, name: &str) -> String {
    let taken = |n: &str| {
        !matches!(dir.kind_of(n), Ok(None))
            || !matches!(dir.kind_of(&format!("{n}.reason.txt")), Ok(None))
    };
    if !taken(name) {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    (2..)
        .map(|n| format!("{stem}-{n}{ext}"))
        .find(|n| !taken(n))
        .expect("some number is free")
}
