//! Recurring jobs: cron expressions (five fields: minute hour day-of-month
//! month day-of-week) in the practice's time zone, as `jobs.schedule` names
//! them, e.g. `digest.daily = 0 7 * * 1-5; backup.verify = 30 3 * * *`.
//! Pure: parsing, and the occurrences around an instant; the queue
//! (`jobs::schedule`) turns them into jobs.

use std::str::FromStr;
use std::time::Duration;

use croner::Cron;

use super::Timestamp;

/// One recurring job.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub kind: String,
    pub text: String,
    cron: Cron,
}

/// How far back a missed occurrence is still made up for.
pub const CATCH_UP: Duration = Duration::from_secs(24 * 3600);

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

impl Schedule {
    /// The latest occurrence at or before `now` (wall-clock text such as
    /// `2026-11-30T07:00`, and the instant), if within [`CATCH_UP`].
    pub fn due(&self, now: Timestamp, zone: &jiff::tz::TimeZone) -> Option<(String, Timestamp)> {
        let local = civil(now, zone)?;
        let prev = self.cron.find_previous_occurrence(&local, true).ok()?;
        let at = instant(prev, zone)?;
        (now.since(at) <= CATCH_UP).then(|| (prev.format("%Y-%m-%dT%H:%M").to_string(), at))
    }

    /// The first occurrence after `now`.
    pub fn next_after(&self, now: Timestamp, zone: &jiff::tz::TimeZone) -> Option<Timestamp> {
        let local = civil(now, zone)?;
        let n = self.cron.find_next_occurrence(&local, false).ok()?;
        instant(n, zone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
