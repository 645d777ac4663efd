use super::*;
use std::io::Write;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn file(dir: &tempfile::TempDir, name: &str, body: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(body.as_bytes()))
        .unwrap();
    path
}

fn with_file(path: PathBuf) -> LoadOptions {
    LoadOptions {
        config_path: Some(path),
        overrides: vec![],
    }
}

#[test]
fn defaults_are_valid_and_documented() {
    let dir = tempfile::tempdir().unwrap();
    let config = load(
        &LoadOptions::default(),
        env(&[("STOCKROOM_DATA_DIR", dir.path().to_str().unwrap())]),
    )
    .unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.session.idle_timeout, Duration::from_secs(15 * 60));
    assert_eq!(
        config.session.absolute_timeout,
        Duration::from_secs(12 * 3600)
    );
    assert_eq!(config.security.lockout_threshold, 5);
    assert!(config.tls.is_none());
    assert_eq!(config.effective.len(), KEYS.len());
}

#[test]
fn every_problem_is_reported_at_once_with_key_and_origin() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        &dir,
        "c.toml",
        r#"
listen = "not-an-address"
[db]
pool_size = 0
pool_sise = 3
[session]
idle_timeout_minutes = "soon"
"#,
    );
    let err = load(
        &with_file(path.clone()),
        env(&[
            ("STOCKROOM_LOG_FORMAT", "xml"),
            ("STOCKROOM_TLS_CERT_FILE", "/nonexistent/cert.pem"),
            ("STOCKROOM_NO_SUCH_THING", "1"),
        ]),
    )
    .unwrap_err();
    let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
    for expected in [
        "listen",
        "db.pool_size",
        "db.pool_sise",
        "session.idle_timeout_minutes",
        "log.format",
        "tls.key_file",
        "STOCKROOM_NO_SUCH_THING",
    ] {
        assert!(keys.contains(&expected), "{expected} missing from {keys:?}");
    }
    let typo = err.0.iter().find(|p| p.key == "db.pool_sise").unwrap();
    assert!(
        typo.message.contains("did you mean `db.pool_size`"),
        "{typo}"
    );
    let format = err.0.iter().find(|p| p.key == "log.format").unwrap();
    assert_eq!(format.origin, "env STOCKROOM_LOG_FORMAT");
    let pool = err.0.iter().find(|p| p.key == "db.pool_size").unwrap();
    assert!(pool.origin.contains(path.to_str().unwrap()), "{pool}");
    assert!(pool.message.contains("expected 1 to 64"), "{pool}");
}

#[test]
fn layers_apply_in_order_default_file_env_flag() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        &dir,
        "c.toml",
        "listen = \"127.0.0.1:9000\"\n[db]\npool_size = 8\nbusy_timeout_ms = 2000\n",
    );
    let options = LoadOptions {
        config_path: Some(path),
        overrides: vec![("listen", "127.0.0.1:9100".into())],
    };
    let config = load(
        &options,
        env(&[
            ("STOCKROOM_DB_POOL_SIZE", "12"),
            ("STOCKROOM_LISTEN", "127.0.0.1:9050"),
        ]),
    )
    .unwrap();
    assert_eq!(config.listen.port(), 9100, "flag beats env");
    assert_eq!(config.db.pool_size, 12, "env beats file");
    assert_eq!(
        config.db.busy_timeout,
        Duration::from_millis(2000),
        "file beats default"
    );
    assert_eq!(
        config.db.connection_timeout,
        Duration::from_secs(30),
        "default"
    );
}

#[test]
fn implicit_file_in_data_dir_is_read() {
    let dir = tempfile::tempdir().unwrap();
    file(&dir, "stockroom.toml", "[db]\npool_size = 7\n");
    let config = load(
        &LoadOptions::default(),
        env(&[("STOCKROOM_DATA_DIR", dir.path().to_str().unwrap())]),
    )
    .unwrap();
    assert_eq!(config.db.pool_size, 7);
}

#[test]
fn explicit_missing_file_is_an_error() {
    let err = load(&with_file("/nonexistent/stockroom.toml".into()), env(&[])).unwrap_err();
    assert!(
        err.0[0].message.contains("cannot read config file"),
        "{err}"
    );
}

#[test]
fn secrets_come_from_files_and_are_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let token = "s3cr3t-setup-token-abcdefghijklmnopqrstuvwxyz";
    let secret = file(&dir, "token", &format!("{token}\n"));
    let config = load(
        &LoadOptions::default(),
        env(&[
            ("STOCKROOM_DATA_DIR", dir.path().to_str().unwrap()),
            ("STOCKROOM_SETUP_TOKEN_FILE", secret.to_str().unwrap()),
        ]),
    )
    .unwrap();
    assert_eq!(config.setup.token.as_ref().unwrap().expose(), token);
    let shown = format!("{config:?}");
    assert!(!shown.contains(token), "Debug output leaks the secret");
    let line = config
        .effective
        .iter()
        .find(|e| e.key == "setup.token")
        .unwrap();
    assert_eq!(line.display, "[redacted]");

    // Also from the TOML file, relative to the file.
    let toml = file(&dir, "c.toml", "[setup]\ntoken_file = \"token\"\n");
    let config = load(&with_file(toml), env(&[])).unwrap();
    assert_eq!(config.setup.token.unwrap().expose(), token);
}

#[test]
fn the_time_zone_must_exist() {
    let err = load(
        &LoadOptions::default(),
        env(&[("STOCKROOM_PRACTICE_TIME_ZONE", "Mars/Olympus")]),
    )
    .unwrap_err();
    assert_eq!(err.0[0].key, "practice.time_zone");
    let ok = load(
        &LoadOptions::default(),
        env(&[("STOCKROOM_PRACTICE_TIME_ZONE", "Europe/Berlin")]),
    )
    .unwrap();
    assert_eq!(ok.practice.time_zone.iana_name(), Some("Europe/Berlin"));
}

#[test]
fn short_setup_token_is_refused() {
    let err = load(
        &LoadOptions::default(),
        env(&[("STOCKROOM_SETUP_TOKEN", "short")]),
    )
    .unwrap_err();
    assert_eq!(err.0[0].key, "setup.token");
    assert!(
        !err.to_string().contains("short\""),
        "the value is not echoed"
    );
}

#[test]
fn example_config_parses_and_lists_every_key() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/stockroom.example.toml"
    );
    let text = std::fs::read_to_string(example).unwrap();
    for spec in KEYS {
        let leaf = spec.key.rsplit('.').next().unwrap();
        assert!(
            text.contains(&format!("{leaf} =")) || text.contains(&format!("{leaf}_file =")),
            "{} is not documented in the example config",
            spec.key
        );
    }
    // The example, uncommented, must be a valid configuration as shipped.
    let uncommented: String = text
        .lines()
        .map(|l| {
            l.strip_prefix("# ")
                .filter(|r| r.contains(" = ") || r.starts_with('['))
                .unwrap_or(l)
        })
        .filter(|l| !l.contains("_file =") && !l.contains("token ="))
        .collect::<Vec<_>>()
        .join("\n");
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "example.toml", &uncommented);
    load(&with_file(path), env(&[])).unwrap();
}

#[test]
fn relative_paths_in_a_file_are_relative_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    file(&dir, "cert.pem", "x");
    file(&dir, "key.pem", "x");
    let path = file(
        &dir,
        "c.toml",
        "[tls]\ncert_file = \"cert.pem\"\nkey_file = \"key.pem\"\n",
    );
    let config = load(&with_file(path), env(&[])).unwrap();
    assert_eq!(config.tls.unwrap().cert_file, dir.path().join("cert.pem"));
}

#[test]
fn allowed_origins_accept_a_trailing_slash_but_not_a_path() {
    let ok = load(
        &LoadOptions::default(),
        env(&[(
            "STOCKROOM_HTTP_ALLOWED_ORIGINS",
            "https://a.example/, http://b.example:8080",
        )]),
    )
    .unwrap();
    assert_eq!(ok.http.allowed_origins.len(), 2);
    let err = load(
        &LoadOptions::default(),
        env(&[("STOCKROOM_HTTP_ALLOWED_ORIGINS", "https://a.example/path")]),
    )
    .unwrap_err();
    assert_eq!(err.0[0].key, "http.allowed_origins");
}

#[test]
fn job_settings_and_schedules_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let err = load(
        &LoadOptions::default(),
        env(&[
            ("STOCKROOM_DATA_DIR", dir.path().to_str().unwrap()),
            ("STOCKROOM_JOBS_SCHEDULE", "digest.daily = 0 25 * * *"),
            ("STOCKROOM_JOBS_BACKOFF_BASE_SECONDS", "600"),
            ("STOCKROOM_JOBS_BACKOFF_CAP_SECONDS", "60"),
        ]),
    )
    .unwrap_err();
    let schedule = err.0.iter().find(|p| p.key == "jobs.schedule").unwrap();
    assert!(schedule.message.contains("digest.daily"), "{schedule}");
    assert_eq!(schedule.origin, "env STOCKROOM_JOBS_SCHEDULE");
    assert!(err.0.iter().any(|p| p.key == "jobs.backoff_cap_seconds"));
    let ok = load(
        &LoadOptions::default(),
        env(&[
            ("STOCKROOM_DATA_DIR", dir.path().to_str().unwrap()),
            ("STOCKROOM_JOBS_SCHEDULE", "digest.daily = 0 7 * * 1-5"),
        ]),
    )
    .unwrap();
    assert_eq!(ok.jobs.schedules[0].kind, "digest.daily");
    assert_eq!(ok.jobs.concurrency, 8);
}

#[test]
fn the_mail_server_settings_are_checked_and_plain_text_stays_on_this_machine() {
    let off = load(&LoadOptions::default(), env(&[])).unwrap();
    assert!(off.smtp.is_none(), "email is off by default");

    let err = load(
        &LoadOptions::default(),
        env(&[
            ("STOCKROOM_SMTP_HOST", "mail.example.org"),
            ("STOCKROOM_SMTP_SECURITY", "none"),
            ("STOCKROOM_SMTP_USERNAME", "supplies"),
        ]),
    )
    .unwrap_err();
    let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        ["smtp.security", "smtp.password", "smtp.from"],
        "{err}"
    );

    let err = load(
        &LoadOptions::default(),
        env(&[
            ("STOCKROOM_SMTP_HOST", "mail.example.org"),
            ("STOCKROOM_SMTP_SECURITY", "ssl"),
            ("STOCKROOM_SMTP_FROM", "not an address"),
        ]),
    )
    .unwrap_err();
    let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["smtp.security", "smtp.from"], "{err}");

    let ok = load(
        &LoadOptions::default(),
        env(&[
            ("STOCKROOM_SMTP_HOST", "127.0.0.1"),
            ("STOCKROOM_SMTP_PORT", "2525"),
            ("STOCKROOM_SMTP_SECURITY", "none"),
            ("STOCKROOM_SMTP_USERNAME", "supplies"),
            ("STOCKROOM_SMTP_PASSWORD", "hunter2-but-longer"),
            ("STOCKROOM_SMTP_FROM", "Supplies <supplies@example.org>"),
        ]),
    )
    .unwrap();
    let smtp = ok.smtp.expect("email on");
    assert_eq!(
        (smtp.port, smtp.security),
        (2525, super::SmtpSecurity::None)
    );
    assert_eq!(smtp.from.email.to_string(), "supplies@example.org");
    assert!(
        !format!("{smtp:?}").contains("hunter2"),
        "the password is redacted"
    );
    let shown = ok
        .effective
        .iter()
        .find(|e| e.key == "smtp.password")
        .unwrap();
    assert_eq!(shown.display, "[redacted]");
}
