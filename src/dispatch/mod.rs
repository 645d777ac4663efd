//! Sending orders to suppliers. Each supplier has a channel: `manual` (the
//! practice places the order by phone or portal and marks it as sent) or
//! one stockroom sends through — for now `csv_folder`, the order written as
//! a CSV file into the supplier's drop folder. "Send" on an approved order
//! makes it `queued` and enqueues an `order.dispatch` job in the same
//! transaction; the job writes the order through the channel and only then
//! makes it `sent`. A failure that may pass (the share is not mounted) is
//! retried with back-off; one that cannot, or the last attempt, makes the
//! order `dispatch_failed` with the reason.

pub mod confirm;
pub mod csv_folder;
pub mod edi;
pub mod email;
pub mod folder;
pub mod inbox;
pub mod pdf;
pub mod views;
pub mod webhook;
pub mod x12;

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::audit::{self, Context, Event};
use crate::catalog::CatalogError;
use crate::catalog::suppliers::Supplier;
use crate::config::Config;
use crate::db::{Cached, Db, DbError};
use crate::domain::order::{Action, OrderState};
use crate::jobs::NewJob;
use crate::jobs::kind::{JobKind, OrderCancelNotice, OrderSend, SupplierDispatchTest};
use crate::jobs::worker::{JobContext, JobError, Kind};
use crate::orders::lifecycle::{self, ActInput};
use crate::orders::{self, Env, OrderDetail, OrdersError};
use crate::practice::Practice;
use crate::validation::FieldErrors;

/// The job kind that sends an order (enqueued by `orders`).
pub use crate::orders::jobs::SEND as KIND;

/// How a supplier gets its orders, with its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Channel {
    /// Placed by phone or portal; marked as sent by hand.
    Manual,
    /// Written as CSV into `<dispatch.folder_root>/<folder>`.
    CsvFolder(csv_folder::Settings),
    /// Emailed through the practice's mail server, with the order as PDF and CSV.
    Email(email::Settings),
    /// Posted as signed JSON to the supplier's HTTPS endpoint.
    Webhook(webhook::Settings),
    /// An ANSI X12 850 into `<dispatch.folder_root>/<folder>`; 855/856 read back from its inbox.
    EdiX12(x12::Settings),
}

impl Channel {
    pub fn name(&self) -> &'static str {
        match self {
            Channel::Manual => "manual",
            Channel::CsvFolder(_) => "csv_folder",
            Channel::Email(_) => "email",
            Channel::Webhook(_) => "webhook",
            Channel::EdiX12(_) => "edi_x12",
        }
    }

    /// From the supplier's columns. Settings that do not read as the named
    /// channel are an error naming the problem (a column conversion failure
    /// of `dispatch_settings`), never a silent "manual": an order must not
    /// quietly stop being sent because a row was damaged.
    pub fn from_columns(channel: &str, settings: &str) -> rusqlite::Result<Channel> {
        let unreadable = |e: serde_json::Error| {
            rusqlite::Error::FromSqlConversionFailure(
                1,
                rusqlite::types::Type::Text,
                format!("the {channel:?} channel's settings do not read: {e}").into(),
            )
        };
        let mut v: Value = serde_json::from_str(settings).map_err(unreadable)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("channel".into(), Value::String(channel.into()));
        }
        serde_json::from_value(v).map_err(unreadable)
    }

    fn settings_json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(json!({}));
        if let Some(o) = v.as_object_mut() {
            o.remove("channel");
        }
        v
    }

    pub fn validate(&self) -> Result<(), FieldErrors> {
        match self {
            Channel::Manual => Ok(()),
            Channel::CsvFolder(s) => s.validate(),
            Channel::Email(s) => s.validate(),
            Channel::Webhook(s) => s.validate(),
            Channel::EdiX12(s) => s.validate(),
        }
    }

    /// The channel as shown to people and API clients: secrets blanked
    /// (a webhook's signing secret is written, never read back).
    pub fn redacted(&self) -> Channel {
        match self {
            Channel::Webhook(s) => Channel::Webhook(s.redacted()),
            other => other.clone(),
        }
    }

    /// A blank secret in a changed setting keeps the one already stored,
    /// so a form can be saved again without typing the secret again.
    /// Where orders go, in a few words (no secrets): for the audit log and
    /// the "destination changed" question.
    pub fn destination(&self) -> String {
        match self {
            Channel::Manual => "placed by hand".into(),
            Channel::CsvFolder(s) => format!("folder {}", s.folder),
            Channel::Email(s) => format!("email to {}", s.to.join(", ")),
            Channel::Webhook(s) => s.url.trim().to_string(),
            Channel::EdiX12(s) if !s.email_to.is_empty() => {
                format!("EDI by email to {}", s.email_to.join(", "))
            }
            Channel::EdiX12(s) => format!("EDI folder {}", s.folder),
        }
    }

    /// What delivering by this channel has to reach — the mail server, the
    /// folder root (a share), a webhook's host — so that when one job gets
    /// through, the jobs waiting on the same thing go at once.
    pub fn target(&self, config: &Config) -> Option<String> {
        let smtp = || {
            config
                .smtp
                .as_ref()
                .map(|s| crate::mail::target(&s.host, s.port))
        };
        let folder = || Some(format!("folder:{}", config.dispatch.folder_root.display()));
        match self {
            Channel::Manual => None,
            Channel::Email(_) => smtp(),
            Channel::EdiX12(s) if !s.email_to.is_empty() => smtp(),
            Channel::CsvFolder(_) | Channel::EdiX12(_) => folder(),
            Channel::Webhook(s) => reqwest::Url::parse(s.url.trim())
                .ok()
                .and_then(|u| u.host_str().map(|h| format!("webhook:{h}"))),
        }
    }

    fn keeping_secrets_of(mut self, old: &Channel) -> Channel {
        if let (Channel::Webhook(new), Channel::Webhook(old)) = (&mut self, old)
            && new.secret.is_empty()
        {
            new.secret = old.secret.clone();
        }
        self
    }
}

/// Whether the folder root is a directory this process may write in.
fn folder_writable(root: &std::path::Path) -> Result<(), String> {
    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => rustix::fs::access(root, rustix::fs::Access::WRITE_OK)
            .map_err(|e| format!("{} cannot be written: {e}", root.display())),
        Ok(_) => Err(format!("{} is not a folder", root.display())),
        Err(e) => Err(format!("{} cannot be reached: {e}", root.display())),
    }
}

/// A supplier's channel.
pub fn channel_of(conn: &Connection, supplier_id: i64) -> rusqlite::Result<Channel> {
    conn.row_cached(
        "SELECT dispatch_channel, dispatch_settings FROM suppliers WHERE id = ?1",
        [supplier_id],
        |r| Channel::from_columns(&r.get::<_, String>(0)?, &r.get::<_, String>(1)?),
    )
}

/// Sets how a supplier gets its orders (validated, audited).
pub fn set_channel(
    tx: &Transaction,
    ctx: &Context,
    supplier_id: i64,
    channel: &Channel,
) -> Result<Channel, CatalogError> {
    let before =
        crate::catalog::suppliers::get(tx, supplier_id)?.ok_or(CatalogError::NoSuchSupplier)?;
    let old = channel_of(tx, supplier_id)?;
    let channel = &channel.clone().keeping_secrets_of(&old);
    channel.validate()?;
    if *channel != old {
        pin_queued(tx, supplier_id, &old, ctx)?;
    }
    tx.exec_cached(
        "UPDATE suppliers SET dispatch_channel = ?1, dispatch_settings = ?2, updated_at = ?3 WHERE id = ?4",
        params![
            channel.name(),
            channel.settings_json().to_string(),
            ctx.at.to_db(),
            supplier_id
        ],
    )?;
    audit::record(
        tx,
        ctx,
        Event::new("supplier.dispatch", "supplier", supplier_id)
            .before(json!({"name": before.name, "channel": old.redacted(),
                           "destination": old.destination()}))
            .after(json!({"channel": channel.redacted(), "destination": channel.destination()})),
    )?;
    if matches!(channel, Channel::EdiX12(s) if !s.inbox.is_empty()) {
        inbox::enqueue_next_poll(tx, ctx.at)?;
    }
    Ok(channel_of(tx, supplier_id)?.redacted())
}

/// Suppliers' folders under `root` that stockroom refuses to use because
/// they (or the inbox's `processed`/`rejected`) are symbolic links or
/// files: one sentence each, for `/readyz`. Folders not made yet are fine.
pub fn folder_problems(conn: &Connection, root: &std::path::Path) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, dispatch_channel, dispatch_settings FROM suppliers
         WHERE active = 1 AND dispatch_channel IN ('csv_folder', 'edi_x12') ORDER BY name",
    )?;
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut problems = Vec::new();
    for (name, channel, settings) in rows {
        let channel = Channel::from_columns(&channel, &settings)?;
        problems.extend(
            channel_folder_problems(&channel, root)
                .into_iter()
                .map(|p| format!("{name}: {p}")),
        );
    }
    Ok(problems)
}

/// What is wrong with the folders one channel uses under `root` (a
/// symbolic link, or a file where a folder should be), in words; empty
/// when nothing is (a folder not made yet is fine: it is made when needed).
/// Looked at without following links and without creating anything.
pub fn channel_folder_problems(channel: &Channel, root: &std::path::Path) -> Vec<String> {
    use folder::Kind;
    let mut chains: Vec<Vec<&str>> = Vec::new();
    match channel {
        Channel::CsvFolder(s) => chains.push(vec![s.folder.trim()]),
        Channel::EdiX12(s) => {
            if s.email_to.is_empty() {
                chains.push(vec![s.folder.trim()]);
            }
            let inbox = s.inbox.trim();
            if !inbox.is_empty() {
                chains.push(vec![inbox, inbox::PROCESSED]);
                chains.push(vec![inbox, inbox::REJECTED]);
            }
        }
        _ => {}
    }
    let Ok(root_folder) = folder::Folder::root(root) else {
        return Vec::new();
    };
    let mut problems: Vec<String> = Vec::new();
    for chain in chains {
        let mut at = None::<folder::Folder>;
        for name in chain {
            let here = at.as_ref().unwrap_or(&root_folder);
            let path = here.path_of(name);
            let problem = match here.kind_of(name) {
                Ok(None) => break,
                Ok(Some(Kind::Folder)) => None,
                Ok(Some(Kind::Link)) => Some(format!(
                    "{} is a symbolic link: stockroom does not follow links in supplier folders; replace it with a real folder",
                    path.display()
                )),
                Ok(Some(_)) => Some(format!("{} is a file, not a folder", path.display())),
                Err(e) => Some(format!("cannot look at {}: {e}", path.display())),
            };
            if let Some(p) = problem {
                if !problems.contains(&p) {
                    problems.push(p);
                }
                break;
            }
            match here.sub_existing(name) {
                Some(f) => at = Some(f),
                None => break,
            }
        }
    }
    problems
}

/// Keeps the orders of `supplier_id` already on their way (queued to be
/// sent, failed and waiting for a retry, or cancelled with the notice not
/// yet sent) going to `old`, the channel they were queued for, when the
/// supplier's channel changes.
fn pin_queued(
    tx: &Transaction,
    supplier_id: i64,
    old: &Channel,
    ctx: &Context,
) -> rusqlite::Result<()> {
    tx.exec_cached(
        "INSERT OR IGNORE INTO dispatch_pins (order_id, channel, settings, pinned_at)
         SELECT o.id, ?2, ?3, ?4 FROM purchase_orders o
         WHERE o.supplier_id = ?1
           AND (o.state IN ('queued', 'dispatch_failed')
                OR (o.state = 'cancelled' AND EXISTS (
                    SELECT 1 FROM jobs j WHERE j.kind = ?5 AND j.state IN ('queued', 'running')
                      AND j.subject_id = o.id)))",
        params![
            supplier_id,
            old.name(),
            old.settings_json().to_string(),
            ctx.at.to_db(),
            CANCEL_KIND
        ],
    )?;
    Ok(())
}

/// The channel an order was queued for, when its supplier's channel
/// changed since.
pub fn pinned(conn: &Connection, order_id: i64) -> rusqlite::Result<Option<Channel>> {
    conn.row_cached(
        "SELECT channel, settings FROM dispatch_pins WHERE order_id = ?1",
        [order_id],
        |r| Channel::from_columns(&r.get::<_, String>(0)?, &r.get::<_, String>(1)?),
    )
    .optional()
}

/// Retries sending an order that could not be sent. It goes through the
/// supplier's current channel; when that is not where the order was queued
/// for, the caller must have confirmed the new destination.
pub fn retry(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    order_id: i64,
    input: &ActInput,
) -> Result<orders::Order, OrdersError> {
    if let Some(was) = pinned(tx, order_id)? {
        let order = orders::for_change(tx, order_id, env.today)?;
        let now = channel_of(tx, order.supplier_id)?;
        if was != now && !input.confirm_destination {
            return Err(OrdersError::Refused(
                crate::domain::refusal::Refusal::on_field(
                    DESTINATION_CHANGED,
                    "confirm_destination",
                    format!(
                        "{} was queued to go to {}; orders to {} now go to {}. Confirm the new destination to send it there.",
                        order.number,
                        was.destination(),
                        order.supplier_name,
                        now.destination()
                    ),
                ),
            ));
        }
        tx.exec_cached("DELETE FROM dispatch_pins WHERE order_id = ?1", [order_id])?;
    }
    lifecycle::act(tx, ctx, env, order_id, Action::Retry, input)
}

/// Retrying an order whose supplier's channel changed since it was queued,
/// without confirming the new destination.
pub const DESTINATION_CHANGED: crate::domain::refusal::Code =
    crate::domain::refusal::Code::conflict(
        "dispatch-destination-changed",
        "The supplier's sending channel changed since the order was queued; retrying sends it to the new destination only once that is confirmed (`confirm_destination`).",
    );

/// Every code dispatch refuses with.
pub const REFUSALS: &[crate::domain::refusal::Code] = &[DESTINATION_CHANGED];

/// What the dispatch jobs share: the configuration, the mail server
/// connection pool and the HTTP client for webhooks.
#[derive(Clone)]
pub struct Dispatcher {
    pub config: Arc<Config>,
    pub mailer: Option<Arc<crate::mail::Mailer>>,
    pub http: crate::outbound::Client,
}

impl Dispatcher {
    /// Checks a target that sending jobs wait on (see [`Channel::target`])
    /// without sending anything: the mail server by a NOOP, the folder
    /// root by looking at it. A webhook's host is not probed (only a real
    /// request would tell): its jobs keep their own back-off.
    pub async fn probe(&self, target: &str) -> Option<Result<(), String>> {
        let smtp = self
            .config
            .smtp
            .as_ref()
            .map(|s| crate::mail::target(&s.host, s.port));
        if smtp.as_deref() == Some(target) {
            let mailer = self.mailer.as_ref()?;
            return Some(mailer.reachable().await);
        }
        let root = &self.config.dispatch.folder_root;
        if target == format!("folder:{}", root.display()) {
            let root = root.clone();
            return Some(crate::db::run_blocking(move || folder_writable(&root)).await);
        }
        None
    }

    /// Fails when the mail server settings cannot be used (an unreadable CA file).
    pub fn new(config: Arc<Config>) -> anyhow::Result<Dispatcher> {
        let mailer = crate::mail::Mailer::from_config(&config)?;
        Dispatcher::with_mailer(config, mailer)
    }

    /// Sends email through `mailer`, the connection the rest of the
    /// application shares.
    pub fn with_mailer(
        config: Arc<Config>,
        mailer: Option<Arc<crate::mail::Mailer>>,
    ) -> anyhow::Result<Dispatcher> {
        let http = crate::outbound::Client::new(
            config.dispatch.webhook_timeout,
            &config.dispatch.webhook_allow,
        )?;
        Ok(Dispatcher {
            config,
            mailer,
            http,
        })
    }

    /// The adapter for a channel, or why there is none.
    fn adapter(&self, channel: &Channel, db: &Db) -> Result<Box<dyn Adapter>, JobError> {
        Ok(match channel {
            Channel::Manual => {
                return Err(JobError::Permanent(
                    "the supplier has no sending channel any more".into(),
                ));
            }
            Channel::CsvFolder(s) => Box::new(csv_folder::CsvFolder {
                root: self.config.dispatch.folder_root.clone(),
                settings: s.clone(),
            }),
            Channel::Email(s) => Box::new(email::Email {
                mailer: self.mailer.clone().ok_or_else(|| {
                    JobError::Retry(
                        "email is not set up: the administrator sets smtp.host and smtp.from in the configuration".into(),
                    )
                })?,
                settings: s.clone(),
            }),
            Channel::Webhook(s) => Box::new(webhook::Webhook {
                http: self.http.clone(),
                settings: s.clone(),
            }),
            Channel::EdiX12(s) => Box::new(edi::Edi {
                root: self.config.dispatch.folder_root.clone(),
                settings: s.clone(),
                db: db.clone(),
                mailer: self.mailer.clone(),
            }),
        })
    }
}

/// What a channel is asked to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// The order itself.
    Order,
    /// The supplier is told that an order it received is cancelled.
    Cancel { reason: String },
    /// A test from the supplier's page: proves the channel works, orders nothing.
    Test,
}

/// Everything an adapter needs to write one message.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub purpose: Purpose,
    /// The order (for a test: none).
    pub detail: Option<OrderDetail>,
    pub practice: Practice,
    pub supplier: Supplier,
    /// When, in the practice's time zone.
    pub at: jiff::Zoned,
    /// Unique per job: the same on every retry of one send.
    pub delivery_id: String,
    /// The signed link by which the supplier confirms the order.
    pub confirm_link: Option<String>,
}

impl Outgoing {
    pub fn order_number(&self) -> &str {
        self.detail.as_ref().map_or("", |d| d.order.number.as_str())
    }
}

/// One way of delivering to a supplier. `Ok` carries a line for the log
/// and the job's record; `JobError::Retry` is a failure that may pass,
/// `JobError::Permanent` one that will not.
pub trait Adapter: Send + Sync {
    fn deliver<'a>(&'a self, out: &'a Outgoing) -> BoxFuture<'a, Result<String, JobError>>;
}

pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The job kinds of dispatch for the worker.
pub fn kinds(dispatcher: Dispatcher) -> Vec<Kind> {
    let concurrency = dispatcher.config.jobs.concurrency;
    let d = Arc::new(dispatcher);
    let (a, b, c) = (d.clone(), d.clone(), d);
    vec![
        inbox::kind(c.clone()),
        Kind {
            name: KIND.into(),
            concurrency,
            handler: Arc::new(move |ctx| Box::pin(send_order(ctx, a.clone()))),
        },
        Kind {
            name: CANCEL_KIND.into(),
            concurrency,
            handler: Arc::new(move |ctx| Box::pin(send_cancel_notice(ctx, b.clone()))),
        },
        Kind {
            name: TEST_KIND.into(),
            concurrency: 1,
            handler: Arc::new(move |ctx| Box::pin(send_test(ctx, c.clone()))),
        },
    ]
}

fn env(config: &Config, ctx: &JobContext) -> Env {
    Env {
        currency: config.practice.currency.clone(),
        today: crate::domain::time::today_in(ctx.clock.now(), &config.practice.time_zone),
    }
}

/// Records the outcome on the order as the system.
async fn conclude(
    ctx: &JobContext,
    config: &Config,
    order_id: i64,
    action: Action,
    reason: String,
    channel: &'static str,
) -> Result<(), JobError> {
    let (env, audit_ctx) = (env(config, ctx), Context::system(ctx.clock.now()));
    ctx.db
        .write(move |tx| {
            let state = orders::for_change(tx, order_id, env.today)?.state;
            if state == OrderState::Cancelled && action == Action::DispatchSucceeded {
                // Cancelled while it was being sent: the supplier has it, so
                // it must hear of the cancellation.
                crate::orders::jobs::enqueue_cancel_notice(tx, &audit_ctx, order_id)?;
                return Ok(());
            }
            lifecycle::act(
                tx,
                &audit_ctx,
                &env,
                order_id,
                action,
                &ActInput {
                    reason,
                    ..ActInput::default()
                },
            )?;
            if action == Action::DispatchSucceeded {
                tx.exec_cached(
                    "UPDATE purchase_orders SET channel = ?1 WHERE id = ?2",
                    params![channel, order_id],
                )?;
            }
            Ok::<_, OrdersError>(())
        })
        .await
        .map_err(|e| JobError::Retry(format!("could not record the outcome on the order: {e}")))
}

/// The message for one order: its detail, the practice, the supplier and
/// its channel, read in one go.
async fn load(
    ctx: &JobContext,
    d: &Dispatcher,
    order_id: i64,
) -> Result<(Outgoing, Channel), JobError> {
    let today = env(&d.config, ctx).today;
    let loaded = ctx
        .db
        .read(move |c| {
            let Some(detail) = orders::detail(c, order_id, today)? else {
                return Ok(None);
            };
            // Queued before the supplier's channel changed: where it was queued for.
            let channel = match pinned(c, order_id)? {
                Some(channel) => channel,
                None => channel_of(c, detail.order.supplier_id)?,
            };
            let supplier = crate::catalog::suppliers::get(c, detail.order.supplier_id)?;
            let practice = crate::practice::practice(c)?;
            Ok::<_, DbError>(Some((detail, channel, supplier, practice)))
        })
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?;
    let Some((detail, channel, Some(supplier), practice)) = loaded else {
        return Err(JobError::Permanent(format!(
            "order {order_id} does not exist"
        )));
    };
    let now = ctx.clock.now();
    let at = jiff::Timestamp::from_second(now.datetime().unix_timestamp())
        .unwrap_or_default()
        .to_zoned(d.config.practice.time_zone.clone());
    let out = Outgoing {
        purpose: Purpose::Order,
        detail: Some(detail),
        practice,
        supplier,
        at,
        delivery_id: ctx.key.clone().unwrap_or_else(|| format!("job-{}", ctx.id)),
        confirm_link: None,
    };
    Ok((out, channel))
}

async fn send_order(ctx: JobContext, d: Arc<Dispatcher>) -> Result<(), JobError> {
    let OrderSend { order_id } = ctx.payload()?;
    let (mut out, channel) = load(&ctx, &d, order_id).await?;
    let order = &out.detail.as_ref().expect("an order").order;
    if order.state != OrderState::Queued {
        // Cancelled or sent by hand meanwhile: nothing left to do.
        tracing::info!(order = %order.number, state = %order.state, "order no longer queued; not sent");
        return Ok(());
    }
    out.confirm_link = confirm::link_for(&ctx.db, &d.config, order_id, ctx.clock.now()).await;
    let last = ctx.attempt >= ctx.max_attempts;
    if let Some(t) = channel.target(&d.config) {
        ctx.reaching(t);
    }
    let result = match d.adapter(&channel, &ctx.db) {
        Ok(adapter) => adapter.deliver(&out).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(what) => {
            tracing::info!(order = %out.order_number(), channel = channel.name(), "{what}");
            conclude(
                &ctx,
                &d.config,
                order_id,
                Action::DispatchSucceeded,
                String::new(),
                channel.name(),
            )
            .await
        }
        Err(e @ (JobError::Retry(_) | JobError::Unreachable(_))) if !last => Err(e),
        Err(JobError::Retry(e) | JobError::Unreachable(e) | JobError::Permanent(e)) => {
            conclude(
                &ctx,
                &d.config,
                order_id,
                Action::DispatchFailed,
                e.clone(),
                channel.name(),
            )
            .await?;
            Err(JobError::Permanent(e))
        }
    }
}

/// The job kind that tells a supplier an order is cancelled (enqueued by `orders`).
pub use crate::orders::jobs::CANCEL_NOTICE as CANCEL_KIND;

async fn send_cancel_notice(ctx: JobContext, d: Arc<Dispatcher>) -> Result<(), JobError> {
    let OrderCancelNotice { order_id } = ctx.payload()?;
    let (mut out, channel) = load(&ctx, &d, order_id).await?;
    let order = &out.detail.as_ref().expect("an order").order;
    if order.state != OrderState::Cancelled {
        return Err(JobError::Permanent(format!(
            "order {} is {}, not cancelled",
            order.number, order.state
        )));
    }
    out.purpose = Purpose::Cancel {
        reason: order.reason.clone(),
    };
    if let Some(t) = channel.target(&d.config) {
        ctx.reaching(t);
    }
    let what = d.adapter(&channel, &ctx.db)?.deliver(&out).await?;
    tracing::info!(order = %out.order_number(), channel = channel.name(), "cancellation notice: {what}");
    Ok(())
}

/// The job kind of the "send test" button on a supplier's page.
pub const TEST_KIND: &str = JobKind::SUPPLIER_DISPATCH_TEST;

/// Enqueues a test of the supplier's channel (from its page or the API).
pub fn enqueue_test(
    tx: &Transaction,
    ctx: &Context,
    supplier_id: i64,
) -> Result<i64, CatalogError> {
    let supplier =
        crate::catalog::suppliers::get(tx, supplier_id)?.ok_or(CatalogError::NoSuchSupplier)?;
    if channel_of(tx, supplier_id)? == Channel::Manual {
        return Err(CatalogError::Invalid(FieldErrors::single(
            "channel",
            format!("{} has no sending channel to test", supplier.name),
        )));
    }
    let id = crate::jobs::enqueue(
        tx,
        ctx.at,
        &NewJob::of(&JobKind::SupplierDispatchTest(SupplierDispatchTest {
            supplier_id,
        }))
        .attempts(1)
        .lane(format!("channel:{}", channel_of(tx, supplier_id)?.name())),
    )?;
    audit::record(
        tx,
        ctx,
        Event::new("supplier.dispatch_test", "supplier", supplier_id)
            .after(json!({"name": supplier.name, "job": id})),
    )?;
    Ok(id)
}

/// The newest test of a supplier's channel, through the jobs' subject index.
pub const LAST_TEST_SQL: &str = "SELECT id FROM jobs
     WHERE subject_type = 'supplier' AND subject_id = ?1 AND kind = ?2
     ORDER BY id DESC LIMIT 1";

/// The newest test of a supplier's channel: its job.
pub fn last_test(
    conn: &Connection,
    supplier_id: i64,
) -> rusqlite::Result<Option<crate::jobs::Job>> {
    let id: Option<i64> = conn
        .row_cached(LAST_TEST_SQL, params![supplier_id, TEST_KIND], |r| r.get(0))
        .optional()?;
    match id {
        Some(id) => crate::jobs::get(conn, id),
        None => Ok(None),
    }
}

async fn send_test(ctx: JobContext, d: Arc<Dispatcher>) -> Result<(), JobError> {
    let SupplierDispatchTest { supplier_id } = ctx.payload()?;
    let loaded = ctx
        .db
        .read(move |c| {
            let supplier = crate::catalog::suppliers::get(c, supplier_id)?;
            Ok::<_, DbError>((
                supplier,
                channel_of(c, supplier_id)?,
                crate::practice::practice(c)?,
            ))
        })
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?;
    let (Some(supplier), channel, practice) = loaded else {
        return Err(JobError::Permanent(format!(
            "supplier {supplier_id} does not exist"
        )));
    };
    let now = ctx.clock.now();
    let out = Outgoing {
        purpose: Purpose::Test,
        detail: None,
        practice,
        supplier,
        at: jiff::Timestamp::from_second(now.datetime().unix_timestamp())
            .unwrap_or_default()
            .to_zoned(d.config.practice.time_zone.clone()),
        delivery_id: format!("test-{}", ctx.id),
        confirm_link: None,
    };
    // A test is tried once: the person who pressed the button wants to
    // know now, and presses again after fixing the settings.
    if let Some(t) = channel.target(&d.config) {
        ctx.reaching(t);
    }
    let result = match d.adapter(&channel, &ctx.db) {
        Ok(adapter) => adapter.deliver(&out).await,
        Err(e) => Err(e),
    };
    let what = match result {
        Ok(what) => what,
        Err(JobError::Retry(e) | JobError::Unreachable(e) | JobError::Permanent(e)) => {
            return Err(JobError::Permanent(e));
        }
    };
    tracing::info!(supplier = %out.supplier.name, channel = channel.name(), "test: {what}");
    Ok(())
}

#[cfg(test)]
mod tests;
