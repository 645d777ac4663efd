//! What every request handler shares: config, database, clock, limiter and
//! the first-run setup token.

use std::sync::{Arc, RwLock};

use crate::accounts::setup::SetupToken;
use crate::config::Config;
use crate::db::Db;
use crate::domain::Clock;
use crate::web::middleware::rate_limit::AuthLimiter;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    /// Present while no admin exists; cleared when setup completes.
    pub setup_token: Arc<RwLock<Option<SetupToken>>>,
    pub auth_limiter: Arc<AuthLimiter>,
    /// Wakes the job worker (inserts into `jobs` do it by themselves).
    pub jobs_waker: crate::jobs::worker::Waker,
    /// The catalog's searchable text, kept in step with `catalog_version`.
    pub search: Arc<crate::catalog::search::SearchCache>,
}

impl AppState {
    pub fn setup_token(&self) -> Option<SetupToken> {
        self.setup_token.read().expect("setup token lock").clone()
    }

    pub fn close_setup(&self) {
        *self.setup_token.write().expect("setup token lock") = None;
    }

    /// Today's date in the practice's time zone, computed now (never cached:
    /// an appliance runs across midnight).
    pub fn today(&self) -> time::Date {
        today_in(self.clock.now(), &self.config.practice.time_zone)
    }

    /// The practice's currency and today's date, for the orders module.
    pub fn order_env(&self) -> crate::orders::Env {
        crate::orders::Env {
            currency: self.config.practice.currency.clone(),
            today: self.today(),
        }
    }

    pub fn tls(&self) -> bool {
        self.config.tls.is_some()
    }
}

/// The calendar date at `at` in `zone`.
pub fn today_in(at: crate::domain::Timestamp, zone: &jiff::tz::TimeZone) -> time::Date {
    let ms = (at.datetime().unix_timestamp_nanos() / 1_000_000) as i64;
    let date = jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(zone.clone()).date())
        .unwrap_or_default();
    let month = time::Month::try_from(date.month() as u8).unwrap_or(time::Month::January);
    time::Date::from_calendar_date(i32::from(date.year()), month, date.day() as u8)
        .unwrap_or(time::Date::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Timestamp;

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
