//! What the daily digest says and the email that says it.
//!
//! [`gather`] asks the same questions the dashboard, the item list, the
//! order list and the job queue answer (`stock::overview::list`,
//! `orders::list`, `jobs::stats`), for every location, so the digest never
//! disagrees with the pages its links open. Each section carries its full
//! count and its first [`SHOWN`] entries; a section with nothing in it is
//! left out, and a digest with no sections is not sent at all.

use askama::Template;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use rusqlite::Connection;
use time::Date;

use crate::catalog::locations;
use crate::catalog::search::SearchCache;
use crate::domain::Timestamp;
use crate::domain::money::format_minor;
use crate::domain::order::OrderState;
use crate::jobs::JobState;
use crate::jobs::worker::JobError;
use crate::orders::{self, Order};
use crate::stock::overview::{self, Filter, ItemSummary, Sort};

/// Entries listed per section; the count says how many there are in all.
pub const SHOWN: u32 = 20;

/// One line of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub title: String,
    pub detail: String,
    /// Absolute, when the configuration names stockroom's public address.
    pub link: Option<String>,
}

/// One of the digest's five questions and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub heading: String,
    /// How many there are in all (more than `entries` may hold).
    pub total: i64,
    pub entries: Vec<Entry>,
    /// The page listing all of them.
    pub link: Option<String>,
}

impl Section {
    /// How many were left out of the list.
    pub fn more(&self) -> i64 {
        self.total - self.entries.len() as i64
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub practice: String,
    pub date: Date,
    pub expiry_days: u16,
    pub low: Section,
    pub expiring: Section,
    pub to_approve: Section,
    pub overdue: Section,
    pub dead_jobs: Section,
}

impl Digest {
    /// The sections with something in them, in the order they are read.
    pub fn sections(&self) -> Vec<&Section> {
        [
            &self.low,
            &self.expiring,
            &self.to_approve,
            &self.overdue,
            &self.dead_jobs,
        ]
        .into_iter()
        .filter(|s| s.total > 0)
        .collect()
    }

    /// Nothing to say: no email.
    pub fn is_empty(&self) -> bool {
        self.sections().is_empty()
    }

    /// The plain-text body.
    pub fn text(&self) -> askama::Result<String> {
        TextBody { d: self }.render()
    }

    /// The HTML body.
    pub fn html(&self) -> askama::Result<String> {
        HtmlBody { d: self }.render()
    }

    /// "stockroom daily digest for Riverside Surgery, 2026-11-30: 3 low,
    /// 2 expiring, 1 to approve"; only the sections with something in them
    /// are counted.
    pub fn subject(&self) -> String {
        let counts: Vec<String> = [
            (self.low.total, "low", "low"),
            (self.expiring.total, "expiring", "expiring"),
            (self.to_approve.total, "to approve", "to approve"),
            (self.overdue.total, "overdue", "overdue"),
            (self.dead_jobs.total, "failed job", "failed jobs"),
        ]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
        .collect();
        let practice = if self.practice.trim().is_empty() {
            String::new()
        } else {
            format!(" for {}", self.practice.trim())
        };
        format!(
            "stockroom daily digest{practice}, {}: {}",
            self.date,
            counts.join(", ")
        )
    }
}

/// What the gathering needs to know besides the database.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    pub now: Timestamp,
    /// Today in the practice's time zone.
    pub today: Date,
    pub expiry_days: u16,
    /// `public_url` from the configuration: links only when it is set.
    pub public_url: Option<&'a str>,
}

impl Scope<'_> {
    fn link(&self, path: &str) -> Option<String> {
        self.public_url
            .map(|base| format!("{}{path}", base.trim_end_matches('/')))
    }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The digest as of `scope.now`, for every location.
pub fn gather(conn: &Connection, scope: &Scope) -> rusqlite::Result<Digest> {
    // An administrator sees every location: the digest speaks for the
    // whole practice, whoever reads it.
    let everywhere = locations::usable(conn, &crate::domain::actor::Actor::System)?;
    // A fresh index: the job runs once a day, away from the pages' cache.
    let search = SearchCache::default();
    let items = |filter: Filter| overview::list(conn, &search, &filter, &everywhere, SHOWN, 0);

    let (low, n) = items(Filter {
        low: true,
        sort: Sort::OnHand,
        ..Filter::default()
    })?;
    let low = Section {
        heading: format!(
            "Low stock: {} at or below the reorder point",
            plural(n, "item", "items")
        ),
        total: n,
        entries: low
            .iter()
            .map(|s| item_entry(scope, s, format!("{} {} on hand", s.on_hand, s.item.unit)))
            .collect(),
        link: scope.link("/items?low=1"),
    };

    let by = scope.today + time::Duration::days(i64::from(scope.expiry_days));
    let (expiring, n) = items(Filter {
        expiring_by: Some(by),
        sort: Sort::Expiry,
        ..Filter::default()
    })?;
    let today = scope.today.to_string();
    let expiring = Section {
        heading: format!(
            "Expiring: {} with stock expired or expiring within {} days",
            plural(n, "item", "items"),
            scope.expiry_days
        ),
        total: n,
        entries: expiring
            .iter()
            .map(|s| {
                let when = s.next_expiry.clone().unwrap_or_default();
                let verb = if when < today { "expired" } else { "expires" };
                item_entry(scope, s, format!("{verb} {when}"))
            })
            .collect(),
        link: scope.link(&format!(
            "/items?expiring={}&sort=expiry",
            scope.expiry_days
        )),
    };

    let orders = |filter: orders::Filter| {
        orders::list(
            conn,
            &filter,
            &crate::domain::actor::Places::All,
            scope.today,
            SHOWN,
            0,
        )
    };
    let (waiting, n) = orders(orders::Filter {
        states: vec![OrderState::Submitted],
        ..orders::Filter::default()
    })?;
    let to_approve = Section {
        heading: format!(
            "To approve: {} waiting for approval",
            plural(n, "order", "orders")
        ),
        total: n,
        entries: waiting
            .iter()
            .map(|o| {
                order_entry(
                    scope,
                    o,
                    format!(
                        "{} {}, requested by {}",
                        format_minor(o.total_minor),
                        o.currency,
                        o.created_by_name
                    ),
                )
            })
            .collect(),
        link: scope.link("/orders/approvals"),
    };

    let (late, n) = orders(orders::Filter {
        overdue: true,
        ..orders::Filter::default()
    })?;
    let overdue = Section {
        heading: format!(
            "Overdue: {} expected before today",
            plural(n, "delivery", "deliveries")
        ),
        total: n,
        entries: late
            .iter()
            .map(|o| {
                order_entry(
                    scope,
                    o,
                    format!("expected {}, {}", o.expected_on, o.state.label()),
                )
            })
            .collect(),
        link: scope.link("/orders?overdue=1"),
    };

    let dead = crate::jobs::stats(conn, scope.now)?.dead;
    let (jobs, _) = crate::jobs::list(conn, Some(JobState::Dead), None, SHOWN, 0)?;
    let dead_jobs = Section {
        heading: format!(
            "Failed jobs: {} gave up after the last attempt",
            plural(dead, "background job", "background jobs")
        ),
        total: dead,
        entries: jobs
            .iter()
            .map(|j| Entry {
                title: format!("Job {} ({})", j.id, j.kind),
                detail: shorten(&j.last_error, 200),
                link: None,
            })
            .collect(),
        link: scope.link("/admin/jobs?state=dead"),
    };

    Ok(Digest {
        practice: crate::practice::practice(conn)?.name,
        date: scope.today,
        expiry_days: scope.expiry_days,
        low,
        expiring,
        to_approve,
        overdue,
        dead_jobs,
    })
}

fn item_entry(scope: &Scope, s: &ItemSummary, detail: String) -> Entry {
    Entry {
        title: format!("{} ({})", s.item.name, s.item.code),
        detail,
        link: scope.link(&format!("/items/{}", s.item.id)),
    }
}

fn order_entry(scope: &Scope, o: &Order, detail: String) -> Entry {
    Entry {
        title: format!("{} from {}", o.number, o.supplier_name),
        detail,
        link: scope.link(&format!("/orders/{}", o.id)),
    }
}

/// At most `max` characters, on one line.
fn shorten(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

#[derive(Template)]
#[template(path = "email/digest.txt", escape = "none")]
struct TextBody<'a> {
    d: &'a Digest,
}

#[derive(Template)]
#[template(path = "email/digest.html")]
struct HtmlBody<'a> {
    d: &'a Digest,
}

/// The message: an HTML body with a plain-text alternative, to every
/// recipient at once. `message_id` stays the same on every retry of one
/// job, so a copy sent twice after a lost reply is recognisably the same.
pub fn compose(
    digest: &Digest,
    from: &Mailbox,
    recipients: &[String],
    reply_to: &str,
    message_id: &str,
) -> Result<Message, JobError> {
    let bad = |e: String| JobError::Permanent(format!("cannot write the digest: {e}"));
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(digest.subject())
        .message_id(Some(message_id.to_string()));
    for a in recipients {
        builder = builder.to(a.trim().parse().map_err(|e| bad(format!("{a}: {e}")))?);
    }
    if let Ok(reply_to) = reply_to.trim().parse::<Mailbox>() {
        builder = builder.reply_to(reply_to);
    }
    let text = digest.text().map_err(|e| bad(e.to_string()))?;
    let html = digest.html().map_err(|e| bad(e.to_string()))?;
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::plain(text))
                .singlepart(SinglePart::html(html)),
        )
        .map_err(|e| bad(e.to_string()))
}
