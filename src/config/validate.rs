//! Turns raw values into the typed [`Config`], collecting every problem.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::keys::{self, KEYS};
use super::sources::{Origin, RawValue, Sources};
use super::{
    Config, ConfigProblem, DbConfig, DispatchConfig, EffectiveValue, HealthConfig, HttpConfig,
    JobsConfig, LogConfig, LogFormat, PracticeConfig, SecondFactorPolicy, Secret, SecurityConfig,
    SessionConfig, SetupConfig, SmtpConfig, SmtpSecurity, TlsConfig,
};

struct Validator<'a> {
    sources: &'a Sources,
    problems: Vec<ConfigProblem>,
    effective: Vec<EffectiveValue>,
}

impl Validator<'_> {
    /// The value of `key` as text (TOML strings unquoted), with its origin.
    fn text(&mut self, key: &'static str) -> (String, Origin) {
        let spec = keys::find(key).expect("key is registered");
        let (text, origin) = match self.sources.get(key) {
            Some(raw) => {
                let text = match &raw.value {
                    RawValue::Text(t) => t.clone(),
                    RawValue::Toml(toml::Value::String(s)) => s.clone(),
                    RawValue::Toml(v) => v.to_string(),
                };
                (text, raw.origin.clone())
            }
            None => (spec.default.to_string(), Origin::Default),
        };
        let display = if spec.secret && !text.is_empty() {
            "[redacted]".to_string()
        } else {
            text.clone()
        };
        self.effective.push(EffectiveValue {
            key,
            display,
            origin: origin.clone(),
        });
        (text, origin)
    }

    fn problem(&mut self, key: &str, origin: &Origin, message: impl Into<String>) {
        self.problems.push(ConfigProblem {
            key: key.to_string(),
            origin: origin.to_string(),
            message: message.into(),
        });
    }

    fn origin_of(&self, key: &str) -> Origin {
        self.sources
            .get(key)
            .map_or(Origin::Default, |r| r.origin.clone())
    }

    fn string(&mut self, key: &'static str) -> String {
        self.text(key).0
    }

    /// A path; relative paths in a config file are relative to that file.
    fn optional_path(&mut self, key: &'static str) -> Option<PathBuf> {
        let (text, origin) = self.text(key);
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let path = PathBuf::from(text);
        match origin {
            Origin::File(file) if path.is_relative() => {
                Some(file.parent().map_or(path.clone(), |dir| dir.join(&path)))
            }
            _ => Some(path),
        }
    }

    /// An integer within `min..=max`; on error the minimum stands in so that
    /// validation can go on and report the rest.
    fn int(&mut self, key: &'static str, min: u64, max: u64) -> u64 {
        let (text, origin) = self.text(key);
        match text.trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            Ok(n) => {
                self.problem(
                    key,
                    &origin,
                    format!("{n} is out of range; expected {min} to {max}"),
                );
                min
            }
            Err(_) => {
                self.problem(
                    key,
                    &origin,
                    format!("expected a whole number from {min} to {max}, got {text:?}"),
                );
                min
            }
        }
    }

    fn string_list(&mut self, key: &'static str) -> Vec<String> {
        let raw = self.sources.get(key).cloned();
        let (text, origin) = self.text(key);
        let items: Vec<String> = match raw.map(|r| r.value) {
            Some(RawValue::Toml(toml::Value::Array(values))) => {
                let mut out = Vec::new();
                for v in values {
                    match v {
                        toml::Value::String(s) => out.push(s),
                        other => {
                            self.problem(key, &origin, format!("expected strings, got {other}"))
                        }
                    }
                }
                out
            }
            // The environment gives a comma-separated list; the default is "[]".
            _ => text
                .trim_matches(['[', ']'])
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        };
        items
    }
}

pub(super) fn validate(sources: &Sources) -> Result<Config, Vec<ConfigProblem>> {
    let mut v = Validator {
        sources,
        problems: Vec::new(),
        effective: Vec::new(),
    };

    let data_dir = PathBuf::from(v.string("data_dir"));
    if data_dir.as_os_str().is_empty() {
        let origin = v.origin_of("data_dir");
        v.problem("data_dir", &origin, "must not be empty");
    }

    let (listen_text, listen_origin) = v.text("listen");
    let listen = match listen_text.trim().parse::<SocketAddr>() {
        Ok(addr) => addr,
        Err(_) => {
            v.problem(
                "listen",
                &listen_origin,
                format!(
                    "expected IP:port such as 127.0.0.1:8080 or 0.0.0.0:8080, got {listen_text:?}"
                ),
            );
            SocketAddr::from(([127, 0, 0, 1], 8080))
        }
    };

    let (public_url, public_origin) = v.text("public_url");
    let public_url = public_url.trim().to_string();
    if !(public_url.is_empty()
        || public_url.starts_with("http://")
        || public_url.starts_with("https://"))
    {
        v.problem(
            "public_url",
            &public_origin,
            format!("expected a URL starting with http:// or https://, got {public_url:?}"),
        );
    }

    let level = v.string("log.level");
    if tracing_subscriber::EnvFilter::try_new(&level).is_err() {
        let origin = v.origin_of("log.level");
        v.problem(
            "log.level",
            &origin,
            format!("{level:?} is not a log filter; try info or debug"),
        );
    }
    let (format_text, format_origin) = v.text("log.format");
    let format = match format_text.trim() {
        "auto" => LogFormat::Auto,
        "json" => LogFormat::Json,
        "pretty" => LogFormat::Pretty,
        other => {
            v.problem(
                "log.format",
                &format_origin,
                format!("expected auto, json or pretty, got {other:?}"),
            );
            LogFormat::Auto
        }
    };

    let db = DbConfig {
        pool_size: v.int("db.pool_size", 1, 64) as u32,
        connection_timeout: Duration::from_secs(v.int("db.connection_timeout_secs", 1, 600)),
        busy_timeout: Duration::from_millis(v.int("db.busy_timeout_ms", 100, 60_000)),
        wal_fold_bytes: super::WAL_FOLD_BYTES,
    };

    let workers = v.int("http.workers", 0, 256) as usize;
    let http = HttpConfig {
        workers: if workers == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            workers
        },
        max_body_bytes: v.int("http.max_body_bytes", 1024, 100 * 1024 * 1024) as usize,
        body_timeout: Duration::from_secs(v.int("http.body_timeout_secs", 1, 3600)),
        shutdown_timeout: Duration::from_secs(v.int("http.shutdown_timeout_secs", 0, 600)),
        allowed_origins: v.string_list("http.allowed_origins"),
        trusted_proxies: Vec::new(),
    };
    let mut http = http;
    http.trusted_proxies = networks(&mut v, "http.trusted_proxies");
    for origin in http.allowed_origins.clone() {
        let ok = (origin.starts_with("http://") || origin.starts_with("https://"))
            && !origin.contains(['?', '#'])
            && origin.trim_end_matches('/').matches('/').count() == 2;
        if !ok {
            let o = v.origin_of("http.allowed_origins");
            v.problem(
                "http.allowed_origins",
                &o,
                format!("{origin:?} is not an origin; expected scheme://host[:port] with no path"),
            );
        }
    }

    let cert = v.optional_path("tls.cert_file");
    let key = v.optional_path("tls.key_file");
    let tls = match (cert, key) {
        (Some(cert_file), Some(key_file)) => {
            for (k, p) in [("tls.cert_file", &cert_file), ("tls.key_file", &key_file)] {
                if !p.is_file() {
                    let origin = v.origin_of(k);
                    v.problem(
                        k,
                        &origin,
                        format!("{} is not a readable file", p.display()),
                    );
                }
            }
            Some(TlsConfig {
                cert_file,
                key_file,
            })
        }
        (None, None) => None,
        (Some(_), None) => {
            let origin = v.origin_of("tls.cert_file");
            v.problem(
                "tls.key_file",
                &origin,
                "must be set when tls.cert_file is set",
            );
            None
        }
        (None, Some(_)) => {
            let origin = v.origin_of("tls.key_file");
            v.problem(
                "tls.cert_file",
                &origin,
                "must be set when tls.key_file is set",
            );
            None
        }
    };

    let session = SessionConfig {
        idle_timeout: minutes(v.int("session.idle_timeout_minutes", 1, 1440)),
        absolute_timeout: minutes(60 * v.int("session.absolute_timeout_hours", 1, 168)),
    };
    if session.idle_timeout > session.absolute_timeout {
        let origin = v.origin_of("session.idle_timeout_minutes");
        v.problem(
            "session.idle_timeout_minutes",
            &origin,
            "must not be longer than session.absolute_timeout_hours",
        );
    }

    let (second_text, second_origin) = v.text("security.second_factor_required_for");
    let second_factor = match second_text.trim() {
        "administrators" => SecondFactorPolicy::Administrators,
        "managers" => SecondFactorPolicy::Managers,
        "everyone" => SecondFactorPolicy::Everyone,
        "nobody" => SecondFactorPolicy::Nobody,
        other => {
            v.problem(
                "security.second_factor_required_for",
                &second_origin,
                format!("expected administrators, managers, everyone or nobody, got {other:?}"),
            );
            SecondFactorPolicy::Administrators
        }
    };
    let security = SecurityConfig {
        lockout_threshold: v.int("security.lockout_threshold", 1, 100) as u32,
        lockout_window: minutes(v.int("security.lockout_window_minutes", 1, 1440)),
        lockout_duration: minutes(v.int("security.lockout_duration_minutes", 1, 1440)),
        auth_rate_per_minute: v.int("security.auth_rate_per_minute", 1, 10_000) as u32,
        auth_rate_burst: v.int("security.auth_rate_burst", 1, 10_000) as u32,
        second_factor,
    };

    let health = HealthConfig {
        min_free_disk_bytes: v.int("health.min_free_disk_mb", 0, 1 << 30) * 1024 * 1024,
    };

    let secs = Duration::from_secs;
    let jobs = JobsConfig {
        concurrency: v.int("jobs.concurrency", 1, 32) as usize,
        lease: secs(v.int("jobs.lease_seconds", 10, 86_400)),
        backoff_base: secs(v.int("jobs.backoff_base_seconds", 1, 3600)),
        backoff_cap: secs(v.int("jobs.backoff_cap_seconds", 1, 86_400)),
        shutdown_grace: secs(v.int("jobs.shutdown_grace_seconds", 0, 300)),
        probe_every: super::PROBE_EVERY,
        schedules: {
            let (raw, origin) = v.text("jobs.schedule");
            crate::domain::schedule::parse(&raw).unwrap_or_else(|problem| {
                v.problem("jobs.schedule", &origin, problem);
                Vec::new()
            })
        },
    };
    if jobs.backoff_cap < jobs.backoff_base {
        let origin = v.origin_of("jobs.backoff_cap_seconds");
        v.problem(
            "jobs.backoff_cap_seconds",
            &origin,
            "must not be shorter than jobs.backoff_base_seconds",
        );
    }

    let dispatch = DispatchConfig {
        folder_root: match v.text("dispatch.folder_root").0.trim() {
            "" => data_dir.join("outbox"),
            path => PathBuf::from(path),
        },
        webhook_timeout: secs(v.int("dispatch.webhook_timeout_seconds", 1, 300)),
        webhook_allow: Vec::new(),
    };
    let mut dispatch = dispatch;
    dispatch.webhook_allow = networks(&mut v, "dispatch.webhook_allow");
    let smtp = smtp(&mut v);

    let (zone, zone_origin) = v.text("practice.time_zone");
    let time_zone = match zone.trim() {
        "" => jiff::tz::TimeZone::system(),
        name => jiff::tz::TimeZone::get(name).unwrap_or_else(|_| {
            v.problem(
                "practice.time_zone",
                &zone_origin,
                format!("{name:?} is not a time zone name; use one like Europe/London or America/New_York"),
            );
            jiff::tz::TimeZone::UTC
        }),
    };
    let (currency, currency_origin) = v.text("practice.currency");
    let currency = currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        v.problem(
            "practice.currency",
            &currency_origin,
            format!("{currency:?} is not a three-letter currency code such as EUR or GBP"),
        );
    }
    let practice = PracticeConfig {
        time_zone,
        currency,
    };

    let (token, token_origin) = v.text("setup.token");
    let token = token.trim().to_string();
    if !token.is_empty() && token.len() < 32 {
        v.problem(
            "setup.token",
            &token_origin,
            format!("must be at least 32 characters, got {}", token.len()),
        );
    }
    let setup = SetupConfig {
        token: (!token.is_empty()).then(|| Secret::new(token)),
    };

    debug_assert_eq!(v.effective.len(), KEYS.len(), "every key is read once");
    if !v.problems.is_empty() {
        return Err(v.problems);
    }
    Ok(Config {
        data_dir,
        listen,
        public_url: (!public_url.is_empty()).then_some(public_url),
        log: LogConfig { level, format },
        db,
        http,
        tls,
        session,
        security,
        health,
        jobs,
        dispatch,
        smtp,
        practice,
        setup,
        effective: v.effective,
    })
}

fn minutes(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

/// The mail server settings; every key is read, even when email is off.
fn smtp(v: &mut Validator) -> Option<SmtpConfig> {
    let host = v.string("smtp.host").trim().to_string();
    let port = v.int("smtp.port", 1, 65_535) as u16;
    let (security, security_origin) = v.text("smtp.security");
    let security = match security.trim() {
        "starttls" => SmtpSecurity::StartTls,
        "tls" => SmtpSecurity::Tls,
        "none" => SmtpSecurity::None,
        other => {
            v.problem(
                "smtp.security",
                &security_origin,
                format!("{other:?} is not one of starttls, tls, none"),
            );
            SmtpSecurity::StartTls
        }
    };
    let username = v.string("smtp.username").trim().to_string();
    let (password, password_origin) = v.text("smtp.password");
    let (from, from_origin) = v.text("smtp.from");
    let timeout = Duration::from_secs(v.int("smtp.timeout_seconds", 1, 300));
    let ca_file = v.optional_path("smtp.ca_file");
    if host.is_empty() {
        return None;
    }
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if security == SmtpSecurity::None && !loopback {
        v.problem(
            "smtp.security",
            &security_origin,
            format!("`none` sends passwords and orders unencrypted; it is allowed only for a mail server on this machine, not {host:?}: use starttls or tls"),
        );
    }
    if !username.is_empty() && password.is_empty() {
        v.problem(
            "smtp.password",
            &password_origin,
            "is needed when smtp.username is set",
        );
    }
    let from = match from.trim().parse::<lettre::message::Mailbox>() {
        Ok(mailbox) => mailbox,
        Err(_) => {
            v.problem(
                "smtp.from",
                &from_origin,
                if from.trim().is_empty() {
                    "is needed when smtp.host is set: the address emails come from".to_string()
                } else {
                    format!(
                        "{:?} is not an email address such as \"Supplies <supplies@example.org>\"",
                        from.trim()
                    )
                },
            );
            return None;
        }
    };
    Some(SmtpConfig {
        host,
        port,
        security,
        username,
        password: (!password.is_empty()).then(|| Secret::new(password)),
        from,
        timeout,
        ca_file,
    })
}

/// A list of addresses or networks (`192.168.1.20`, `10.20.0.0/16`).
fn networks(v: &mut Validator, key: &'static str) -> Vec<crate::outbound::IpNet> {
    let mut out = Vec::new();
    for entry in v.string_list(key) {
        let entry = entry.trim();
        let net = entry.parse::<crate::outbound::IpNet>().or_else(|_| {
            entry
                .parse::<std::net::IpAddr>()
                .map(crate::outbound::IpNet::from)
        });
        match net {
            Ok(net) => out.push(net.trunc()),
            Err(_) => {
                let o = v.origin_of(key);
                v.problem(
                    key,
                    &o,
                    format!("{entry:?} is not an address or network; expected e.g. 192.168.1.20 or 10.20.0.0/16"),
                );
            }
        }
    }
    out
}
