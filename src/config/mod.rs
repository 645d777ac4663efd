//! The one typed configuration of stockroom, built once at start-up.
//!
//! Layers, lowest first: compiled defaults → a TOML file → `STOCKROOM_*`
//! environment variables → command-line flags. Loading happens in two stages:
//! [`sources::Sources`] gathers raw values with where each came from, then
//! [`validate`] turns them into a [`Config`], collecting *every* problem so an
//! administrator can fix a file in one go. Nothing else in the program reads the
//! environment; the binary hands `std::env::vars()` to [`load`] and passes the
//! resulting `Config` down.

mod keys;
mod secret;
mod sources;
mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use keys::{KEYS, KeySpec};
pub use secret::Secret;
pub use sources::{LoadOptions, Origin};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// JSON when stdout is not a terminal, human-readable when it is.
    Auto,
    Json,
    Pretty,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// The address people type into a browser; used in printed links.
    pub public_url: Option<String>,
    pub log: LogConfig,
    pub db: DbConfig,
    pub http: HttpConfig,
    pub tls: Option<TlsConfig>,
    pub session: SessionConfig,
    pub security: SecurityConfig,
    pub health: HealthConfig,
    pub jobs: JobsConfig,
    pub dispatch: DispatchConfig,
    /// The outgoing mail server; `None` when email is not set up.
    pub smtp: Option<SmtpConfig>,
    pub practice: PracticeConfig,
    pub setup: SetupConfig,
    /// Every key with its effective value and origin, for `check-config`.
    pub effective: Vec<EffectiveValue>,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone)]
pub struct DbConfig {
    /// Reader connections; there is always exactly one writer besides these.
    pub pool_size: u32,
    /// How long a request waits for a free connection before failing.
    pub connection_timeout: Duration,
    /// SQLite's own wait on a locked database file (other processes, e.g. the CLI).
    pub busy_timeout: Duration,
    /// WAL size past which the writer folds the log into the database
    /// between commit groups, so that the next write can start the log
    /// again from its beginning. Not a setting: tests lower it.
    pub wal_fold_bytes: u64,
}

/// See [`JobsConfig::probe_every`]: orders waiting on a mail server that
/// is back go within seconds.
pub const PROBE_EVERY: Duration = Duration::from_secs(5);

/// See [`DbConfig::wal_fold_bytes`]: 16 MiB keeps the WAL well under 64 MB
/// under sustained writes while a fold copies little enough to be quick.
pub const WAL_FOLD_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub workers: usize,
    pub max_body_bytes: usize,
    /// How long a request's body may take to arrive.
    pub body_timeout: Duration,
    pub shutdown_timeout: Duration,
    /// Origins allowed to call `/api/v1` from a browser; empty refuses all.
    pub allowed_origins: Vec<String>,
    /// Reverse proxies whose X-Forwarded-* headers are believed.
    pub trusted_proxies: Vec<crate::outbound::IpNet>,
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// Failed logins for one username within `lockout_window` that lock it.
    pub lockout_threshold: u32,
    pub lockout_window: Duration,
    pub lockout_duration: Duration,
    /// Requests per minute one client IP may make to login, setup and password endpoints.
    pub auth_rate_per_minute: u32,
    pub auth_rate_burst: u32,
    /// Who must sign in with a second factor (an authenticator app).
    pub second_factor: SecondFactorPolicy,
}

/// Who must use a second factor at sign-in. Anyone may set one up; those
/// it covers are asked to at their next sign-in and cannot turn it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactorPolicy {
    /// Nobody is required to (those who set one up still use it).
    Nobody,
    /// Administrators (the default).
    Administrators,
    /// Administrators and managers.
    Managers,
    /// Every user.
    Everyone,
}

impl SecondFactorPolicy {
    pub fn requires(self, role: crate::domain::Role) -> bool {
        use crate::domain::Role;
        match self {
            SecondFactorPolicy::Nobody => false,
            SecondFactorPolicy::Administrators => role == Role::Admin,
            SecondFactorPolicy::Managers => matches!(role, Role::Admin | Role::Manager),
            SecondFactorPolicy::Everyone => true,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SecondFactorPolicy::Nobody => "nobody",
            SecondFactorPolicy::Administrators => "administrators",
            SecondFactorPolicy::Managers => "managers",
            SecondFactorPolicy::Everyone => "everyone",
        }
    }
}

#[derive(Debug, Clone)]
pub struct HealthConfig {
    pub min_free_disk_bytes: u64,
}

#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// Jobs of one kind that run at once.
    pub concurrency: usize,
    pub lease: Duration,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    pub shutdown_grace: Duration,
    /// How often a target that jobs wait on (the mail server) is probed.
    /// Not a setting: tests shorten it.
    pub probe_every: Duration,
    /// Recurring jobs (kind and cron expression), already checked.
    pub schedules: Vec<crate::domain::schedule::Schedule>,
}

#[derive(Debug, Clone)]
pub struct DispatchConfig {
    /// Suppliers' CSV folders are named relative to this.
    pub folder_root: PathBuf,
    pub webhook_timeout: Duration,
    /// Addresses on this machine or the LAN that webhooks may reach
    /// (everything else that is not public is refused).
    pub webhook_allow: Vec<crate::outbound::IpNet>,
}

/// How to reach the outgoing mail server.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: Option<Secret>,
    pub from: lettre::message::Mailbox,
    pub timeout: Duration,
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    StartTls,
    Tls,
    None,
}

#[derive(Debug, Clone)]
pub struct PracticeConfig {
    /// Decides what "today" is for expiry dates, per request.
    pub time_zone: jiff::tz::TimeZone,
    /// ISO 4217 code, upper case: every price is in it.
    pub currency: String,
}

#[derive(Debug, Clone)]
pub struct SetupConfig {
    /// A preset first-run token (e.g. written by an installer); random when absent.
    pub token: Option<Secret>,
}

/// One line of `check-config` output.
#[derive(Debug, Clone)]
pub struct EffectiveValue {
    pub key: &'static str,
    /// Already redacted for secrets.
    pub display: String,
    pub origin: Origin,
}

/// A single problem found while loading configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub key: String,
    pub origin: String,
    pub message: String,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` ({}): {}", self.key, self.origin, self.message)
    }
}

/// Every problem found; never empty.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} configuration problem(s):\n{}", .0.len(), list(.0))]
pub struct ConfigErrors(pub Vec<ConfigProblem>);

fn list(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Config {
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("stockroom.db")
    }

    pub fn backups_dir(&self) -> PathBuf {
        self.data_dir.join("backups")
    }

    /// Defaults plus the given overrides, for tests and tools. Panics on an
    /// invalid override, which is a bug in the caller.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Config {
        let data_dir: PathBuf = data_dir.into();
        let env = [(
            "STOCKROOM_DATA_DIR".to_string(),
            data_dir.display().to_string(),
        )];
        load(&LoadOptions::default(), env).expect("defaults are valid")
    }
}

/// Builds the configuration from all layers; `env` is the process environment.
pub fn load(
    options: &LoadOptions,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigErrors> {
    let (sources, mut problems) = sources::Sources::gather(options, env);
    match validate::validate(&sources) {
        Ok(config) if problems.is_empty() => Ok(config),
        Ok(_) => Err(ConfigErrors(problems)),
        Err(mut more) => {
            problems.append(&mut more);
            Err(ConfigErrors(problems))
        }
    }
}

#[cfg(test)]
mod tests;
