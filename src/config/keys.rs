//! The list of every configuration key: its name, default and meaning.
//!
//! This table is the single source for the TOML names, the `STOCKROOM_*`
//! variable names, `check-config` output and the documented example file
//! (a test keeps `packaging/stockroom.example.toml` in step with it).

/// One configuration key.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// Dotted TOML path, e.g. `db.pool_size`.
    pub key: &'static str,
    /// The default, as it would be written in TOML; empty when unset by default.
    pub default: &'static str,
    /// A secret: redacted in output, may be given as `<key>_file`.
    pub secret: bool,
    pub help: &'static str,
}

impl KeySpec {
    /// `db.pool_size` → `STOCKROOM_DB_POOL_SIZE`.
    pub fn env_name(&self) -> String {
        format!("STOCKROOM_{}", self.key.replace('.', "_").to_uppercase())
    }
}

const fn key(key: &'static str, default: &'static str, help: &'static str) -> KeySpec {
    KeySpec {
        key,
        default,
        secret: false,
        help,
    }
}

pub const KEYS: &[KeySpec] = &[
    key(
        "data_dir",
        "./data",
        "Directory holding the database, files and backups.",
    ),
    key(
        "listen",
        "127.0.0.1:8080",
        "Address and port to listen on (use 0.0.0.0:8080 to serve the LAN).",
    ),
    key(
        "public_url",
        "",
        "URL staff type into a browser, used in printed links; derived from `listen` when empty.",
    ),
    key(
        "log.level",
        "info",
        "Log filter: error, warn, info, debug, trace, or a tracing directive list.",
    ),
    key(
        "log.format",
        "auto",
        "auto (JSON unless a terminal), json or pretty.",
    ),
    key(
        "db.pool_size",
        "4",
        "Reader connections (1-64); there is always one writer besides.",
    ),
    key(
        "db.connection_timeout_secs",
        "30",
        "Seconds a request waits for a database connection before failing (1-600).",
    ),
    key(
        "db.busy_timeout_ms",
        "5000",
        "Milliseconds SQLite waits for a lock held by another process (100-60000).",
    ),
    key(
        "http.workers",
        "0",
        "HTTP worker threads; 0 means one per CPU core.",
    ),
    key(
        "http.max_body_bytes",
        "1048576",
        "Largest request body accepted, in bytes (1024-104857600).",
    ),
    key(
        "http.body_timeout_secs",
        "60",
        "Seconds a request's body may take to arrive before the request is refused with 408 (1-3600).",
    ),
    key(
        "http.shutdown_timeout_secs",
        "30",
        "Seconds in-flight requests get to finish on shutdown (0-600).",
    ),
    key(
        "http.allowed_origins",
        "[]",
        "Origins (scheme://host[:port]) allowed to call /api/v1 from a browser.",
    ),
    key(
        "http.trusted_proxies",
        "[]",
        "Reverse proxies (addresses or networks) whose X-Forwarded-For/-Proto/-Host headers are believed; others' are ignored.",
    ),
    key(
        "tls.cert_file",
        "",
        "PEM certificate chain; with tls.key_file, serves HTTPS.",
    ),
    key("tls.key_file", "", "PEM private key for tls.cert_file."),
    key(
        "session.idle_timeout_minutes",
        "15",
        "Minutes without a request before a session is logged off (1-1440).",
    ),
    key(
        "session.absolute_timeout_hours",
        "12",
        "Hours after login when a session ends whatever the activity (1-168).",
    ),
    key(
        "security.lockout_threshold",
        "5",
        "Failed logins for one username that lock it (1-100).",
    ),
    key(
        "security.lockout_window_minutes",
        "15",
        "Window in which failed logins are counted (1-1440).",
    ),
    key(
        "security.lockout_duration_minutes",
        "15",
        "How long a locked username stays locked (1-1440).",
    ),
    key(
        "security.auth_rate_per_minute",
        "20",
        "Login, setup and password requests one client IP may make per minute (1-10000).",
    ),
    key(
        "security.auth_rate_burst",
        "10",
        "Such requests one client IP may make at once (1-10000).",
    ),
    key(
        "security.second_factor_required_for",
        "administrators",
        "Who must sign in with an authenticator app as well as the password: administrators, managers (and administrators), everyone, or nobody.",
    ),
    key(
        "practice.time_zone",
        "",
        "IANA time zone deciding \"today\" for expiry dates, e.g. Europe/Berlin; the machine's zone when empty.",
    ),
    key(
        "practice.currency",
        "EUR",
        "ISO 4217 code of the practice's one currency (prices are in it), e.g. EUR, GBP, USD.",
    ),
    key(
        "jobs.concurrency",
        "8",
        "Jobs of one kind (sending an order, a digest …) run at once (1-32); sending waits on the network, not the processor.",
    ),
    key(
        "jobs.lease_seconds",
        "300",
        "How long a running job is held before another worker may take it over, e.g. after a crash (10-86400).",
    ),
    key(
        "jobs.backoff_base_seconds",
        "30",
        "Wait before a failed job's first retry; doubled for each further one (1-3600).",
    ),
    key(
        "jobs.backoff_cap_seconds",
        "3600",
        "Longest wait between retries (1-86400).",
    ),
    key(
        "jobs.shutdown_grace_seconds",
        "10",
        "On shutdown, how long running jobs may finish before they are released for the next start (0-300).",
    ),
    key(
        "jobs.schedule",
        "",
        "Recurring jobs in the practice's time zone: `kind = minute hour day month weekday`, separated by `;`.",
    ),
    key(
        "dispatch.folder_root",
        "",
        "Folder under which suppliers' CSV drop folders live (a mounted share); <data_dir>/outbox when empty.",
    ),
    key(
        "dispatch.webhook_timeout_seconds",
        "15",
        "How long a supplier's webhook may take to answer before the send is retried (1-300).",
    ),
    key(
        "dispatch.webhook_allow",
        "[]",
        "Addresses or networks on this machine or the LAN (e.g. 192.168.1.20, 10.20.0.0/16) that suppliers' webhooks may reach; all others but public addresses are refused.",
    ),
    key(
        "smtp.host",
        "",
        "Outgoing mail server for orders and notices, e.g. smtp.example.org; email is off when empty.",
    ),
    key(
        "smtp.port",
        "587",
        "Outgoing mail server port: usually 587 (STARTTLS) or 465 (TLS).",
    ),
    key(
        "smtp.security",
        "starttls",
        "`starttls` (upgrade after connecting, port 587), `tls` (TLS from the start, port 465), or `none` (only for a mail server on this machine).",
    ),
    key(
        "smtp.username",
        "",
        "User name at the mail server; no login when empty.",
    ),
    KeySpec {
        key: "smtp.password",
        default: "",
        secret: true,
        help: "Password at the mail server (or give smtp.password_file).",
    },
    key(
        "smtp.from",
        "",
        "Sender address of every email stockroom sends, e.g. \"Practice Supplies <supplies@example.org>\".",
    ),
    key(
        "smtp.timeout_seconds",
        "30",
        "How long handing one message to the mail server may take before the send is retried (1-300).",
    ),
    key(
        "smtp.ca_file",
        "",
        "PEM file of an extra certificate authority to trust for the mail server (a practice's own CA).",
    ),
    key(
        "health.min_free_disk_mb",
        "1024",
        "Free space in the data directory below which /readyz reports failure.",
    ),
    KeySpec {
        key: "setup.token",
        default: "",
        secret: true,
        help: "Preset first-run setup token (at least 32 characters); random when empty.",
    },
];

pub fn find(key: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.key == key)
}
