//! The ledger for a date range as CSV, streamed: the file is written a page
//! of movements at a time, each page one short read, so a year of history
//! never sits in memory and no reader connection is held while a slow
//! client downloads. The ledger is append-only and pages follow
//! `(at, id)`, so the pages fit together without a long transaction.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::Stream;
use jiff::tz::TimeZone;
use rusqlite::params;
use time::Date;

use super::{Cell, ExportError, Separator, Sheet, number};
use crate::catalog::locations;
use crate::db::Db;
use crate::domain::Timestamp;
use crate::domain::actor::Actor;

/// Movements per page (one read each).
pub const PAGE: u32 = 1000;

pub const COLUMNS: &[&str] = &[
    "position",
    "at_utc",
    "local_time",
    "kind",
    "item_code",
    "item_name",
    "unit",
    "location",
    "lot",
    "expiry",
    "quantity",
    "reason",
    "note",
    "user",
];

/// The instant a practice-local day begins, in the stored UTC form.
pub fn day_start_utc(day: Date, zone: &TimeZone) -> Result<String, String> {
    let bad = |e: &dyn std::fmt::Display| format!("{day} cannot be placed in time: {e}");
    let civil = jiff::civil::Date::new(day.year() as i16, day.month() as i8, day.day() as i8)
        .map_err(|e| bad(&e))?;
    let nanos = civil
        .to_zoned(zone.clone())
        .map_err(|e| bad(&e))?
        .timestamp()
        .as_nanosecond();
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|e| bad(&e))?;
    Ok(Timestamp::from_datetime(at).to_db())
}

/// The dates an export may name. Wider would reach past what the time
/// zone rules can place (and past any practice's history).
pub const FIRST_DAY: Date = time::macros::date!(1900 - 01 - 01);
pub const LAST_DAY: Date = time::macros::date!(2999 - 12 - 31);

/// The half-open UTC range `[start, end)` from the start of local day
/// `from` to the start of the day after `to`. Callers check the dates lie
/// in [`FIRST_DAY`]..=[`LAST_DAY`] first, before answering, so that a
/// download never stops part-way for a date it cannot place.
pub fn utc_range(from: Date, to: Date, zone: &TimeZone) -> Result<(String, String), String> {
    let after = to
        .next_day()
        .ok_or_else(|| format!("{to} has no next day"))?;
    Ok((day_start_utc(from, zone)?, day_start_utc(after, zone)?))
}

/// What to export: `from` and `to` are practice-local dates, both days
/// included.
#[derive(Debug, Clone)]
pub struct Request {
    /// Who exports: the locations they may use.
    pub actor: Actor,
    pub from: Date,
    pub to: Date,
    pub zone: TimeZone,
    pub separator: Separator,
}

struct Plan {
    /// Half-open UTC range `[start, end)`.
    start: String,
    end: String,
    paths: HashMap<i64, String>,
    /// The usable locations' ids, from the database: safe to put in SQL.
    ids: String,
    zone: TimeZone,
    separator: Separator,
}

enum Step {
    Start(Request),
    Page(Arc<Plan>, Option<(String, i64)>),
    Done,
}

/// The CSV, page by page; an error ends the stream (the client sees a
/// cut-off download, the log says why).
pub fn stream(db: Db, req: Request) -> impl Stream<Item = Result<Vec<u8>, ExportError>> {
    futures_util::stream::unfold(Step::Start(req), move |step| {
        let db = db.clone();
        async move {
            let result = match step {
                Step::Done => return None,
                Step::Start(req) => start(&db, req).await,
                Step::Page(plan, after) => page(&db, plan, after).await,
            };
            match result {
                Ok(Some((bytes, next))) => Some((Ok(bytes), next)),
                Ok(None) => None,
                Err(e) => Some((Err(e), Step::Done)),
            }
        }
    })
}

type Chunk = Option<(Vec<u8>, Step)>;

async fn start(db: &Db, req: Request) -> Result<Chunk, ExportError> {
    let (start, end) = utc_range(req.from, req.to, &req.zone).map_err(ExportError::Write)?;
    let actor = req.actor.clone();
    let paths: HashMap<i64, String> = db
        .read(move |c| locations::usable_with_paths(c, &actor).map_err(ExportError::from))
        .await?
        .into_iter()
        .map(|(l, p)| (l.id, p))
        .collect();
    let ids = if paths.is_empty() {
        "NULL".to_string()
    } else {
        paths
            .keys()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut sheet = Sheet::new(req.separator);
    sheet.header(COLUMNS)?;
    let plan = Plan {
        start,
        end,
        paths,
        ids,
        zone: req.zone,
        separator: req.separator,
    };
    Ok(Some((
        sheet.into_bytes()?,
        Step::Page(Arc::new(plan), None),
    )))
}

/// One page of movements after `(?1, ?3)` and before `?2`, in the
/// locations `ids` lists: a range on the `at` index, already in order.
fn page_sql(ids: &str) -> String {
    format!(
        "SELECT m.id, m.at, m.kind, i.code, i.name, i.unit, m.location_id, m.lot, m.expiry,
                m.quantity, m.reason, m.note, u.username
         FROM stock_movements m
         JOIN items i ON i.id = m.item_id
         LEFT JOIN users u ON u.id = m.user_id
         WHERE m.at >= ?1 AND m.at < ?2 AND (m.at > ?1 OR m.id > ?3)
           AND m.location_id IN ({ids})
         ORDER BY m.at, m.id LIMIT ?4"
    )
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    i64,
    String,
    String,
    Option<String>,
);

async fn page(
    db: &Db,
    plan: Arc<Plan>,
    after: Option<(String, i64)>,
) -> Result<Chunk, ExportError> {
    let p = plan.clone();
    let rows: Vec<Row> = db
        .read(move |c| {
            // From the last row written: same instant with a higher id, or later.
            let (from, after_id) = after.unwrap_or_else(|| (p.start.clone(), 0));
            let mut stmt = c.prepare_cached(&page_sql(&p.ids))?;
            let rows = stmt.query_map(params![from, p.end, after_id, PAGE], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                    r.get(12)?,
                ))
            })?;
            rows.collect::<Result<Vec<Row>, _>>()
                .map_err(ExportError::from)
        })
        .await?;
    let Some(last) = rows.last() else {
        return Ok(None);
    };
    let next_after = (last.1.clone(), last.0);
    let full = rows.len() == PAGE as usize;
    let mut sheet = Sheet::new(plan.separator);
    for (id, at, kind, code, name, unit, location, lot, expiry, quantity, reason, note, user) in
        &rows
    {
        let local = local_time(at, &plan.zone);
        sheet.row(&[
            number(*id),
            Cell::Number(at.clone()),
            Cell::Number(local),
            Cell::Text(kind),
            Cell::Text(code),
            Cell::Text(name),
            Cell::Text(unit),
            Cell::Text(plan.paths.get(location).map_or("", String::as_str)),
            Cell::Text(lot),
            Cell::Number(expiry.clone()),
            number(*quantity),
            Cell::Text(reason),
            Cell::Text(note),
            Cell::Text(user.as_deref().unwrap_or("system")),
        ])?;
    }
    let next = if full {
        Step::Page(plan, Some(next_after))
    } else {
        Step::Done
    };
    Ok(Some((sheet.into_bytes()?, next)))
}

/// "2026-03-01 14:05" in the practice's time zone.
fn local_time(at: &str, zone: &TimeZone) -> String {
    at.parse::<jiff::Timestamp>()
        .map(|t| {
            t.to_zoned(zone.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_page_is_a_range_of_the_time_index_in_order() {
        let conn = crate::db::testing::migrated_memory();
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", page_sql("1,2,3")))
            .unwrap();
        let steps: Vec<String> = stmt
            .query_map(params!["a", "b", 0, 10], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            steps[0].starts_with("SEARCH m USING INDEX stock_movements_by_time"),
            "{steps:?}"
        );
        assert!(
            !steps.iter().any(|s| s.contains("TEMP B-TREE")),
            "{steps:?}"
        );
    }

    #[test]
    fn days_begin_at_local_midnight() {
        let vienna = TimeZone::get("Europe/Vienna").unwrap();
        assert_eq!(
            day_start_utc(date!(2026 - 01 - 15), &vienna).unwrap(),
            "2026-01-14T23:00:00.000Z"
        );
        assert_eq!(
            day_start_utc(date!(2026 - 07 - 15), &vienna).unwrap(),
            "2026-07-14T22:00:00.000Z"
        );
        assert_eq!(
            day_start_utc(date!(2026 - 07 - 15), &TimeZone::UTC).unwrap(),
            "2026-07-15T00:00:00.000Z"
        );
        assert_eq!(
            local_time("2026-07-14T22:30:00.000Z", &vienna),
            "2026-07-15 00:30"
        );
    }
}
