//! The command line: `serve` (default), `check-config`, `migrate`,
//! `create-user`, `create-token`, `check`, `demo`, `audit verify`.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};

use crate::accounts::users::{self, NewUser};
use crate::accounts::{AccountsError, tokens};
use crate::audit;
use crate::config::{self, Config, LoadOptions};
use crate::db::{Db, DbError, migrate};
use crate::domain::actor::Actor;
use crate::domain::{Clock, SystemClock, Username};
use crate::startup::{Application, open_database};
use crate::telemetry::{self, Sink};

#[derive(Debug, Parser)]
#[command(
    name = "stockroom",
    version,
    about = "The supply-room system of a small medical practice."
)]
pub struct Cli {
    /// Configuration file (default: $STOCKROOM_CONFIG, else <data_dir>/stockroom.toml if present).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Data directory (overrides data_dir and STOCKROOM_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve {
        /// Address to listen on (overrides listen and STOCKROOM_LISTEN).
        #[arg(long, value_name = "IP:PORT")]
        listen: Option<String>,
    },
    /// Validate the configuration and print the effective values, secrets redacted.
    CheckConfig,
    /// Apply pending database migrations and exit.
    Migrate {
        /// Only list what would be applied.
        #[arg(long)]
        dry_run: bool,
    },
    /// Create a user; the password is read from standard input.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = ["admin", "manager", "staff", "viewer"])]
        role: String,
        #[arg(long, default_value = "")]
        display_name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create an API token for a user and print it once.
    CreateToken {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["read", "write"])]
        scope: String,
    },
    /// Lift the sign-in lock-outs of a username (after wrong passwords), from
    /// every address. Audited; works while the server runs.
    Unlock {
        /// As typed at sign-in.
        username: String,
    },
    /// Remove a user's second factor (a lost phone, no recovery codes left):
    /// their sessions end and, if their role needs one, they set up an
    /// authenticator app again at their next sign-in. Audited; works while
    /// the server runs.
    ResetSecondFactor { username: String },
    /// Check the database: stock levels against the ledger, orders against
    /// their receipts, foreign keys, SQLite's own integrity. Exit 1 and list every problem found.
    Check,
    /// Fill an empty data directory with a demo practice (catalogue,
    /// suppliers, locations, users and six months of stock history) and print
    /// how to sign in.
    Demo {
        /// Multiply the catalogue and history: 1 gives about 300 items and
        /// 20,000 movements, 50 about 15,000 items and a million movements.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::demo::MAX_SCALE)))]
        scale: u32,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exit 1 and name the first bad row if broken.
    Verify,
}

/// Runs the command line; `env` is the process environment.
pub fn run(cli: Cli, env: Vec<(String, String)>) -> ExitCode {
    let mut options = LoadOptions {
        config_path: cli.config.clone(),
        overrides: Vec::new(),
    };
    if let Some(dir) = &cli.data_dir {
        options
            .overrides
            .push(("data_dir", dir.display().to_string()));
    }
    if let Some(Command::Serve { listen: Some(l) }) = &cli.command {
        options.overrides.push(("listen", l.clone()));
    }
    let config = match config::load(&options, env) {
        Ok(c) => c,
        Err(errors) => {
            eprintln!("stockroom: {errors}");
            return ExitCode::from(1);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve { listen: None });
    let sink = if matches!(command, Command::Serve { .. }) {
        Sink::Stdout
    } else {
        Sink::Stderr
    };
    telemetry::init(&config.log, sink);
    let result = match command {
        Command::Serve { .. } => serve(config),
        Command::CheckConfig => {
            check_config(&config);
            Ok(())
        }
        Command::Migrate { dry_run } => migrate_command(&config, dry_run),
        Command::CreateUser {
            username,
            role,
            display_name,
            password_stdin,
        } => create_user(&config, &username, &role, &display_name, password_stdin),
        Command::CreateToken {
            username,
            name,
            scope,
        } => create_token(&config, &username, &name, &scope),
        Command::Audit {
            command: AuditCommand::Verify,
        } => audit_verify(&config),
        Command::Unlock { username } => unlock(&config, &username),
        Command::ResetSecondFactor { username } => reset_second_factor(&config, &username),
        Command::Check => check_database(&config),
        Command::Demo { scale } => demo(&config, scale),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stockroom: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("while starting the async runtime")?;
    runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        // Installed before the listener opens, so a SIGTERM at any moment
        // after start-up means a graceful stop, never an abrupt kill.
        let mut term =
            signal(SignalKind::terminate()).context("while installing signal handlers")?;
        let mut int =
            signal(SignalKind::interrupt()).context("while installing signal handlers")?;
        let app = Application::build(config).await?;
        let handle = app.handle();
        tokio::spawn(async move {
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
            tracing::info!(
                signal = name,
                "stopping: no new connections, finishing requests in flight"
            );
            handle.stop(true).await;
        });
        app.run_until_stopped().await.context("while serving")
    })
}

fn check_config(config: &Config) {
    println!("Configuration is valid. Effective values:");
    for v in &config.effective {
        println!("  {:<34} = {:<28} ({})", v.key, show(&v.display), v.origin);
    }
}

fn show(v: &str) -> String {
    if v.is_empty() {
        "(unset)".into()
    } else {
        v.to_string()
    }
}

fn migrate_command(config: &Config, dry_run: bool) -> anyhow::Result<()> {
    // Changing the schema under a running server: refused, as a second
    // server would be.
    let _lock = if dry_run {
        None
    } else {
        Some(crate::startup::DataDirLock::acquire(&config.data_dir)?)
    };
    if dry_run {
        if !config.db_path().exists() {
            println!(
                "There is no database at {} yet; would apply:",
                config.db_path().display()
            );
            for m in migrate::known() {
                println!("  {:04}_{}", m.version, m.name);
            }
            return Ok(());
        }
        let db = Db::open(&config.db_path(), &config.db)?;
        let plan = db.read_blocking(|c| Ok::<_, DbError>(migrate::plan(c)))??;
        if plan.pending.is_empty() {
            println!(
                "The database is at version {:04}; nothing to apply.",
                plan.current
            );
        } else {
            println!(
                "The database is at version {:04}; would apply:",
                plan.current
            );
            for m in &plan.pending {
                println!("  {:04}_{}", m.version, m.name);
            }
        }
        return Ok(());
    }
    let db = open_database(config, &SystemClock)?;
    let version = db.read_blocking(|c| Ok::<_, DbError>(migrate::plan(c)))??;
    println!("The database is at version {:04}.", version.current);
    Ok(())
}

fn read_password(password_stdin: bool) -> anyhow::Result<String> {
    if !password_stdin {
        bail!("a password is required: pass --password-stdin and write it to standard input");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("while reading the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn cli_context() -> audit::Context {
    let mut ctx = audit::Context::system(SystemClock.now());
    ctx.actor = Actor::System;
    ctx.request_id = Some("cli".into());
    ctx
}

fn create_user(
    config: &Config,
    username: &str,
    role: &str,
    display_name: &str,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let password = read_password(password_stdin)?;
    let new = NewUser::prepare(username, display_name, role, &password, false)
        .map_err(|e| anyhow::anyhow!("cannot create the user: {e}"))?;
    let db = open_database(config, &SystemClock)?;
    let ctx = cli_context();
    let user = db
        .write_blocking(|tx| users::create(tx, &ctx, &new))
        .map_err(|e| anyhow::anyhow!("cannot create the user: {e}"))?;
    println!(
        "Created {} user {} (id {}).",
        user.role, user.username, user.id
    );
    Ok(())
}

fn create_token(config: &Config, username: &str, name: &str, scope: &str) -> anyhow::Result<()> {
    let db = open_database(config, &SystemClock)?;
    let username = Username::parse(username).map_err(|e| anyhow::anyhow!("username {e}"))?;
    let ctx = cli_context();
    let secret = db
        .write_blocking(|tx| {
            let (user, _) =
                users::find_by_username(tx, &username)?.ok_or(AccountsError::NoSuchUser)?;
            tokens::create(tx, &ctx, user.id, name, scope).map(|(_, s)| s)
        })
        .map_err(|e| anyhow::anyhow!("cannot create the token: {e}"))?;
    eprintln!("Token created. It is shown once; store it now.");
    println!("{secret}");
    Ok(())
}

fn unlock(config: &Config, typed: &str) -> anyhow::Result<()> {
    let db = open_database(config, &SystemClock)?;
    let key = Username::lockout_key(typed);
    let ctx = cli_context();
    let k = key.clone();
    let unlocked = db
        .write_blocking(move |tx| {
            crate::accounts::lockout::unlock(tx, &ctx, &k).map_err(DbError::from)
        })
        .map_err(|e| anyhow::anyhow!("cannot unlock {key}: {e}"))?;
    if unlocked {
        println!("Unlocked {key}: signing in works again from every address.");
    } else {
        println!("{key} is not locked.");
    }
    Ok(())
}

fn reset_second_factor(config: &Config, username: &str) -> anyhow::Result<()> {
    let db = open_database(config, &SystemClock)?;
    let username = Username::parse(username).map_err(|e| anyhow::anyhow!("username {e}"))?;
    let ctx = cli_context();
    let name = username.clone();
    let had = db
        .write_blocking(move |tx| {
            let (user, _) = users::find_by_username(tx, &name)?.ok_or(AccountsError::NoSuchUser)?;
            crate::accounts::second_factor::remove(
                tx,
                &ctx,
                user.id,
                "auth.second_factor_reset",
                true,
            )
            .map_err(|e| AccountsError::Db(e.into()))
        })
        .map_err(|e| anyhow::anyhow!("cannot reset the second factor of {username}: {e}"))?;
    if had {
        println!(
            "Reset the second factor of {username}: they were signed out, and set up an authenticator app again when they next sign in."
        );
    } else {
        println!("{username} has no second factor; nothing changed.");
    }
    Ok(())
}

fn check_database(config: &Config) -> anyhow::Result<()> {
    let db = open_database(config, &SystemClock)?;
    let (integrity, foreign_keys, drift, orders) = db.read_blocking(|c| {
        let integrity: Vec<String> = c
            .prepare("PRAGMA quick_check")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let foreign_keys: Vec<(String, i64, String)> = c
            .prepare("PRAGMA foreign_key_check")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        Ok::<_, DbError>((
            integrity,
            foreign_keys,
            crate::stock::check(c)?,
            crate::orders::check::check(c)?,
        ))
    })?;
    let mut problems = Vec::new();
    if integrity != ["ok"] {
        problems.extend(
            integrity
                .into_iter()
                .map(|p| format!("SQLite integrity: {p}")),
        );
    }
    for (table, row, parent) in foreign_keys {
        problems.push(format!(
            "{table} row {row} refers to a missing {parent} row"
        ));
    }
    for d in drift {
        problems.push(format!(
            "stock level of item {} at location {} (lot {:?}, expiry {:?}) is {} but the ledger sums to {}",
            d.item_id, d.location_id, d.lot, d.expiry, d.level, d.ledger
        ));
    }
    problems.extend(orders);
    if problems.is_empty() {
        println!(
            "Database consistent: integrity ok, foreign keys ok, every stock level equals its ledger, \
             every order agrees with its receipts."
        );
        return Ok(());
    }
    for p in &problems {
        println!("{p}");
    }
    bail!("{} problem(s) found", problems.len())
}

fn audit_verify(config: &Config) -> anyhow::Result<()> {
    let db = open_database(config, &SystemClock)?;
    let rows = db.read_blocking(|c| Ok::<_, DbError>(audit::verify(c)))??;
    println!("Audit log intact: {rows} rows verified.");
    Ok(())
}

fn demo(config: &Config, scale: u32) -> anyhow::Result<()> {
    if !(1..=crate::demo::MAX_SCALE).contains(&scale) {
        bail!("--scale must be from 1 to {}", crate::demo::MAX_SCALE);
    }
    let db = open_database(config, &SystemClock)?;
    let summary = crate::demo::run(config, &db, scale)?;
    print!("{}", crate::demo::instructions(config, &summary));
    Ok(())
}
