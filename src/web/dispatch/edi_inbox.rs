//! The EDI inbox page: per supplier that trades by X12, the files taken up
//! from its inbox folder — rejected ones first, with the reason — and a
//! button that looks into the inboxes now instead of at the next
//! scheduled look.

use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::db::DbError;
use crate::dispatch::inbox::{self, InboundFile};
use crate::domain::Timestamp;
use crate::jobs::{self, Job, JobState};
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render};

const PATH: &str = "/admin/edi-inbox";
/// How many of each supplier's newest files the page lists.
const PER_SUPPLIER: u32 = 25;

/// One supplier's inbox and its files.
struct SupplierView {
    supplier_id: i64,
    name: String,
    /// The inbox folder, or empty when the supplier no longer has one.
    folder: String,
    /// Why the inbox is not looked into.
    problem: Option<String>,
    files: Vec<FileView>,
}

impl SupplierView {
    fn rejected(&self) -> usize {
        self.files.iter().filter(|f| f.rejected()).count()
    }
}

struct FileView {
    file: InboundFile,
    received: String,
    /// What the file is, in words: "acknowledgment (855)".
    kind: String,
}

impl FileView {
    fn rejected(&self) -> bool {
        self.file.outcome == "rejected"
    }
}

fn kind_in_words(sets: &str) -> String {
    let words: Vec<String> = sets
        .split_whitespace()
        .map(|code| match code {
            "855" => "acknowledgment (855)".to_string(),
            "856" => "ship notice (856)".to_string(),
            "997" => "functional acknowledgment (997)".to_string(),
            other => other.to_string(),
        })
        .collect();
    if words.is_empty() {
        "unreadable".into()
    } else {
        words.join(", ")
    }
}

#[derive(Template)]
#[template(path = "admin/edi_inbox.html")]
struct InboxPage {
    layout: Layout,
    root: String,
    suppliers: Vec<SupplierView>,
    /// The newest look, in words, and whether it failed.
    last: Option<(String, bool)>,
}
crate::page!(InboxPage);

fn when(at: &str) -> String {
    Timestamp::parse(at).map_or_else(|_| at.to_string(), Timestamp::human)
}

/// GET `/admin/edi-inbox`.
pub async fn show(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let (boxes, files, last) = ctx
        .state
        .db
        .read(|c| {
            let (last, _) = jobs::list(c, None, Some(inbox::INBOX_KIND), 1, 0)?;
            Ok::<_, DbError>((
                inbox::edi_inboxes(c)?,
                inbox::recent_files(c, PER_SUPPLIER)?,
                last.into_iter().next(),
            ))
        })
        .await?;
    let mut suppliers: Vec<SupplierView> = boxes
        .into_iter()
        .map(|i| SupplierView {
            supplier_id: i.supplier_id,
            name: i.supplier,
            folder: i.folder,
            problem: i.problem,
            files: Vec::new(),
        })
        .collect();
    for file in files {
        let view = FileView {
            received: when(&file.received_at),
            kind: kind_in_words(&file.transaction_sets),
            file,
        };
        match suppliers
            .iter_mut()
            .find(|s| s.supplier_id == view.file.supplier_id)
        {
            Some(s) => s.files.push(view),
            None => suppliers.push(SupplierView {
                supplier_id: view.file.supplier_id,
                name: view.file.supplier_name.clone(),
                folder: String::new(),
                problem: None,
                files: vec![view],
            }),
        }
    }
    render(&InboxPage {
        layout: Layout::for_request(&req, "EDI inbox"),
        root: ctx.state.config.dispatch.folder_root.display().to_string(),
        suppliers,
        last: last.as_ref().map(last_text),
    })
}

/// The newest inbox job in words: (text, failed).
fn last_text(job: &Job) -> (String, bool) {
    let at = job.finished_at.as_deref().map(when).unwrap_or_default();
    match job.state {
        JobState::Queued | JobState::Running => (
            "A look into the inboxes is under way… reload the page in a moment.".into(),
            false,
        ),
        JobState::Failed => (
            format!(
                "The last look failed and will be tried again: {}",
                job.last_error
            ),
            true,
        ),
        JobState::Succeeded => (format!("Last look into the inboxes: {at}."), false),
        JobState::Dead | JobState::Cancelled => (
            format!(
                "The last look into the inboxes failed {at}: {}",
                if job.last_error.is_empty() {
                    "no reason recorded"
                } else {
                    &job.last_error
                }
            ),
            true,
        ),
    }
}

/// POST `/admin/edi-inbox/check`: "Check the inboxes now".
pub async fn check_now(ctx: Ctx) -> Result<HttpResponse, AppError> {
    let a = ctx.audit();
    ctx.state
        .db
        .write(move |tx| inbox::enqueue_now(tx, &a).map_err(DbError::from))
        .await?;
    Ok(redirect_with_flash(
        PATH,
        "success",
        "stockroom is looking into the inboxes. Reload this page in a moment to see what came in.",
    ))
}

/// The "Supplier's answer" section of an order page: each line's answer
/// from the latest acknowledgment, and the ship notices.
pub struct AnswerView {
    pub lines: Vec<AnswerLine>,
    pub shipments: Vec<ShipmentView>,
    /// Lines shipped over what was ordered, in words.
    pub over_shipped: Vec<String>,
}

pub struct AnswerLine {
    pub item_name: String,
    pub supplier_code: String,
    /// "6 accepted; 4 back-ordered until 2026-01-30".
    pub answer: String,
    /// Some of it is not coming (rejected or back-ordered).
    pub short: bool,
}

pub struct ShipmentView {
    pub shipment_id: String,
    pub received: String,
    pub lines: Vec<ShippedView>,
}

pub struct ShippedView {
    pub item_name: String,
    pub vendor_part: String,
    pub quantity: i64,
    pub lot: String,
    pub expiry: String,
}

impl AnswerView {
    /// The section for an order with these lines, or none when the
    /// supplier has not answered through EDI.
    pub fn of(answers: &inbox::Answers, lines: &[crate::orders::OrderLine]) -> Option<AnswerView> {
        if answers.is_empty() {
            return None;
        }
        let name = |id: i64| {
            lines
                .iter()
                .find(|l| l.id == id)
                .map(|l| (l.item_name.clone(), l.supplier_code.clone()))
                .unwrap_or_default()
        };
        let answered = lines
            .iter()
            .filter_map(|l| {
                let said = answers.for_line(l.id);
                (!said.is_empty()).then(|| AnswerLine {
                    item_name: l.item_name.clone(),
                    supplier_code: l.supplier_code.clone(),
                    answer: said
                        .iter()
                        .map(|a| a.describe())
                        .collect::<Vec<_>>()
                        .join("; "),
                    short: said
                        .iter()
                        .any(|a| matches!(a.status.as_str(), "rejected" | "backordered")),
                })
            })
            .collect();
        let shipments = answers
            .shipments
            .iter()
            .map(|s| ShipmentView {
                shipment_id: s.shipment_id.clone(),
                received: when(&s.received_at),
                lines: s
                    .lines
                    .iter()
                    .map(|l| {
                        let (item_name, code) = name(l.order_line_id);
                        ShippedView {
                            item_name,
                            vendor_part: if l.vendor_part.is_empty() {
                                code
                            } else {
                                l.vendor_part.clone()
                            },
                            quantity: l.quantity,
                            lot: l.lot.clone(),
                            expiry: l.expiry.clone(),
                        }
                    })
                    .collect(),
            })
            .collect();
        Some(AnswerView {
            lines: answered,
            shipments,
            over_shipped: inbox::over_shipped(answers, lines),
        })
    }
}
