//! Using, receiving, adjusting, disposing of and moving stock, scanner
//! first.
//!
//! The scan box is a plain GET form: a keyboard-wedge scanner types the code
//! and Enter, the page comes back with the item, pack quantity, lot and
//! expiry filled in (and, when using stock, the first-expiring lot and where
//! it is), and the cursor on the quantity. Works without JavaScript.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::catalog::items::Item;
use crate::catalog::locations::Location;
use crate::stock::Suggestion;
use crate::stock::moves::{self, Action};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, render_status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Use,
    Receive,
    /// A correction either way, with a required reason.
    Adjust,
    /// Expired, damaged or recalled stock leaving for good.
    Dispose,
    /// From one location into another.
    Transfer,
}

impl Mode {
    pub(super) fn path(self) -> &'static str {
        match self {
            Mode::Use => "/stock/use",
            Mode::Receive => "/stock/receive",
            Mode::Adjust => "/stock/adjust",
            Mode::Dispose => "/stock/dispose",
            Mode::Transfer => "/stock/transfer",
        }
    }
    fn title(self) -> &'static str {
        match self {
            Mode::Use => "Use stock",
            Mode::Receive => "Receive stock",
            Mode::Adjust => "Adjust stock",
            Mode::Dispose => "Dispose of stock",
            Mode::Transfer => "Move stock",
        }
    }
    fn button(self) -> &'static str {
        match self {
            Mode::Use => "Use",
            Mode::Receive => "Receive",
            Mode::Adjust => "Adjust",
            Mode::Dispose => "Dispose",
            Mode::Transfer => "Move",
        }
    }
    /// Takes stock out of a location that already holds it: the form
    /// suggests the first-expiring lot and where it is.
    fn takes_stock(self) -> bool {
        matches!(self, Mode::Use | Mode::Dispose | Mode::Transfer)
    }
    pub(super) fn action(self) -> Action {
        match self {
            Mode::Use => Action::Use,
            Mode::Receive => Action::Receive,
            Mode::Adjust => Action::Adjust,
            Mode::Dispose => Action::Dispose,
            Mode::Transfer => Action::Transfer,
        }
    }
}

/// The form's fields as text, exactly as shown.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    pub(super) item: String,
    #[serde(default)]
    pub(super) location_id: String,
    #[serde(default)]
    pub(super) lot: String,
    #[serde(default)]
    pub(super) expiry: String,
    #[serde(default)]
    pub(super) quantity: String,
    #[serde(default)]
    pub(super) note: String,
    /// Adjustments: why; disposals: expired, damaged or recalled.
    #[serde(default)]
    pub(super) reason: String,
    /// Transfers: where the stock goes.
    #[serde(default)]
    pub(super) to_location_id: String,
}

#[derive(Template)]
#[template(path = "stock/move.html")]
struct MovePage {
    layout: Layout,
    path: &'static str,
    heading: &'static str,
    button: &'static str,
    takes_stock: bool,
    is_adjust: bool,
    is_dispose: bool,
    is_transfer: bool,
    code: String,
    form: MoveForm,
    item: Option<Item>,
    locations: Vec<Location>,
    lots: Vec<LotRow>,
    warning: Option<String>,
    errors: FieldErrors,
    focus_quantity: bool,
}
crate::page!(MovePage);

/// One usable lot, for the list under the form.
struct LotRow {
    lot: String,
    expiry: String,
    location: String,
    available: i64,
    expired: bool,
}

#[derive(Debug, Deserialize)]
pub struct Lookup {
    /// What the scanner typed.
    code: Option<String>,
    /// An item code typed by hand.
    item: Option<String>,
}

pub(super) struct Prefill {
    pub(super) form: MoveForm,
    pub(super) item: Option<Item>,
    pub(super) errors: FieldErrors,
}

impl Prefill {
    /// The form as a scan (or a typed item code) fills it in.
    fn from_scan(scan: moves::Scanned) -> Self {
        let form = MoveForm {
            item: scan
                .item
                .as_ref()
                .map(|i| i.code.clone())
                .unwrap_or_default(),
            lot: scan.lot,
            expiry: scan.expiry,
            quantity: scan.quantity.map(|q| q.to_string()).unwrap_or_default(),
            ..MoveForm::default()
        };
        Prefill {
            form,
            item: scan.item,
            errors: scan.errors,
        }
    }
}

pub(super) async fn page(
    req: &HttpRequest,
    ctx: &Ctx,
    mode: Mode,
    status: StatusCode,
    code: String,
    mut p: Prefill,
) -> Result<HttpResponse, AppError> {
    let actor = ctx.actor();
    let today = ctx.state.today();
    let item_id = p.item.as_ref().map(|i| i.id);
    let moves::Choices {
        locations: locs,
        lots: suggestions,
    } = ctx
        .state
        .db
        .read(move |c| moves::choices(c, &actor, item_id, today))
        .await?;
    let where_is = |id: i64| {
        locs.iter()
            .find(|(l, _)| l.id == id)
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    };
    let mut warning = None;
    if mode.takes_stock() && p.errors.is_empty() && p.form.location_id.is_empty() {
        // Suggest the scanned lot where it is, else the first-expiring lot.
        let pick: Option<&Suggestion> = if p.form.lot.is_empty() {
            suggestions.first()
        } else {
            suggestions.iter().find(|s| s.level.lot == p.form.lot)
        };
        if let Some(s) = pick {
            p.form.location_id = s.level.location_id.to_string();
            p.form.lot = s.level.lot.clone();
            p.form.expiry = s.level.expiry.clone();
        }
    }
    if mode == Mode::Use && !p.form.expiry.is_empty() && p.form.expiry < today.to_string() {
        warning = Some(format!(
            "Lot {} expired on {}. Do not use it; dispose of it instead.",
            if p.form.lot.is_empty() {
                "(none)"
            } else {
                &p.form.lot
            },
            p.form.expiry
        ));
    }
    let lots = suggestions
        .iter()
        .map(|s| LotRow {
            lot: s.level.lot.clone(),
            expiry: s.level.expiry.clone(),
            location: where_is(s.level.location_id),
            available: s.available,
            expired: s.expired,
        })
        .collect();
    let locations: Vec<Location> = locs
        .into_iter()
        .map(|(mut l, path)| {
            l.name = path;
            l
        })
        .collect();
    render_status(
        status,
        &MovePage {
            layout: Layout::for_request(req, mode.title()),
            path: mode.path(),
            heading: mode.title(),
            button: mode.button(),
            takes_stock: mode.takes_stock(),
            is_adjust: mode == Mode::Adjust,
            is_dispose: mode == Mode::Dispose,
            is_transfer: mode == Mode::Transfer,
            focus_quantity: p.item.is_some(),
            code,
            item: p.item,
            form: p.form,
            locations,
            lots,
            warning,
            errors: p.errors,
        },
    )
}

pub async fn adjust_form(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<Lookup>,
) -> Result<HttpResponse, AppError> {
    form(req, ctx, q, Mode::Adjust).await
}

pub async fn dispose_form(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<Lookup>,
) -> Result<HttpResponse, AppError> {
    form(req, ctx, q, Mode::Dispose).await
}

pub async fn transfer_form(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<Lookup>,
) -> Result<HttpResponse, AppError> {
    form(req, ctx, q, Mode::Transfer).await
}

pub async fn use_form(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<Lookup>,
) -> Result<HttpResponse, AppError> {
    form(req, ctx, q, Mode::Use).await
}

pub async fn receive_form(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<Lookup>,
) -> Result<HttpResponse, AppError> {
    form(req, ctx, q, Mode::Receive).await
}

async fn form(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<Lookup>,
    mode: Mode,
) -> Result<HttpResponse, AppError> {
    let code = q.code.clone().unwrap_or_default();
    let typed = q.item.clone().unwrap_or_default();
    let year = ctx.state.today().year();
    let (c2, t2) = (code.clone(), typed.clone());
    let p = ctx
        .state
        .db
        .read(move |c| moves::scan(c, &c2, &t2, year))
        .await
        .map(Prefill::from_scan)?;
    let status = if p.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(&req, &ctx, mode, status, code, p).await
}
