//! Recurring jobs: cron expressions (five fields: minute hour day-of-month
//! month day-of-week) in the practice's time zone, from `jobs.schedule`,
//! e.g. `digest.daily = 0 7 * * 1-5; backup.verify = 30 3 * * *`.
//!
//! Each tick enqueues the latest occurrence not in the future of every
//! schedule, keyed `schedule:<kind>:<local time>`, so an occurrence becomes
//! exactly one job however often the tick runs, across restarts, and an
//! occurrence missed while the machine was off (up to a day ago) still runs
//! once when it is back. The scheduler then sleeps until the next
//! occurrence.

use std::time::Duration;

use rusqlite::Transaction;
use serde_json::json;
use tokio::sync::watch;

use super::{JobKind, NewJob, enqueue};
use crate::db::{Db, DbError};
use crate::domain::schedule::Schedule;
use crate::domain::{Clock, Timestamp};

/// Enqueues the latest due occurrence of each schedule (idempotently) and
/// returns how many jobs were new and when the next occurrence is.
pub fn tick(
    tx: &Transaction,
    now: Timestamp,
    zone: &jiff::tz::TimeZone,
    schedules: &[Schedule],
) -> rusqlite::Result<(usize, Option<Timestamp>)> {
    let mut added = 0;
    let mut next: Option<Timestamp> = None;
    for s in schedules {
        if let Some((stamp, _)) = s.due(now, zone) {
            let key = format!("schedule:{}:{stamp}", s.kind);
            // The application's recurring kinds go through their typed
            // form; any other name (a test's, a later version's) by name.
            let job = match JobKind::scheduled(&s.kind, &stamp) {
                Some(kind) => NewJob::of(&kind),
                None if JobKind::NAMES.contains(&s.kind.as_str()) => {
                    // An order's send on a timetable names no order: it
                    // could only fail, so it is not made (and the other
                    // schedules still are).
                    tracing::warn!(kind = %s.kind, "jobs.schedule names a kind that does not run on a schedule; skipped");
                    continue;
                }
                None => NewJob::new(&s.kind, json!({"scheduled_for": stamp})),
            };
            enqueue(tx, now, &job.key(key))?;
            // 1 when the insert happened, 0 when the key was there already.
            added += tx.changes() as usize;
        }
        if let Some(at) = s.next_after(now, zone) {
            next = Some(match next {
                Some(t) if t.to_db() <= at.to_db() => t,
                _ => at,
            });
        }
    }
    Ok((added, next))
}

/// Runs [`tick`] now and at every next occurrence until `stop`.
pub async fn run(
    db: Db,
    clock: std::sync::Arc<dyn Clock>,
    zone: jiff::tz::TimeZone,
    schedules: Vec<Schedule>,
    mut stop: watch::Receiver<bool>,
) {
    if schedules.is_empty() {
        return;
    }
    loop {
        let (now, z, s) = (clock.now(), zone.clone(), schedules.clone());
        let next = match db
            .write(move |tx| tick(tx, now, &z, &s).map_err(DbError::from))
            .await
        {
            Ok((added, next)) => {
                if added > 0 {
                    tracing::info!(added, "scheduled jobs enqueued");
                }
                next
            }
            Err(e) => {
                tracing::error!(error = %e, "scheduling jobs failed");
                None
            }
        };
        // Wake a little after the occurrence; at least once an hour.
        let wait = next
            .map(|t| t.since(clock.now()) + Duration::from_millis(200))
            .unwrap_or(Duration::from_secs(3600))
            .min(Duration::from_secs(3600));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schedule::parse;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn keys(db: &Db) -> Vec<String> {
        db.read_blocking(|c| {
            c.prepare("SELECT idempotency_key FROM jobs ORDER BY id")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()
                .map_err(DbError::from)
        })
        .unwrap()
    }

    #[test]
    fn each_occurrence_becomes_one_job_in_the_practice_time_zone() {
        let (_d, db) = crate::db::testing::migrated_db();
        let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let s = parse("digest.daily = 0 7 * * *").unwrap();
        // 05:30 UTC is 06:30 in Berlin (winter): yesterday's 07:00 is due.
        let (added, next) = db
            .write_blocking(|tx| {
                tick(tx, at("2026-11-30T05:30:00.000Z"), &zone, &s).map_err(DbError::from)
            })
            .unwrap();
        assert_eq!(added, 1);
        assert_eq!(
            next.unwrap().to_db(),
            "2026-11-30T06:00:00.000Z",
            "07:00 Berlin"
        );
        // Ticking again, or after a restart, adds nothing.
        let (again, _) = db
            .write_blocking(|tx| {
                tick(tx, at("2026-11-30T05:59:00.000Z"), &zone, &s).map_err(DbError::from)
            })
            .unwrap();
        assert_eq!(again, 0);
        // At 07:00 local the day's job comes.
        db.write_blocking(|tx| {
            tick(tx, at("2026-11-30T06:00:00.000Z"), &zone, &s).map_err(DbError::from)
        })
        .unwrap();
        assert_eq!(
            keys(&db),
            [
                "schedule:digest.daily:2026-11-29T07:00",
                "schedule:digest.daily:2026-11-30T07:00"
            ]
        );
        // Summer time: 07:00 Berlin is 05:00 UTC.
        let (_, next) = db
            .write_blocking(|tx| {
                tick(tx, at("2026-07-01T04:00:00.000Z"), &zone, &s).map_err(DbError::from)
            })
            .unwrap();
        assert_eq!(next.unwrap().to_db(), "2026-07-01T05:00:00.000Z");
    }

    #[test]
    fn a_known_kind_that_does_not_run_on_a_schedule_is_skipped_not_a_failed_tick() {
        let (_d, db) = crate::db::testing::migrated_db();
        let s = parse("order.dispatch = * * * * *; test.tick = * * * * *").unwrap();
        let (added, _) = db
            .write_blocking(|tx| {
                tick(
                    tx,
                    at("2026-11-30T05:30:00.000Z"),
                    &jiff::tz::TimeZone::UTC,
                    &s,
                )
                .map_err(DbError::from)
            })
            .unwrap();
        assert_eq!(added, 1);
        assert_eq!(keys(&db), ["schedule:test.tick:2026-11-30T05:30"]);
    }

    #[test]
    fn an_occurrence_missed_for_more_than_a_day_is_not_made_up() {
        let (_d, db) = crate::db::testing::migrated_db();
        let s = parse("report.monthly = 0 8 1 * *").unwrap();
        let (added, _) = db
            .write_blocking(|tx| {
                tick(
                    tx,
                    at("2026-11-20T12:00:00.000Z"),
                    &jiff::tz::TimeZone::UTC,
                    &s,
                )
                .map_err(DbError::from)
            })
            .unwrap();
        assert_eq!(added, 0);
        assert!(keys(&db).is_empty());
    }
}
