//! Instants in UTC, and the clock that produces them.
//!
//! Every stored time is text in one fixed RFC 3339 form,
//! `YYYY-MM-DDTHH:MM:SS.mmmZ`, so that SQL string comparison orders times
//! correctly. The clock is a trait because timeouts (sessions, lock-outs) must
//! be testable without waiting for them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// A UTC instant with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn from_datetime(dt: OffsetDateTime) -> Self {
        let dt = dt.to_offset(time::UtcOffset::UTC);
        let ms = dt.millisecond();
        Timestamp(
            dt.replace_nanosecond(u32::from(ms) * 1_000_000)
                .expect("valid nanosecond"),
        )
    }

    pub fn parse(text: &str) -> Result<Self, time::error::Parse> {
        let dt = time::PrimitiveDateTime::parse(text, FORMAT)?;
        Ok(Timestamp(dt.assume_utc()))
    }

    /// The stored form, e.g. `2026-11-21T23:57:26.123Z`.
    pub fn to_db(self) -> String {
        self.0.format(FORMAT).expect("UTC timestamps always format")
    }

    pub fn datetime(self) -> OffsetDateTime {
        self.0
    }

    pub fn plus(self, d: Duration) -> Self {
        Timestamp(self.0 + d)
    }

    pub fn minus(self, d: Duration) -> Self {
        Timestamp(self.0 - d)
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        (self.0 - earlier.0).try_into().unwrap_or(Duration::ZERO)
    }

    /// "2026-11-21 23:57 UTC", for pages.
    pub fn human(self) -> String {
        let f = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
        self.0.format(f).expect("UTC timestamps always format")
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_db())
    }
}

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(OffsetDateTime::now_utc())
    }
}

/// A clock that moves only when told to; shared by clones. Used by tests to
/// step over session and lock-out timeouts.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    pub fn starting_now() -> Self {
        ManualClock(Arc::new(Mutex::new(SystemClock.now())))
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().expect("clock lock");
        *t = t.plus(by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("clock lock")
    }
}

/// The calendar date at `at` in `zone`.
pub fn today_in(at: Timestamp, zone: &jiff::tz::TimeZone) -> time::Date {
    let instant = jiff::Timestamp::from_second(at.datetime().unix_timestamp())
        .expect("a Timestamp is within jiff's range (years -9999 to 9999)");
    let offset = time::UtcOffset::from_whole_seconds(zone.to_offset(instant).seconds())
        .expect("time zone offsets are within ±25:59:59");
    at.datetime().to_offset(offset).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_sorts_as_text() {
        let a = Timestamp::parse("2026-01-02T03:04:05.006Z").unwrap();
        assert_eq!(a.to_db(), "2026-01-02T03:04:05.006Z");
        let b = a.plus(Duration::from_millis(995));
        assert_eq!(b.to_db(), "2026-01-02T03:04:06.001Z");
        assert!(a.to_db() < b.to_db());
        assert_eq!(b.since(a), Duration::from_millis(995));
        assert_eq!(a.since(b), Duration::ZERO);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::starting_now();
        let t0 = c.now();
        assert_eq!(c.now(), t0);
        c.advance(Duration::from_secs(60));
        assert_eq!(c.now().since(t0), Duration::from_secs(60));
    }

    #[test]
    fn today_depends_on_the_practice_time_zone() {
        let at = Timestamp::parse("2026-12-31T23:30:00.000Z").unwrap();
        let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
        let new_york = jiff::tz::TimeZone::get("America/New_York").unwrap();
        assert_eq!(
            today_in(at, &jiff::tz::TimeZone::UTC).to_string(),
            "2026-12-31"
        );
        assert_eq!(today_in(at, &tokyo).to_string(), "2027-01-01");
        assert_eq!(today_in(at, &new_york).to_string(), "2026-12-31");
    }
}
