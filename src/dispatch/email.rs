//! The email channel: the order goes to the supplier's order desk through
//! the practice's mail server (`smtp.*` in the configuration) as an HTML
//! message with a plain-text alternative, with the order attached as a PDF
//! (for people) and as CSV (for the supplier's systems).
//!
//! Every message about one order version carries the same `Message-ID`, so
//! a send that is retried after a lost reply (the server took the message
//! but the connection dropped before it said so) is recognisably the same
//! message, and the supplier's desk can discard the duplicate. A
//! cancellation notice refers back to the order's message.

use std::sync::Arc;

use askama::Template;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use serde::{Deserialize, Serialize};

use super::{Adapter, BoxFuture, Outgoing, Purpose};
use crate::domain::money::format_minor;
use crate::jobs::worker::JobError;
pub use crate::mail::Mailer;
use crate::orders::OrderDetail;
use crate::validation::FieldErrors;

/// Where a supplier's orders go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = EmailChannelSettings)]
pub struct Settings {
    /// The supplier's order desk: one to five addresses.
    pub to: Vec<String>,
    /// Copies, e.g. the practice's own purchasing mailbox (up to five).
    #[serde(default)]
    pub cc: Vec<String>,
}

const MAX_RECIPIENTS: usize = 5;

impl Settings {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        for (field, list, needed) in [("to", &self.to, true), ("cc", &self.cc, false)] {
            if needed && list.is_empty() {
                errors.add(field, "needs at least one email address");
            } else if list.len() > MAX_RECIPIENTS {
                errors.add(field, format!("takes at most {MAX_RECIPIENTS} addresses"));
            }
            for a in list {
                if a.trim().parse::<lettre::Address>().is_err() {
                    errors.add(
                        field,
                        format!("{a:?} is not an email address such as orders@supplier.example"),
                    );
                }
            }
        }
        errors.into_result()
    }

    /// Addresses from a text field: separated by commas, semicolons or lines.
    pub fn split(text: &str) -> Vec<String> {
        text.split([',', ';', '\n'])
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect()
    }
}

/// The email adapter for one supplier.
pub struct Email {
    pub mailer: Arc<Mailer>,
    pub settings: Settings,
}

impl Adapter for Email {
    fn deliver<'a>(&'a self, out: &'a Outgoing) -> BoxFuture<'a, Result<String, JobError>> {
        Box::pin(async move {
            self.settings.validate().map_err(|e| {
                JobError::Permanent(format!("the supplier's email settings are wrong: {e}"))
            })?;
            let message = compose(&self.mailer.from, &self.settings, out)?;
            self.mailer.send(message).await?;
            Ok(format!("emailed to {}", self.settings.to.join(", ")))
        })
    }
}

/// The `Message-ID` of an order version: its number and a digest of what
/// was ordered, so it stays the same across retries and changes only if
/// the order itself does.
pub fn message_id(detail: &OrderDetail, from: &Mailbox) -> String {
    let mut content = format!(
        "{}|{}|{}",
        detail.order.number, detail.order.currency, detail.order.total_minor
    );
    for l in &detail.lines {
        content.push_str(&format!(
            "|{}:{}:{}",
            l.supplier_item_id, l.packs, l.unit_price_minor
        ));
    }
    let digest = crate::crypto::sha256_hex(&content);
    format!(
        "<{}.{}@{}>",
        detail.order.number.to_ascii_lowercase(),
        &digest[..16],
        from.email.domain()
    )
}

/// One order line as the message shows it.
pub(crate) struct LineView {
    pub n: usize,
    pub supplier_code: String,
    pub description: String,
    pub packs: i64,
    pub pack_size: i64,
    pub unit: String,
    pub pack_price: String,
    pub total: String,
}

pub(crate) fn line_views(detail: &OrderDetail) -> Vec<LineView> {
    detail
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| LineView {
            n: i + 1,
            supplier_code: l.supplier_code.clone(),
            description: l.item_name.clone(),
            packs: l.packs,
            pack_size: l.pack_size,
            unit: l.unit.clone(),
            pack_price: format_minor(l.unit_price_minor),
            total: format_minor(l.line_total_minor),
        })
        .collect()
}

/// What the text and HTML bodies say.
#[derive(Template)]
#[template(path = "email/message.txt", escape = "none")]
struct TextBody<'a> {
    b: &'a Body<'a>,
}

#[derive(Template)]
#[template(path = "email/message.html")]
struct HtmlBody<'a> {
    b: &'a Body<'a>,
}

struct Body<'a> {
    out: &'a Outgoing,
    purpose: &'static str,
    number: String,
    lines: Vec<LineView>,
    total: String,
    currency: String,
    expected_on: String,
    note: String,
    reason: String,
    address_lines: Vec<&'a str>,
}

fn subject(out: &Outgoing) -> String {
    let practice = if out.practice.name.is_empty() {
        "stockroom".to_string()
    } else {
        out.practice.name.clone()
    };
    match &out.purpose {
        Purpose::Order => format!("Purchase order {} from {practice}", out.order_number()),
        Purpose::Cancel { .. } => {
            format!(
                "CANCELLED: purchase order {} from {practice}",
                out.order_number()
            )
        }
        Purpose::Test => format!("Test message from {practice}: no order"),
    }
}

/// The whole message for `out`.
pub fn compose(from: &Mailbox, settings: &Settings, out: &Outgoing) -> Result<Message, JobError> {
    let bad = |e: String| JobError::Permanent(format!("cannot write the email: {e}"));
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(subject(out))
        .date(
            std::time::SystemTime::UNIX_EPOCH
                + std::time::Duration::from_secs(out.at.timestamp().as_second().max(0) as u64),
        );
    for a in &settings.to {
        builder = builder.to(a.trim().parse().map_err(|e| bad(format!("{a}: {e}")))?);
    }
    for a in &settings.cc {
        builder = builder.cc(a.trim().parse().map_err(|e| bad(format!("{a}: {e}")))?);
    }
    if let Ok(reply_to) = out.practice.email.trim().parse::<Mailbox>() {
        builder = builder.reply_to(reply_to);
    }
    let detail = out.detail.as_ref();
    builder = match (&out.purpose, detail) {
        (Purpose::Order, Some(d)) => builder.message_id(Some(message_id(d, from))),
        (Purpose::Cancel { .. }, Some(d)) => {
            let original = message_id(d, from);
            builder
                .message_id(Some(original.replacen('.', ".cancel.", 1)))
                .in_reply_to(original.clone())
                .references(original)
        }
        _ => builder.message_id(Some(format!(
            "<{}@{}>",
            out.delivery_id,
            from.email.domain()
        ))),
    };
    let body = Body {
        out,
        purpose: match out.purpose {
            Purpose::Order => "order",
            Purpose::Cancel { .. } => "cancel",
            Purpose::Test => "test",
        },
        number: out.order_number().to_string(),
        lines: detail.map(line_views).unwrap_or_default(),
        total: detail
            .map(|d| format_minor(d.order.total_minor))
            .unwrap_or_default(),
        currency: detail.map(|d| d.order.currency.clone()).unwrap_or_default(),
        expected_on: detail
            .map(|d| d.order.expected_on.clone())
            .unwrap_or_default(),
        note: detail.map(|d| d.order.note.clone()).unwrap_or_default(),
        reason: match &out.purpose {
            Purpose::Cancel { reason } => reason.clone(),
            _ => String::new(),
        },
        address_lines: out
            .practice
            .address
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect(),
    };
    let text = TextBody { b: &body }
        .render()
        .map_err(|e| bad(e.to_string()))?;
    let html = HtmlBody { b: &body }
        .render()
        .map_err(|e| bad(e.to_string()))?;
    let alternative = MultiPart::alternative()
        .singlepart(SinglePart::plain(text))
        .singlepart(SinglePart::html(html));
    let message = match (&out.purpose, detail) {
        (Purpose::Order, Some(d)) => {
            let csv = super::csv_folder::render(
                &super::csv_folder::Settings {
                    folder: String::new(),
                    columns: super::csv_folder::COLUMNS
                        .iter()
                        .map(|c| c.to_string())
                        .collect(),
                },
                d,
                &out.supplier.account_number,
            );
            let printed = out.at.strftime("%Y-%m-%d %H:%M").to_string();
            let pdf = super::pdf::order_pdf(&out.practice, &out.supplier, d, &printed)
                .map_err(|e| bad(format!("the PDF: {e}")))?;
            MultiPart::mixed()
                .multipart(alternative)
                .singlepart(Attachment::new(format!("{}.pdf", d.order.number)).body(
                    pdf,
                    ContentType::parse("application/pdf").expect("a MIME type"),
                ))
                .singlepart(Attachment::new(format!("{}.csv", d.order.number)).body(
                    csv,
                    ContentType::parse("text/csv; charset=utf-8").expect("a MIME type"),
                ))
        }
        _ => MultiPart::mixed().multipart(alternative),
    };
    builder.multipart(message).map_err(|e| bad(e.to_string()))
}

/// An EDI interchange emailed to the supplier's EDI mailbox: a short text
/// and the file attached as `application/EDI-X12`. Its `Message-ID` comes
/// from the file name, which carries the control number, so a retry is
/// the same message.
pub fn compose_edi(
    from: &Mailbox,
    to: &[String],
    out: &Outgoing,
    file_name: &str,
    interchange: &str,
) -> Result<Message, JobError> {
    let bad = |e: String| JobError::Permanent(format!("cannot write the email: {e}"));
    let practice = if out.practice.name.is_empty() {
        "stockroom"
    } else {
        out.practice.name.as_str()
    };
    let what = match out.purpose {
        Purpose::Cancel { .. } => "cancellation of purchase order",
        _ => "purchase order",
    };
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(format!(
            "EDI X12 850: {what} {} from {practice}",
            out.order_number()
        ))
        .message_id(Some(format!(
            "<{}@{}>",
            file_name.to_ascii_lowercase(),
            from.email.domain()
        )))
        .date(
            std::time::SystemTime::UNIX_EPOCH
                + std::time::Duration::from_secs(out.at.timestamp().as_second().max(0) as u64),
        );
    for a in to {
        builder = builder.to(a.trim().parse().map_err(|e| bad(format!("{a}: {e}")))?);
    }
    let body = format!(
        "The attached file {file_name} is an ANSI X12 850 ({what} {}) from {practice}.\n",
        out.order_number()
    );
    builder
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(body))
                .singlepart(Attachment::new(file_name.to_string()).body(
                    interchange.to_string(),
                    ContentType::parse("application/EDI-X12").expect("a MIME type"),
                )),
        )
        .map_err(|e| bad(e.to_string()))
}
