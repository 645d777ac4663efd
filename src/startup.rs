//! Builds and runs the application: opens and migrates the database, prints
//! the first-run setup link when needed, binds the listener (port 0 in
//! tests), serves until SIGTERM/SIGINT or `stop()`, and runs periodic
//! housekeeping beside the server.

use std::net::TcpListener;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::dev::{Server, ServerHandle};
use anyhow::Context as _;

use crate::accounts::setup::SetupToken;
use crate::accounts::{lockout, sessions, users};
use crate::config::Config;
use crate::crypto::random_token;
use crate::db::{Checkpoint, Db, DbError, migrate, run_blocking};
use crate::domain::{Clock, SystemClock};
use crate::web::middleware::rate_limit::AuthLimiter;
use crate::web::state::AppState;

pub struct Application {
    addr: std::net::SocketAddr,
    server: Server,
    state: AppState,
    /// The kinds of job this process runs.
    job_kinds: Vec<crate::jobs::worker::Kind>,
    /// Whether `run_until_stopped` starts the job worker (see
    /// [`Application::without_job_worker`]).
    job_worker: bool,
    /// Held until the server stops.
    lock: DataDirLock,
}

/// Opens the database and applies pending migrations (writing the
/// pre-migrate copy first when the database already has a schema).
/// The application's own job kinds, as the worker runs them: dispatch's
/// and the digest's, sharing one pooled mail server connection. Tests that
/// drain the queue with `jobs::worker::run_pending` take the same list.
pub fn job_kinds(config: Arc<Config>) -> anyhow::Result<Vec<crate::jobs::worker::Kind>> {
    let mailer = crate::mail::Mailer::from_config(&config)?;
    let dispatcher = crate::dispatch::Dispatcher::with_mailer(config.clone(), mailer.clone())?;
    let mut kinds = crate::dispatch::kinds(dispatcher);
    kinds.extend(crate::notify::kinds(crate::notify::Notifier {
        config,
        mailer,
    }));
    Ok(kinds)
}

/// The one server of a data directory: an exclusive lock on
/// `<data_dir>/stockroom.lock`, held while the server runs (the kernel
/// drops it when the process ends, however it ends). A second server on the
/// same directory refuses to start; commands such as `unlock` or
/// `create-user` do not take it and work beside the server.
#[derive(Debug)]
pub struct DataDirLock {
    _file: std::fs::File,
}

impl DataDirLock {
    pub fn acquire(dir: &std::path::Path) -> anyhow::Result<DataDirLock> {
        use std::io::{Read, Seek, Write};
        prepare_data_dir(dir)?;
        let path = dir.join("stockroom.lock");
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("while opening {}", path.display()))?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                anyhow::bail!(
                    "another stockroom server is already running on the data directory {}{}: stop it first (one server per data directory)",
                    dir.display(),
                    if holder.is_empty() {
                        String::new()
                    } else {
                        format!(" (process {holder})")
                    }
                );
            }
            Err(e) => {
                return Err(std::io::Error::from(e))
                    .with_context(|| format!("while locking {}", path.display()));
            }
        }
        // Who holds it, for the message above.
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())?;
        Ok(DataDirLock { _file: file })
    }
}

pub fn open_database(config: &Config, clock: &dyn Clock) -> anyhow::Result<Db> {
    prepare_data_dir(&config.data_dir)?;
    // The default outbox lives in the data directory and is made here; a
    // configured root is a share, and its absence means "not mounted".
    let outbox = config.data_dir.join("outbox");
    if config.dispatch.folder_root == outbox {
        std::fs::create_dir_all(&outbox)
            .with_context(|| format!("while creating {}", outbox.display()))?;
    }
    let db = Db::open(&config.db_path(), &config.db)
        .with_context(|| format!("while opening {}", config.db_path().display()))?;
    {
        let mut conn = db.writer()?;
        let report = migrate::migrate(&mut conn, &config.backups_dir(), clock.now())
            .context("while migrating the database")?;
        if !report.applied.is_empty() {
            tracing::info!(
                from = report.from,
                applied = report.applied.len(),
                "database migrated"
            );
        }
    }
    Ok(db)
}

/// Creates the data directory readable by stockroom's user only (it holds
/// the database, sessions and backups); warns when an existing one is open
/// to others, which an administrator may have chosen deliberately.
pub fn prepare_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("while creating the data directory {}", dir.display()))?;
    }
    let mode = std::fs::metadata(dir)
        .with_context(|| format!("while reading the data directory {}", dir.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            path = %dir.display(),
            mode = format!("{:o}", mode & 0o777),
            "the data directory is accessible to other users; consider chmod 700"
        );
    }
    Ok(())
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`Application::build`], with a clock tests can move.
    pub async fn build_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        let config = Arc::new(config);
        let dir = config.data_dir.clone();
        let lock = run_blocking(move || DataDirLock::acquire(&dir)).await?;
        crate::web::error::set_data_dir(&config.data_dir);
        let c = config.clone();
        let cl = clock.clone();
        let db = run_blocking(move || open_database(&c, cl.as_ref())).await?;
        // With the directory locked no other process runs jobs here: every
        // job still marked running was cut off by a crash or a power loss.
        // It is given back now rather than after its lease (five minutes).
        let now = clock.now();
        let recovered = db
            .write(move |tx| crate::jobs::recover_interrupted(tx, now).map_err(DbError::from))
            .await?;
        if recovered > 0 {
            tracing::warn!(
                jobs = recovered,
                "jobs interrupted by the last stop were given back to run again"
            );
        }

        let has_admin = db
            .read(|c| users::active_admin_exists(c).map_err(DbError::from))
            .await?;
        // Those the second-factor policy covers sign in again and set one up.
        let policy = config.security.second_factor;
        let ended = db
            .write(move |tx| {
                crate::accounts::second_factor::end_unprotected_sessions(tx, policy)
                    .map_err(DbError::from)
            })
            .await?;
        if ended > 0 {
            tracing::info!(
                sessions = ended,
                policy = policy.as_str(),
                "signed out users who must now set up a second factor"
            );
        }
        if policy == crate::config::SecondFactorPolicy::Nobody {
            tracing::warn!(
                "security.second_factor_required_for is nobody: administrators sign in with a password alone"
            );
        }
        let setup_token = (!has_admin).then(|| {
            SetupToken::new(
                config
                    .setup
                    .token
                    .as_ref()
                    .map(|s| s.expose().to_string())
                    .unwrap_or_else(|| random_token(32)),
            )
        });

        let jobs_waker = crate::jobs::worker::Waker::default();
        jobs_waker.install(&db)?;

        let listener = TcpListener::bind(config.listen)
            .with_context(|| format!("while binding {}", config.listen))?;
        let addr = listener.local_addr()?;
        let state = AppState {
            config: config.clone(),
            db,
            clock,
            setup_token: Arc::new(RwLock::new(setup_token)),
            auth_limiter: Arc::new(AuthLimiter::new(
                config.security.auth_rate_per_minute,
                config.security.auth_rate_burst,
            )),
            search: Default::default(),
            jobs_waker,
            last_write_check: Default::default(),
        };

        let s = state.clone();
        let server = HttpServer::new(move || crate::web::app(s.clone()))
            .workers(config.http.workers)
            .shutdown_timeout(config.http.shutdown_timeout.as_secs())
            // `stockroom serve` installs its own handlers before binding.
            .disable_signals();
        let server = match &config.tls {
            Some(tls) => {
                server.listen_rustls_0_23(listener, crate::startup::tls::server_config(tls)?)?
            }
            None => server.listen(listener)?,
        }
        .run();

        let app = Application {
            addr,
            server,
            state,
            job_kinds: job_kinds(config.clone())?,
            job_worker: true,
            lock,
        };
        if let Some(url) = app.setup_url() {
            // Printed for whoever installs the appliance, and logged for
            // those who read the journal; it stops working once used.
            println!(
                "\nstockroom has no administrator yet. Open this link to create one\n\
                 (from another computer, use this machine's network name or address):\n\n    {url}\n"
            );
            tracing::warn!(setup_url = %url, "first run: open the setup URL to create the administrator");
        }
        tracing::info!(address = %addr, tls = config.tls.is_some(), "listening");
        Ok(app)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The one-time first-run link, while no admin exists.
    pub fn setup_url(&self) -> Option<String> {
        let token = self.state.setup_token()?;
        let base = match &self.state.config.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => {
                let scheme = if self.state.tls() { "https" } else { "http" };
                let mut addr = self.addr;
                // 0.0.0.0 is not an address a browser can open; the local
                // one works on this machine and shows the port elsewhere.
                if addr.ip().is_unspecified() {
                    addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                format!("{scheme}://{addr}")
            }
        };
        Some(format!("{base}/setup?token={}", token.expose()))
    }

    /// Adds a kind of job for the worker to run.
    pub fn with_job_kind(mut self, kind: crate::jobs::worker::Kind) -> Self {
        self.job_kinds.push(kind);
        self
    }

    /// Serves without running background jobs: neither the worker nor the
    /// schedule runs, so queued jobs wait until something else runs them.
    /// For tests that step through the queue themselves (`jobs::schedule::tick`
    /// then `jobs::worker::run_pending`) instead of waiting on timers.
    pub fn without_job_worker(mut self) -> Self {
        self.job_worker = false;
        self
    }

    /// Serves until the server is stopped (signal or handle), then waits for
    /// in-flight requests up to `http.shutdown_timeout_secs`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let housekeeping = tokio::spawn(housekeeping(self.state.clone()));
        let (stop_jobs, stop_rx) = tokio::sync::watch::channel(false);
        let jobs = self.state.config.jobs.clone();
        let worker = crate::jobs::worker::Worker {
            db: self.state.db.clone(),
            clock: self.state.clock.clone(),
            kinds: self.job_kinds,
            settings: crate::jobs::worker::Settings {
                lease: jobs.lease,
                backoff_base: jobs.backoff_base,
                backoff_cap: jobs.backoff_cap,
                shutdown_grace: jobs.shutdown_grace,
                max_idle: Duration::from_secs(30),
            },
            waker: self.state.jobs_waker.clone(),
            id: format!("{}-{}", std::process::id(), &random_token(6)[..6]),
        };
        for s in &jobs.schedules {
            if !worker.kinds.iter().any(|k| k.name == s.kind) {
                tracing::warn!(kind = %s.kind, "jobs.schedule names a kind of job this version does not run; its jobs will wait");
            }
        }
        let schedules = if self.job_worker {
            crate::notify::schedules(&self.state.config)
        } else {
            Vec::new()
        };
        let scheduler = tokio::spawn(crate::jobs::schedule::run(
            self.state.db.clone(),
            self.state.clock.clone(),
            self.state.config.practice.time_zone.clone(),
            schedules,
            stop_rx.clone(),
        ));
        // While jobs wait on the mail server or the folder share, it is
        // probed, so that they go within seconds of it coming back.
        let watcher = if self.job_worker {
            let dispatcher =
                crate::dispatch::Dispatcher::new(self.state.config.clone()).map(Arc::new);
            match dispatcher {
                Ok(d) => {
                    let probe: crate::jobs::watch::Probe = Arc::new(move |target: String| {
                        let d = d.clone();
                        Box::pin(async move { d.probe(&target).await })
                    });
                    Some(tokio::spawn(crate::jobs::watch::run(
                        self.state.db.clone(),
                        self.state.clock.clone(),
                        self.state.jobs_waker.clone(),
                        probe,
                        jobs.probe_every,
                        stop_rx.clone(),
                    )))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "targets that jobs wait on are not probed");
                    None
                }
            }
        } else {
            None
        };
        let run_worker = self.job_worker;
        let worker = tokio::spawn(async move {
            if run_worker {
                worker.run(stop_rx).await;
            }
        });
        let result = self.server.await;
        housekeeping.abort();
        // The worker gets its grace period after the last request ends.
        let _ = stop_jobs.send(true);
        let _ = scheduler.await;
        if let Some(w) = watcher {
            let _ = w.await;
        }
        if let Err(e) = worker.await {
            tracing::error!(error = %e, "the job worker ended abnormally");
        }
        // Leave the WAL folded into the database file on a clean stop.
        let db = self.state.db.clone();
        if let Err(e) = run_blocking(move || db.checkpoint(Checkpoint::Truncate)).await {
            tracing::warn!(error = %e, "final checkpoint failed");
        }
        tracing::info!("stopped");
        // Another server may start on the directory from here on.
        drop(self.lock);
        result
    }
}

/// Periodic upkeep: WAL checkpoints, expired-session purge, limiter memory.
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        n += 1;
        let db = state.db.clone();
        if let Err(e) = run_blocking(move || db.checkpoint(Checkpoint::Passive)).await {
            tracing::warn!(error = %e, "checkpoint failed");
        }
        if n.is_multiple_of(10) {
            let now = state.clock.now();
            let idle = state.config.session.idle_timeout;
            let security = state.config.security.clone();
            match state
                .db
                .write(move |tx| {
                    let sessions = sessions::purge_expired(tx, now, idle)?;
                    let lockouts = lockout::purge(tx, now, &security)?;
                    let keys = crate::web::middleware::idempotency::purge(tx, now)?;
                    Ok::<_, DbError>(sessions + lockouts + keys)
                })
                .await
            {
                Ok(purged) if purged > 0 => tracing::info!(
                    purged,
                    "removed expired sessions, lock-out records and idempotency keys"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "session purge failed"),
            }
            state.auth_limiter.shrink();
        }
    }
}

pub mod tls {
    //! Loading the certificate and key for HTTPS.

    use anyhow::Context as _;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    use crate::config::TlsConfig;

    pub fn server_config(tls: &TlsConfig) -> anyhow::Result<rustls::ServerConfig> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert_file)
            .with_context(|| format!("while reading {}", tls.cert_file.display()))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("while parsing {}", tls.cert_file.display()))?;
        let key = PrivateKeyDer::from_pem_file(&tls.key_file)
            .with_context(|| format!("while reading {}", tls.key_file.display()))?;
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .context("while loading the TLS certificate and key")
    }
}
