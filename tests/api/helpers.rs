//! The test harness: `spawn_app()` starts stockroom as it runs in
//! production (same `Application`, real SQLite on disk, real HTTP), with a
//! manual clock so timeouts can be stepped over instead of waited for.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use reqwest::{Response, StatusCode};
use stockroom::accounts::users::{self, NewUser};
use stockroom::audit;
use stockroom::config::Config;
use stockroom::domain::{Clock, ManualClock};
use stockroom::startup::Application;
use tempfile::TempDir;

/// Logs only when TEST_LOG is set, so failures are not buried in noise.
static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        stockroom::telemetry::init(
            &stockroom::config::LogConfig {
                level: "debug".into(),
                format: stockroom::config::LogFormat::Pretty,
            },
            stockroom::telemetry::Sink::Stdout,
        );
    }
});

pub const PASSWORD: &str = "correct-horse-gauze-42";

pub struct TestApp {
    pub address: String,
    pub config: Config,
    pub clock: ManualClock,
    pub app_state: stockroom::web::state::AppState,
    pub setup_url: Option<String>,
    pub browser: Browser,
    /// Whether the application runs its own job worker; without one, tests
    /// run due jobs themselves with [`TestApp::run_pending_jobs`].
    pub worker: bool,
    handle: ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    // Dropped last: the data directory outlives the server.
    pub data_dir: Arc<TempDir>,
}

/// A cookie-holding HTTP client that does not follow redirects, so tests
/// see each 303 themselves.
#[derive(Clone)]
pub struct Browser {
    pub client: reqwest::Client,
    pub address: String,
}

pub fn test_config(dir: &TempDir) -> Config {
    let mut config = Config::for_data_dir(dir.path());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.http.workers = 2;
    config.http.shutdown_timeout = Duration::from_secs(1);
    // Tests sign in often from one address; the limiter has its own test.
    config.security.auth_rate_per_minute = 10_000;
    config.security.auth_rate_burst = 10_000;
    // Most tests sign administrators in with a password alone; the second
    // factor's own tests (second_factor.rs) run with the default policy.
    config.security.second_factor = stockroom::config::SecondFactorPolicy::Nobody;
    config
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with_jobs(adjust, Vec::new()).await
}

/// An application whose worker also runs these kinds of job.
pub async fn spawn_app_with_jobs(
    adjust: impl FnOnce(&mut Config),
    kinds: Vec<stockroom::jobs::worker::Kind>,
) -> TestApp {
    LazyLock::force(&TRACING);
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(&dir);
    adjust(&mut config);
    start(config, ManualClock::starting_now(), dir, kinds, true).await
}

/// An application without its job worker: queued jobs wait until the test
/// runs them with [`TestApp::run_pending_jobs`], so a test steps through
/// sends, retries and back-offs on its manual clock without waiting.
pub async fn spawn_app_without_worker(adjust: impl FnOnce(&mut Config)) -> TestApp {
    LazyLock::force(&TRACING);
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(&dir);
    adjust(&mut config);
    start(config, ManualClock::starting_now(), dir, Vec::new(), false).await
}

async fn start(
    config: Config,
    clock: ManualClock,
    data_dir: Arc<TempDir>,
    kinds: Vec<stockroom::jobs::worker::Kind>,
    worker: bool,
) -> TestApp {
    let mut app = Application::build_with_clock(config.clone(), Arc::new(clock.clone()))
        .await
        .expect("the application starts");
    for kind in kinds {
        app = app.with_job_kind(kind);
    }
    if !worker {
        app = app.without_job_worker();
    }
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let address = format!("{scheme}://127.0.0.1:{}", app.port());
    let setup_url = app.setup_url();
    let handle = app.handle();
    let app_state = app.state().clone();
    let server = tokio::spawn(app.run_until_stopped());
    TestApp {
        browser: Browser::new(&address),
        worker,
        address,
        config,
        clock,
        app_state,
        setup_url,
        handle,
        server,
        data_dir,
    }
}

impl TestApp {
    /// Stops the server and starts a new one on the same data directory,
    /// clock and browser, as a restart of the appliance would.
    pub async fn restart(self) -> TestApp {
        self.restart_with_jobs(Vec::new()).await
    }

    /// As [`TestApp::restart`], the new server's worker running `kinds` too.
    pub async fn restart_with_jobs(self, kinds: Vec<stockroom::jobs::worker::Kind>) -> TestApp {
        self.handle.stop(true).await;
        self.server.await.unwrap().unwrap();
        let browser = self.browser.clone();
        let mut app = start(
            self.config.clone(),
            self.clock.clone(),
            self.data_dir.clone(),
            kinds,
            self.worker,
        )
        .await;
        app.browser = Browser {
            client: browser.client,
            address: app.address.clone(),
        };
        app
    }

    /// Stops the server for good; the data directory stays for another process.
    pub async fn stop(self) -> Arc<TempDir> {
        self.handle.stop(true).await;
        self.server.await.unwrap().unwrap();
        self.data_dir
    }

    pub fn new_browser(&self) -> Browser {
        Browser::new(&self.address)
    }

    pub fn db(&self) -> &stockroom::db::Db {
        &self.app_state.db
    }

    /// Creates a user directly in the database, as `stockroom create-user` does.
    pub async fn create_user(&self, username: &str, role: &str) -> users::User {
        self.create_user_with(username, role, PASSWORD, false).await
    }

    pub async fn create_user_with(
        &self,
        username: &str,
        role: &str,
        password: &str,
        must_change: bool,
    ) -> users::User {
        let new =
            NewUser::prepare(username, "", role, password, must_change).expect("valid test user");
        let ctx = audit::Context::system(self.clock.now());
        self.db()
            .write(move |tx| users::create(tx, &ctx, &new))
            .await
            .expect("user created")
    }

    /// A fresh browser signed in as a new user with `role`.
    pub async fn browser_as(&self, role: &str) -> (Browser, users::User) {
        let user = self.create_user(&format!("{role}-user"), role).await;
        let b = self.new_browser();
        let res = b.login(&user.username, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "login as {role}");
        (b, user)
    }

    /// One SQL scalar, read through the application's pool.
    pub async fn scalar(&self, sql: &'static str) -> i64 {
        self.db()
            .read(move |c| {
                c.query_row(sql, [], |r| r.get(0))
                    .map_err(stockroom::db::DbError::from)
            })
            .await
            .unwrap()
    }

    /// How many audit rows record `action`.
    pub async fn audit_count(&self, action: &'static str) -> i64 {
        self.db()
            .read(move |c| {
                c.query_row(
                    "SELECT count(*) FROM audit_log WHERE action = ?1",
                    [action],
                    |r| r.get(0),
                )
                .map_err(stockroom::db::DbError::from)
            })
            .await
            .unwrap()
    }

    /// Verifies the whole audit chain and checks it covers every row.
    pub async fn assert_audit_chain_intact(&self) {
        let verified = self
            .db()
            .read(|c| Ok::<_, stockroom::db::DbError>(stockroom::audit::verify(c)))
            .await
            .unwrap()
            .expect("the audit chain verifies");
        assert_eq!(
            verified as i64,
            self.scalar("SELECT count(*) FROM audit_log").await
        );
    }

    /// Enqueues what the schedule says is due and runs every job that is
    /// due now (on the test's clock) with the
    /// application's own handlers, one after another, until none is due;
    /// how many ran. Where the application runs its own worker, it may take
    /// a job first, so this proves what is due, not that the worker is idle;
    /// on an app from [`spawn_app_without_worker`] it runs every job.
    pub async fn run_pending_jobs(&self) -> usize {
        // The schedule first, as the application's scheduler would have
        // by now (each occurrence is enqueued once, however often this runs).
        let (now, zone) = (self.clock.now(), self.config.practice.time_zone.clone());
        let schedules = stockroom::notify::schedules(&self.config);
        self.db()
            .write(move |tx| {
                stockroom::jobs::schedule::tick(tx, now, &zone, &schedules)
                    .map_err(stockroom::db::DbError::from)
            })
            .await
            .expect("the schedule ticks");
        let kinds = stockroom::startup::job_kinds(Arc::new(self.config.clone()))
            .expect("the application's job kinds");
        stockroom::jobs::worker::run_pending(self.db(), Arc::new(self.clock.clone()), &kinds).await
    }

    /// A plain connection to the database file, for tampering tests.
    pub fn raw_connection(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.config.db_path()).unwrap()
    }
}

impl Browser {
    pub fn new(address: &str) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .danger_accept_invalid_certs(true)
                .build()
                .unwrap(),
            address: address.to_string(),
        }
    }

    /// A browser on another computer of the LAN: its requests come from
    /// `ip` (any 127.x.y.z reaches the server on loopback).
    pub fn from_address(address: &str, ip: &str) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .danger_accept_invalid_certs(true)
                .local_address(ip.parse::<std::net::IpAddr>().unwrap())
                .build()
                .unwrap(),
            address: address.to_string(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.address)
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_html(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.text().await.unwrap()
    }

    /// The CSRF token this browser's forms carry right now.
    pub async fn csrf_token(&self) -> String {
        let res = self.get("/account/password").await;
        let html = if res.status() == StatusCode::OK {
            res.text().await.unwrap()
        } else {
            self.get_html("/login").await
        };
        extract(&html, r#"name="csrf-token" content=""#).expect("page has a CSRF token")
    }

    /// Posts a form with the right CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_token().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post_form("/login", &[("username", username), ("password", password)])
            .await
    }

    pub async fn logout(&self) -> Response {
        self.post_form("/logout", &[]).await
    }
}

/// The text after `marker` up to the next double quote.
pub fn extract(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

pub fn location(res: &Response) -> String {
    res.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// A bearer-token client for `/api/v1`.
pub fn api(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Creates an API token directly, as `stockroom create-token` does.
pub async fn create_token(app: &TestApp, user_id: i64, scope: &'static str) -> String {
    let ctx = audit::Context::system(app.clock.now());
    app.db()
        .write(move |tx| stockroom::accounts::tokens::create(tx, &ctx, user_id, "test", scope))
        .await
        .unwrap()
        .1
}

/// POSTs a JSON body.
pub async fn post_json(
    client: &reqwest::Client,
    url: String,
    body: &serde_json::Value,
) -> Response {
    client.post(url).json(body).send().await.unwrap()
}

/// GETs and parses a JSON answer.
pub async fn get_json(client: &reqwest::Client, url: String) -> serde_json::Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}
