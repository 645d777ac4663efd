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
use time::Date;

use crate::catalog::items::{self, Item};
use crate::catalog::locations::Location;
use crate::db::DbError;
use crate::stock::moves::{self, Action, MoveInput, Moved};
use crate::stock::{StockError, Suggestion};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render_status};

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
    fn path(self) -> &'static str {
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
    fn action(self) -> Action {
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
    item: String,
    #[serde(default)]
    location_id: String,
    #[serde(default)]
    lot: String,
    #[serde(default)]
    expiry: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    note: String,
    /// Adjustments: why; disposals: expired, damaged or recalled.
    #[serde(default)]
    reason: String,
    /// Transfers: where the stock goes.
    #[serde(default)]
    to_location_id: String,
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

struct Prefill {
    form: MoveForm,
    item: Option<Item>,
    errors: FieldErrors,
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

async fn page(
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

pub async fn adjust_submit(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    submit(req, ctx, f.into_inner(), Mode::Adjust).await
}

pub async fn dispose_submit(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    submit(req, ctx, f.into_inner(), Mode::Dispose).await
}

pub async fn transfer_submit(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    submit(req, ctx, f.into_inner(), Mode::Transfer).await
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

pub async fn use_submit(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    submit(req, ctx, f.into_inner(), Mode::Use).await
}

pub async fn receive_submit(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    submit(req, ctx, f.into_inner(), Mode::Receive).await
}

async fn submit(
    req: HttpRequest,
    ctx: Ctx,
    form: MoveForm,
    mode: Mode,
) -> Result<HttpResponse, AppError> {
    let mut errors = FieldErrors::default();
    // Adjustments go either way; everything else is a positive amount.
    let range = if mode == Mode::Adjust {
        -1_000_000..=1_000_000
    } else {
        1..=1_000_000
    };
    let quantity = errors.check(
        "quantity",
        form.quantity
            .trim()
            .trim_start_matches('+')
            .parse::<i64>()
            .ok()
            .filter(|q| range.contains(q) && *q != 0)
            .ok_or(if mode == Mode::Adjust {
                "must be a whole number from -1000000 to 1000000, not 0 (minus takes stock away)"
            } else {
                "must be a whole number from 1 to 1000000"
            }),
    );
    let location_id = errors.check(
        "location_id",
        form.location_id
            .trim()
            .parse::<i64>()
            .map_err(|_| "choose a location"),
    );
    let to_location_id = if mode == Mode::Transfer {
        errors.check(
            "to_location_id",
            form.to_location_id
                .trim()
                .parse::<i64>()
                .map_err(|_| "choose where the stock goes"),
        )
    } else {
        None
    };
    let expiry = match form.expiry.trim() {
        "" => None,
        text => errors.check(
            "expiry",
            Date::parse(
                text,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| "must be a date (YYYY-MM-DD)"),
        ),
    };
    let input = MoveInput {
        action: mode.action(),
        item_code: form.item.clone(),
        location_id,
        to_location_id,
        lot: form.lot.clone(),
        expiry,
        quantity,
        reason: form.reason.clone(),
        note: form.note.clone(),
    };
    let a = ctx.audit();
    let outcome = ctx
        .state
        .db
        .write(move |tx| moves::move_stock(tx, &a, &input, errors))
        .await;
    match outcome {
        Ok(Moved {
            item,
            place,
            quantity,
        }) => {
            let lot = if form.lot.trim().is_empty() {
                String::new()
            } else {
                format!(", lot {}", form.lot.trim())
            };
            let what = format!("{} {} of {}{lot}", quantity.abs(), item.unit, item.name);
            let message = match mode {
                Mode::Use => format!("Used {what} from {place}."),
                Mode::Receive => format!("Received {what} into {place}."),
                Mode::Adjust if quantity > 0 => format!("Added {what} at {place}."),
                Mode::Adjust => format!("Took {what} off at {place}."),
                Mode::Dispose => {
                    format!("Disposed of {what} from {place} ({}).", form.reason.trim())
                }
                Mode::Transfer => format!("Moved {what} from {place}."),
            };
            Ok(redirect_with_flash(mode.path(), "success", &message))
        }
        Err(StockError::Invalid(errors)) => again(&req, &ctx, mode, form, errors).await,
        Err(e) => Err(e.into()),
    }
}

/// The form again, as submitted, with its errors.
async fn again(
    req: &HttpRequest,
    ctx: &Ctx,
    mode: Mode,
    form: MoveForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let code = form.item.clone();
    let item = ctx
        .state
        .db
        .read(move |c| items::find_by_code(c, &code).map_err(DbError::from))
        .await?;
    page(
        req,
        ctx,
        mode,
        StatusCode::UNPROCESSABLE_ENTITY,
        String::new(),
        Prefill { form, item, errors },
    )
    .await
}
