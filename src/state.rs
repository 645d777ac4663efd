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
}

impl AppState {
    pub fn setup_token(&self) -> Option<SetupToken> {
        self.setup_token.read().expect("setup token lock").clone()
    }

    pub fn close_setup(&self) {
        *self.setup_token.write().expect("setup token lock") = None;
    }

    pub fn tls(&self) -> bool {
        self.config.tls.is_some()
    }
}
