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
    /// `/readyz`'s last successful write check (when, and its latency), so
    /// that polling it writes at most once a minute.
    pub last_write_check: Arc<std::sync::Mutex<Option<(crate::domain::Timestamp, f64)>>>,
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
        crate::domain::time::today_in(self.clock.now(), &self.config.practice.time_zone)
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

    /// The client of a request, honouring forwarded headers only from
    /// `http.trusted_proxies`.
    pub fn client(
        &self,
        peer: Option<std::net::SocketAddr>,
        headers: &actix_web::http::header::HeaderMap,
        uri: &actix_web::http::Uri,
    ) -> crate::web::client::Client {
        crate::web::client::client(
            peer,
            headers,
            uri,
            self.tls(),
            &self.config.http.trusted_proxies,
        )
    }
}
