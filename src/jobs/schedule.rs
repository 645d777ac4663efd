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

use std::str::FromStr;
use std::time::Duration;

use croner::Cron;
use rusqlite::Transaction;
use serde_json::json;
use tokio::sync::watch;

use super::{NewJob, enqueue};
use crate::db::{Db, DbError};
use crate::domain::{Clock, Timestamp};

/// One recurring job.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub kind: String,
    pub text: String,
    cron: Cron,
}

/// How far back a missed occurrence is still made up for.
const CATCH_UP: Duration = Duration::from_secs(24 * 3600);

/// Parses `kind = cron; kind = cron`; every problem is named.
pub fn parse(raw: &str) -> Result<Vec<Schedule>, String> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for entry in raw.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((kind, text)) = entry.split_once('=') else {
            problems.push(format!("{entry:?} is not `kind = cron expression`"));
            continue;
        };
        let (kind, text) = (kind.trim(), text.trim());
        if kind.is_empty()
            || kind.len() > 64
            || !kind
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
        {
            problems.push(format!(
                "{kind:?} is not a job kind (letters, digits, . _ -)"
            ));
            continue;
        }
        if text.split_whitespace().count() != 5 {
            problems.push(format!(
                "{kind}: {text:?} needs five fields: minute hour day-of-month month day-of-week"
            ));
            continue;
        }
        match Cron::from_str(text) {
            Ok(cron) => {
                if out.iter().any(|s: &Schedule| s.kind == kind) {
                    problems.push(format!("{kind} is scheduled twice"));
                }
                out.push(Schedule {
                    kind: kind.to_string(),
                    text: text.to_string(),
                    cron,
                });
            }
            Err(e) => problems.push(format!("{kind}: {text:?} is not a cron expression: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems.join("; "))
    }
}

/// The wall-clock time at `at` in `zone`, as chrono's naive form that
/// croner matches against.
fn civil(at: Timestamp, zone: &jiff::tz::TimeZone) -> Option<chrono::DateTime<chrono::Utc>> {
    let ms = (at.datetime().unix_timestamp_nanos() / 1_000_000) as i64;
    let dt = jiff::Timestamp::from_millisecond(ms)
        .ok()?
        .to_zoned(zone.clone())
        .datetime();
    let date =
        chrono::NaiveDate::from_ymd_opt(i32::from(dt.year()), dt.month() as u32, dt.day() as u32)?;
    Some(
        date.and_hms_opt(dt.hour() as u32, dt.minute() as u32, dt.second() as u32)?
            .and_utc(),
    )
}

/// The instant a wall-clock time in `zone` names (in a DST gap, the time
/// after it; in a fold, the first).
fn instant(civil: chrono::DateTime<chrono::Utc>, zone: &jiff::tz::TimeZone) -> Option<Timestamp> {
    use chrono::{Datelike, Timelike};
    let dt = jiff::civil::DateTime::new(
        i16::try_from(civil.year()).ok()?,
        i8::try_from(civil.month()).ok()?,
        i8::try_from(civil.day()).ok()?,
        i8::try_from(civil.hour()).ok()?,
        i8::try_from(civil.minute()).ok()?,
        0,
        0,
    )
    .ok()?;
    let ms = dt.to_zoned(zone.clone()).ok()?.timestamp().as_millisecond();
    let odt = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    Some(Timestamp::from_datetime(odt))
}

/// Enqueues the latest due occurrence of each schedule (idempotently) and
/// returns how many jobs were new and when the next occurrence is.
pub fn tick(
    tx: &Transaction,
    now: Timestamp,
    zone: &jiff::tz::TimeZone,
    schedules: &[Schedule],
) -> rusqlite::Result<(usize, Option<Timestamp>)> {
    let Some(local) = civil(now, zone) else {
        return Ok((0, None));
    };
    let mut added = 0;
    let mut next: Option<Timestamp> = None;
    for s in schedules {
        if let Ok(prev) = s.cron.find_previous_occurrence(&local, true)
            && let Some(at) = instant(prev, zone)
            && now.since(at) <= CATCH_UP
        {
            let stamp = prev.format("%Y-%m-%dT%H:%M").to_string();
            let key = format!("schedule:{}:{stamp}", s.kind);
            enqueue(
                tx,
                now,
                &NewJob::new(&s.kind, json!({"scheduled_for": stamp})).key(key),
            )?;
            // 1 when the insert happened, 0 when the key was there already.
            added += tx.changes() as usize;
        }
        if let Ok(n) = s.cron.find_next_occurrence(&local, false)
            && let Some(at) = instant(n, zone)
        {
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
    fn schedules_parse_and_every_mistake_is_named() {
        let s = parse("digest.daily = 0 7 * * 1-5; backup.verify=30 3 * * *;").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].kind.as_str(), s[0].text.as_str()),
            ("digest.daily", "0 7 * * 1-5")
        );
        assert!(parse("").unwrap().is_empty());
        let e = parse("digest = 0 7 * *; x y = 1 2 3 4 5; b = 61 * * * *; nonsense").unwrap_err();
        assert!(e.contains("digest: \"0 7 * *\" needs five fields"), "{e}");
        assert!(e.contains("\"x y\" is not a job kind"), "{e}");
        assert!(
            e.contains("b: \"61 * * * *\" is not a cron expression"),
            "{e}"
        );
        assert!(
            e.contains("\"nonsense\" is not `kind = cron expression`"),
            "{e}"
        );
        assert!(
            parse("a = * * * * *; a = 0 * * * *")
                .unwrap_err()
                .contains("a is scheduled twice")
        );
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
