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
    /// Using an expired lot on purpose: why.
    #[serde(default)]
    pub(super) expired_use_reason: String,
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
    /// A lot that must not be used (expired, recalled), said at the top.
    warning: Option<String>,
    /// What the form filled in instead, or what a scanned box means.
    hint: Option<String>,
    /// Using: the "use anyway" reason is asked for (an expired lot).
    ask_expired_reason: bool,
    /// Receiving an item that is on its way on orders: those orders, to
    /// receive against instead.
    on_order: Vec<OnOrder>,
    /// Receiving an item that is on no order: said plainly.
    outside_orders: bool,
    errors: FieldErrors,
    focus_quantity: bool,
}
crate::page!(MovePage);

/// An order that has an item on its way, offered on *Receive*.
struct OnOrder {
    order_id: i64,
    number: String,
    supplier: String,
    what: String,
    place: String,
}

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
    /// The quantity of the scanned pack, when a pack was scanned.
    pub(super) pack: Option<i64>,
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
            pack: scan.quantity,
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
    let (
        moves::Choices {
            locations: locs,
            lots: suggestions,
            quarantined,
            ..
        },
        expected,
    ) = ctx
        .state
        .db
        .read(move |c| {
            let choices = moves::choices(c, &actor, item_id, today)?;
            // What is on its way, for *Receive* to offer.
            let expected = match (mode, item_id) {
                (Mode::Receive, Some(id)) => crate::orders::expected(c, id, &choices.allowed)?,
                _ => Vec::new(),
            };
            Ok::<_, crate::db::DbError>((choices, expected))
        })
        .await?;
    let where_is = |id: i64| {
        locs.iter()
            .find(|(l, _)| l.id == id)
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    };
    let unit = p.item.as_ref().map(|i| i.unit.clone()).unwrap_or_default();
    let today_text = today.to_string();
    let scanned_lot = p.form.lot.trim().to_string();
    // The scanned (or typed) lot, where it is held back after a recall.
    let recalled: Vec<&crate::stock::StockLevel> = if scanned_lot.is_empty() {
        Vec::new()
    } else {
        quarantined
            .iter()
            .filter(|l| same_lot(&l.lot, &scanned_lot))
            .collect()
    };
    let scanned_expiry = if p.form.expiry.is_empty() {
        suggestions
            .iter()
            .find(|s| same_lot(&s.level.lot, &scanned_lot) && !scanned_lot.is_empty())
            .map(|s| s.level.expiry.clone())
            .unwrap_or_default()
    } else {
        p.form.expiry.clone()
    };
    let expired = !scanned_expiry.is_empty() && scanned_expiry < today_text;
    let mut warning = None;
    let mut hint = None;
    let scanned_name = lot_name(&scanned_lot);
    if p.errors.is_empty() && !recalled.is_empty() && mode != Mode::Dispose {
        let held: i64 = recalled.iter().map(|l| l.quarantined).sum();
        let places: Vec<String> = recalled.iter().map(|l| where_is(l.location_id)).collect();
        warning = Some(format!(
            "Lot {scanned_name} is quarantined after a recall ({} at {}). Do not use it: set it aside and dispose of it as recalled.",
            crate::domain::words::quantity(held, &unit),
            places.join(", ")
        ));
    } else if p.errors.is_empty()
        && expired
        && matches!(mode, Mode::Use | Mode::Transfer | Mode::Receive)
    {
        warning = Some(format!(
            "Lot {scanned_name} expired on {scanned_expiry}. Do not use it; dispose of it instead."
        ));
    }
    let unusable = !recalled.is_empty() || expired;
    if mode == Mode::Dispose && p.errors.is_empty() && p.form.reason.is_empty() {
        // The reason a scanned lot leaves is usually plain.
        if !recalled.is_empty() {
            p.form.reason = "recalled".into();
        } else if expired {
            p.form.reason = "expired".into();
        }
    }
    if mode.takes_stock() && p.errors.is_empty() && p.form.location_id.is_empty() {
        // Where the scanned lot is (or was held back), so that a
        // replacement comes from the same room if it can.
        let scanned_at: Option<i64> = recalled.first().map(|l| l.location_id).or_else(|| {
            suggestions
                .iter()
                .find(|s| !scanned_lot.is_empty() && same_lot(&s.level.lot, &scanned_lot))
                .map(|s| s.level.location_id)
        });
        let pick: Option<&Suggestion> = if mode == Mode::Use && (unusable || scanned_lot.is_empty())
        {
            // Never an expired or recalled lot: the first good one, in the
            // same place as the scanned lot if there is one there.
            let good = |s: &&Suggestion| {
                !(s.expired || (unusable && same_lot(&s.level.lot, &scanned_lot)))
            };
            suggestions
                .iter()
                .filter(good)
                .find(|s| Some(s.level.location_id) == scanned_at)
                .or_else(|| suggestions.iter().find(good))
        } else if scanned_lot.is_empty() {
            suggestions.first()
        } else {
            suggestions
                .iter()
                .find(|s| same_lot(&s.level.lot, &scanned_lot))
        };
        match pick {
            Some(s) => {
                if mode == Mode::Use && unusable {
                    hint = Some(format!(
                        "The form shows lot {} instead{}, in {}.",
                        lot_name(&s.level.lot),
                        if s.level.expiry.is_empty() {
                            String::new()
                        } else {
                            format!(" (expires {})", s.level.expiry)
                        },
                        where_is(s.level.location_id)
                    ));
                }
                p.form.location_id = s.level.location_id.to_string();
                p.form.lot = s.level.lot.clone();
                p.form.expiry = s.level.expiry.clone();
            }
            None if mode == Mode::Use && unusable => {
                // Nothing good to offer: the bad lot is not left filled in.
                p.form.lot.clear();
                p.form.expiry.clear();
                hint = Some("No other lot of this item is in stock where you may take it.".into());
            }
            None => {}
        }
    }
    if mode == Mode::Use && scanned_lot.is_empty() && p.errors.is_empty() {
        // Not filled in, but there: expired stock to take off the shelf.
        let old: Vec<&Suggestion> = suggestions.iter().filter(|s| s.expired).collect();
        hint = match old.as_slice() {
            [] => hint,
            [s] => Some(format!(
                "Lot {} expired on {}: dispose of it.",
                lot_name(&s.level.lot),
                s.level.expiry
            )),
            many => Some(format!(
                "Lots {} have expired: dispose of them.",
                many.iter()
                    .map(|s| format!("{} ({})", s.level.lot, s.level.expiry))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
    }
    if mode == Mode::Use
        && let Some(pack) = p.pack.filter(|q| *q > 1)
        && p.errors.is_empty()
    {
        // One Enter must not use a whole box: one unit unless told.
        p.form.quantity = "1".into();
        let box_note = format!(
            "You scanned a pack of {}: the quantity is {}; enter {pack} to use the whole pack.",
            crate::domain::words::quantity(pack, &unit),
            crate::domain::words::quantity(1, &unit)
        );
        hint = Some(match hint {
            Some(h) => format!("{h} {box_note}"),
            None => box_note,
        });
    }
    let on_order: Vec<OnOrder> = if mode == Mode::Receive {
        expected
            .iter()
            .map(|e| OnOrder {
                order_id: e.order_id,
                number: e.number.clone(),
                supplier: e.supplier.clone(),
                what: crate::domain::words::quantity(e.outstanding, &unit),
                place: where_is(e.location_id),
            })
            .collect()
    } else {
        Vec::new()
    };
    let outside_orders = mode == Mode::Receive && p.item.is_some() && on_order.is_empty();
    let ask_expired_reason = mode == Mode::Use
        && (p.errors.get("expired_use_reason").is_some() || !p.form.expired_use_reason.is_empty());
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
            hint,
            ask_expired_reason,
            on_order,
            outside_orders,
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

/// A lot number for a message: "(none)" for stock without one.
fn lot_name(lot: &str) -> &str {
    if lot.is_empty() { "(none)" } else { lot }
}

/// Whether two lot numbers are the same as a scanner and a person type
/// them: case and separators aside.
fn same_lot(a: &str, b: &str) -> bool {
    crate::stock::lot_key(a) == crate::stock::lot_key(b)
}
