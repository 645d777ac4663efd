//! Receiving a delivery against an order, scanner first.
//!
//! One row per order line with units outstanding. The scan box at the top
//! belongs to the same form as the rows: a keyboard-wedge scanner types a
//! GS1 code and Enter, which submits the form with the "Look up" button
//! (the form's first), and the page comes back with the matching row's lot
//! and expiry filled and the pack's units added to its quantity, every
//! other value kept as typed. `static/receive.js` does the same in the
//! page when it can, and falls back to the server otherwise. A second lot
//! of the same line gets a row of its own (scanned, or "Add another lot").
//! Rows left empty are ignored; the receipt itself is one call of
//! `orders::receiving::receive`, which writes everything or nothing.

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use rusqlite::Connection;

use crate::catalog::items;
use crate::catalog::locations::{self, Location};
use crate::db::DbError;
use crate::dispatch::inbox::ExpectedLot;
use crate::domain::barcode::{self, PackCode};
use crate::orders::receiving::{self, ReceiptInput, ReceiptLineInput};
use crate::orders::{self, Order, OrderLine, OrdersError, Who};
use crate::validation::FieldErrors;
use crate::web::assets::asset_url;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render_status};

/// One row of the form as typed: an order line and what came of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowForm {
    pub line_id: i64,
    pub quantity: String,
    pub damaged: String,
    pub lot: String,
    pub expiry: String,
    pub location_id: String,
    pub substitute_item_id: String,
    /// The lot and expiry a ship notice filled in, so that a row left as
    /// filled counts as empty.
    pub prefilled_lot: String,
    pub prefilled_expiry: String,
}

impl RowForm {
    fn for_line(line: &OrderLine) -> RowForm {
        RowForm {
            line_id: line.id,
            location_id: line.location_id.to_string(),
            ..RowForm::default()
        }
    }

    /// Nothing typed that would be received (location and substitute
    /// choices alone do not count, nor a lot and expiry left as a ship
    /// notice filled them in).
    fn is_empty(&self) -> bool {
        let untouched =
            |typed: &str, filled: &str| typed.trim().is_empty() || typed.trim() == filled.trim();
        [&self.quantity, &self.damaged]
            .iter()
            .all(|v| v.trim().is_empty())
            && untouched(&self.lot, &self.prefilled_lot)
            && untouched(&self.expiry, &self.prefilled_expiry)
    }
}

/// The whole form as typed.
#[derive(Debug, Clone, Default)]
pub struct ReceiveForm {
    pub code: String,
    pub delivery_note: String,
    pub note: String,
    pub confirm_over_delivery: bool,
    pub rows: Vec<RowForm>,
    /// `scan` (the Look up button, and Enter in the scan box) or `receive`.
    pub action: String,
    /// "Add another lot" for this order line.
    pub add_lot: Option<i64>,
}

impl ReceiveForm {
    /// Reads `r<N>_<field>` row fields and the rest from the posted pairs.
    fn parse(pairs: &[(String, String)]) -> ReceiveForm {
        let mut form = ReceiveForm::default();
        let mut rows: Vec<(usize, RowForm)> = Vec::new();
        for (key, value) in pairs {
            match key.as_str() {
                "code" => form.code = value.clone(),
                "delivery_note" => form.delivery_note = value.clone(),
                "note" => form.note = value.clone(),
                "confirm_over_delivery" => form.confirm_over_delivery = !value.is_empty(),
                "action" => form.action = value.clone(),
                "add_lot" => form.add_lot = value.trim().parse().ok(),
                other => {
                    let Some((n, field)) = other
                        .strip_prefix('r')
                        .and_then(|rest| rest.split_once('_'))
                        .and_then(|(n, f)| Some((n.parse::<usize>().ok()?, f)))
                    else {
                        continue;
                    };
                    if n > 500 {
                        continue;
                    }
                    let pos = match rows.iter().position(|(i, _)| *i == n) {
                        Some(p) => p,
                        None => {
                            rows.push((n, RowForm::default()));
                            rows.len() - 1
                        }
                    };
                    let row = &mut rows[pos].1;
                    match field {
                        "line" => row.line_id = value.trim().parse().unwrap_or(0),
                        "quantity" => row.quantity = value.clone(),
                        "damaged" => row.damaged = value.clone(),
                        "lot" => row.lot = value.clone(),
                        "expiry" => row.expiry = value.clone(),
                        "location" => row.location_id = value.clone(),
                        "substitute" => row.substitute_item_id = value.clone(),
                        "prefilled_lot" => row.prefilled_lot = value.clone(),
                        "prefilled_expiry" => row.prefilled_expiry = value.clone(),
                        _ => {}
                    }
                }
            }
        }
        rows.sort_by_key(|(i, _)| *i);
        form.rows = rows.into_iter().map(|(_, r)| r).collect();
        form
    }
}

/// What the page needs besides the form: the order, its lines, the codes
/// their items are scanned by, where goods may go, what may substitute.
struct Context {
    order: Order,
    lines: Vec<OrderLine>,
    /// Per item: (GTIN or HIBCC code, units in that pack).
    packs: HashMap<i64, Vec<(String, i64)>>,
    locations: Vec<Location>,
    /// Lots ship notices announced and no receipt has taken in yet.
    expected: Vec<ExpectedLot>,
}

fn load(
    c: &Connection,
    id: i64,
    user_id: i64,
    role: crate::domain::Role,
    today: time::Date,
) -> Result<Option<Context>, DbError> {
    let Some(order) = orders::get(c, id, today)? else {
        return Ok(None);
    };
    let lines = orders::lines(c, id)?;
    let mut packs: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
    for line in &lines {
        if packs.contains_key(&line.item_id) {
            continue;
        }
        let codes = items::packs(c, line.item_id)?
            .into_iter()
            .flat_map(|p| {
                [p.gtin, p.hibcc]
                    .into_iter()
                    .flatten()
                    .map(move |code| (code, p.quantity))
            })
            .collect();
        packs.insert(line.item_id, codes);
    }
    let locations = locations::list_accessible_with_paths(c, user_id, role)?
        .into_iter()
        .filter(|(l, _)| l.active)
        .map(|(mut l, path)| {
            l.name = path;
            l
        })
        .collect();
    let expected = crate::dispatch::inbox::expected_lots(c, id)?;
    Ok(Some(Context {
        order,
        lines,
        packs,
        locations,
        expected,
    }))
}

async fn load_for(ctx: &Ctx, id: i64) -> Result<Context, AppError> {
    let user = ctx.user()?.clone();
    let today = ctx.state.today();
    ctx.state
        .db
        .read(move |c| load(c, id, user.id, user.role, today))
        .await?
        .ok_or(AppError::NotFound)
}

impl Context {
    fn line(&self, id: i64) -> Option<&OrderLine> {
        self.lines.iter().find(|l| l.id == id)
    }

    /// The posted rows that name a line of this order, grouped by line in
    /// the order's order, plus a fresh row for every open line not posted.
    fn normalise(&self, rows: Vec<RowForm>) -> Vec<RowForm> {
        let mut out = Vec::new();
        for line in &self.lines {
            let mine: Vec<RowForm> = rows
                .iter()
                .filter(|r| r.line_id == line.id)
                .cloned()
                .collect();
            if mine.is_empty() {
                if line.outstanding > 0 {
                    out.push(RowForm::for_line(line));
                }
            } else {
                out.extend(mine);
            }
        }
        out
    }

    /// The rows of the empty form: per open line, one row for each lot a
    /// ship notice announced and no receipt has taken in (its lot and
    /// expiry filled in, as far as the item is tracked by them), else one
    /// empty row.
    fn prefilled(&self) -> Vec<RowForm> {
        let mut out = Vec::new();
        for line in self.lines.iter().filter(|l| l.outstanding > 0) {
            let rows: Vec<RowForm> = self
                .expected
                .iter()
                .filter(|e| e.order_line_id == line.id)
                .map(|e| {
                    let lot = if line.lot_tracked {
                        e.lot.clone()
                    } else {
                        String::new()
                    };
                    let expiry = if line.expiry_tracked {
                        e.expiry.clone()
                    } else {
                        String::new()
                    };
                    RowForm {
                        lot: lot.clone(),
                        expiry: expiry.clone(),
                        prefilled_lot: lot,
                        prefilled_expiry: expiry,
                        ..RowForm::for_line(line)
                    }
                })
                .filter(|r| !r.lot.is_empty() || !r.expiry.is_empty())
                .collect();
            if rows.is_empty() {
                out.push(RowForm::for_line(line));
            } else {
                out.extend(rows);
            }
        }
        out
    }

    /// What the ship notice said of a row it filled in.
    fn shipped(&self, row: &RowForm) -> Option<String> {
        if row.prefilled_lot.is_empty() && row.prefilled_expiry.is_empty() {
            return None;
        }
        let filled = |wanted: &str, announced: &str| wanted.is_empty() || wanted == announced;
        let e = self.expected.iter().find(|e| {
            e.order_line_id == row.line_id
                && filled(&row.prefilled_lot, &e.lot)
                && filled(&row.prefilled_expiry, &e.expiry)
        })?;
        // The supplier counts in what the order was sent in: packs, or
        // units when a pack holds one.
        let shipped = match self.line(row.line_id) {
            Some(l) if l.pack_size > 1 => {
                format!("{} × pack of {} {}", e.quantity, l.pack_size, l.unit)
            }
            Some(l) => format!("{} {}", e.quantity, l.unit),
            None => e.quantity.to_string(),
        };
        let mut said = format!("Ship notice {}: {shipped} shipped", e.shipment_id);
        if !e.lot.is_empty() {
            said.push_str(&format!(", lot {}", e.lot));
        }
        if !e.expiry.is_empty() {
            said.push_str(&format!(", expiry {}", e.expiry));
        }
        Some(said)
    }
}

/// A row as the template shows it.
struct RowView {
    /// The `r<N>` prefix of its fields.
    n: usize,
    form: RowForm,
    line: OrderLine,
    /// The first row of its line (later rows are further lots).
    first: bool,
    /// `code=units` pairs for the page's script, space separated.
    codes: String,
    /// The line's own location is among those the user may choose.
    line_location_listed: bool,
    /// What a ship notice said of the lot filled in.
    shipped: Option<String>,
    quantity_error: Option<String>,
    damaged_error: Option<String>,
    lot_error: Option<String>,
    expiry_error: Option<String>,
    location_error: Option<String>,
    substitute_error: Option<String>,
}

/// One entry of the error summary: where it links and what it says.
struct Problem {
    anchor: String,
    text: String,
}

#[derive(Template)]
#[template(path = "orders/receive.html")]
struct ReceivePage {
    layout: Layout,
    order: Order,
    receivable: bool,
    form: ReceiveForm,
    rows: Vec<RowView>,
    locations: Vec<Location>,
    code_error: Option<String>,
    delivery_note_error: Option<String>,
    note_error: Option<String>,
    /// An order-level refusal or "nothing to receive".
    refusal: Option<String>,
    problems: Vec<Problem>,
    show_confirm: bool,
    over_delivery: Option<String>,
    /// A scan was applied: says what it filled.
    scanned: Option<String>,
}
crate::page!(ReceivePage);

/// Field names the service uses, mapped to the form's.
fn form_field(service: &str) -> &'static str {
    match service {
        "quantity" | "order_line_id" => "quantity",
        "damaged" => "damaged",
        "lot" => "lot",
        "expiry" => "expiry",
        "location_id" => "location",
        "substitute_item_id" => "substitute",
        _ => "quantity",
    }
}

fn field_label(field: &str) -> &'static str {
    match field {
        "quantity" => "Quantity received",
        "damaged" => "Damaged",
        "lot" => "Lot",
        "expiry" => "Expiry",
        "location" => "Location",
        "substitute" => "Substitute item",
        "code" => "Scan",
        "delivery_note" => "Delivery note number",
        "note" => "Note",
        _ => "Receipt",
    }
}

/// Errors keyed by the form's own names: `code`, `delivery_note`, `note`,
/// `lines` (the receipt as a whole) and `r<N>_<field>` for rows.
struct Outcome {
    status: StatusCode,
    errors: FieldErrors,
    refusal: Option<String>,
    scanned: Option<String>,
}

impl Outcome {
    fn ok() -> Outcome {
        Outcome {
            status: StatusCode::OK,
            errors: FieldErrors::default(),
            refusal: None,
            scanned: None,
        }
    }
}

fn render_page(
    req: &HttpRequest,
    c: Context,
    form: ReceiveForm,
    outcome: Outcome,
) -> Result<HttpResponse, AppError> {
    let Outcome {
        status,
        errors,
        refusal,
        scanned,
    } = outcome;
    let mut seen = HashSet::new();
    let rows: Vec<RowView> = form
        .rows
        .iter()
        .enumerate()
        .filter_map(|(n, r)| {
            let line = c.line(r.line_id)?.clone();
            let get = |f: &str| errors.get(&format!("r{n}_{f}")).map(str::to_string);
            let codes = c
                .packs
                .get(&line.item_id)
                .map(|p| {
                    p.iter()
                        .map(|(code, units)| format!("{code}={units}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            Some(RowView {
                line_location_listed: c.locations.iter().any(|l| l.id == line.location_id),
                shipped: c.shipped(r),
                n,
                first: seen.insert(line.id),
                form: r.clone(),
                codes,
                quantity_error: get("quantity"),
                damaged_error: get("damaged"),
                lot_error: get("lot"),
                expiry_error: get("expiry"),
                location_error: get("location"),
                substitute_error: get("substitute"),
                line,
            })
        })
        .collect();
    let mut problems = Vec::new();
    for e in &errors.0 {
        let (anchor, label) = if let Some((n, f)) = e
            .field
            .strip_prefix('r')
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(n, f)| Some((n.parse::<usize>().ok()?, f)))
        {
            let name = rows
                .iter()
                .find(|r| r.n == n)
                .map(|r| r.line.item_name.clone())
                .unwrap_or_default();
            (e.field.clone(), format!("{name}, {}:", field_label(f)))
        } else if e.field == "lines" {
            let anchor = rows
                .first()
                .map_or("code".to_string(), |r| format!("r{}_quantity", r.n));
            (anchor, String::new())
        } else {
            (e.field.clone(), format!("{}:", field_label(&e.field)))
        };
        problems.push(Problem {
            anchor,
            text: format!("{label} {}", e.message).trim().to_string(),
        });
    }
    let over_delivery = errors
        .0
        .iter()
        .find(|e| e.message.contains("over-delivery"))
        .map(|e| e.message.clone());
    let refusal = refusal.or_else(|| errors.get("lines").map(str::to_string));
    let mut layout = Layout::for_request(req, format!("Receive goods: {}", c.order.number));
    layout.js_urls.push(asset_url("receive.js"));
    let receivable = c.order.state.receivable();
    render_status(
        status,
        &ReceivePage {
            layout,
            receivable,
            show_confirm: over_delivery.is_some() || form.confirm_over_delivery,
            over_delivery,
            code_error: errors.get("code").map(str::to_string),
            delivery_note_error: errors.get("delivery_note").map(str::to_string),
            note_error: errors.get("note").map(str::to_string),
            refusal,
            problems,
            scanned,
            rows,
            locations: c.locations,
            order: c.order,
            form,
        },
    )
}

/// GET `/orders/{id}/receive`: the empty form.
pub async fn form(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let c = load_for(&ctx, id.into_inner()).await?;
    let form = ReceiveForm {
        rows: c.prefilled(),
        ..ReceiveForm::default()
    };
    render_page(&req, c, form, Outcome::ok())
}

/// Applies a scan to the rows: the open line whose item has the scanned
/// pack gets its lot, expiry and the pack's units. A lot that differs from
/// one already typed on that line gets a row of its own.
fn apply_scan(c: &Context, form: &mut ReceiveForm, year: i32) -> Result<String, String> {
    let code = form.code.trim().to_string();
    if code.is_empty() {
        return Err(
            "is empty: scan a barcode, or press “Receive goods” to record the delivery".into(),
        );
    }
    let scan = barcode::parse(&code, year).map_err(|e| e.to_string())?;
    let Some(pack_code) = PackCode::of(&scan) else {
        return Err("carries no product code (GTIN); fill the row by hand".into());
    };
    let wanted = pack_code.display().to_string();
    let found = c.packs.iter().find_map(|(item, codes)| {
        codes
            .iter()
            .find(|(code, _)| match &pack_code {
                PackCode::Gtin(g) => code == g.as_str(),
                PackCode::Hibcc(h) => code == h.as_str(),
            })
            .map(|(_, units)| (*item, *units))
    });
    let Some((item_id, units)) = found else {
        return Err(format!("is {wanted}, which is not an item on this order"));
    };
    let Some(line) = c
        .lines
        .iter()
        .find(|l| l.item_id == item_id && l.outstanding > 0)
        .or_else(|| c.lines.iter().find(|l| l.item_id == item_id))
    else {
        return Err(format!("is {wanted}, which is not an item on this order"));
    };
    let lot = scan.lot.clone().unwrap_or_default();
    let expiry = scan.expiry.map(|d| d.to_string()).unwrap_or_default();
    let same_line: Vec<usize> = form
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.line_id == line.id)
        .map(|(i, _)| i)
        .collect();
    // The row of the same lot, else a row without a lot yet, else a new one.
    let target = same_line
        .iter()
        .copied()
        .find(|&i| !lot.is_empty() && form.rows[i].lot.trim().eq_ignore_ascii_case(&lot))
        .or_else(|| {
            same_line
                .iter()
                .copied()
                .find(|&i| form.rows[i].lot.trim().is_empty() || lot.is_empty())
        });
    let i = match target {
        Some(i) => i,
        None => {
            let at = same_line.last().map_or(form.rows.len(), |i| i + 1);
            form.rows.insert(at, RowForm::for_line(line));
            at
        }
    };
    let row = &mut form.rows[i];
    let had: i64 = match row.quantity.trim() {
        "" => 0,
        t => t
            .parse()
            .map_err(|_| "cannot be added: the row's quantity is not a whole number".to_string())?,
    };
    row.quantity = (had + units).to_string();
    if !lot.is_empty() {
        row.lot = lot.clone();
    }
    if !expiry.is_empty() {
        row.expiry = expiry.clone();
    }
    let mut said = format!("{}: +{units} {}", line.item_name, line.unit);
    if !lot.is_empty() {
        said.push_str(&format!(", lot {lot}"));
    }
    if !expiry.is_empty() {
        said.push_str(&format!(", expiry {expiry}"));
    }
    Ok(said)
}

/// The items typed as substitutes (by code or barcode), by row; a code
/// that names no active item is an error on its row.
async fn find_substitutes(
    ctx: &Ctx,
    form: &ReceiveForm,
    errors: &mut FieldErrors,
) -> Result<HashMap<usize, i64>, AppError> {
    let typed: Vec<(usize, String)> = form
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.is_empty() && !r.substitute_item_id.trim().is_empty())
        .map(|(n, r)| (n, r.substitute_item_id.trim().to_string()))
        .collect();
    if typed.is_empty() {
        return Ok(HashMap::new());
    }
    let year = ctx.state.today().year();
    let found = ctx
        .state
        .db
        .read(move |c| {
            let mut found = Vec::new();
            for (n, code) in typed {
                let mut item = items::find_by_code(c, &code)?.map(|i| i.id);
                if item.is_none()
                    && let Ok(pack_code) = crate::domain::barcode::PackCode::parse(&code, year)
                {
                    item = items::find_by_pack_code(c, &pack_code)?.map(|p| p.item_id);
                }
                found.push((n, item));
            }
            Ok::<_, DbError>(found)
        })
        .await?;
    let mut out = HashMap::new();
    for (n, item) in found {
        match item {
            Some(id) => {
                out.insert(n, id);
            }
            None => errors.add(
                &format!("r{n}_substitute"),
                "no active item has this code or barcode",
            ),
        }
    }
    Ok(out)
}

/// Turns the typed rows into the service's input; `map[i]` is the row of
/// input line `i`.
fn to_input(
    form: &ReceiveForm,
    substitutes: &HashMap<usize, i64>,
    errors: &mut FieldErrors,
) -> (ReceiptInput, Vec<usize>) {
    let mut lines = Vec::new();
    let mut map = Vec::new();
    for (n, r) in form.rows.iter().enumerate() {
        if r.is_empty() {
            continue;
        }
        let mut number = |field: &str, text: &str| -> i64 {
            match text.trim() {
                "" => 0,
                t => match t.parse::<i64>() {
                    Ok(v) if v >= 0 => v,
                    _ => {
                        errors.add(
                            &format!("r{n}_{field}"),
                            "must be a whole number, 0 or more",
                        );
                        0
                    }
                },
            }
        };
        let quantity = number("quantity", &r.quantity);
        let damaged = number("damaged", &r.damaged);
        let opt_id = |text: &str| text.trim().parse::<i64>().ok();
        let substitute = substitutes.get(&n).copied();
        lines.push(ReceiptLineInput {
            order_line_id: r.line_id,
            quantity,
            damaged,
            lot: r.lot.trim().to_string(),
            expiry: r.expiry.trim().to_string(),
            location_id: opt_id(&r.location_id),
            substitute_item_id: substitute,
        });
        map.push(n);
    }
    let input = ReceiptInput {
        delivery_note: form.delivery_note.trim().to_string(),
        note: form.note.trim().to_string(),
        confirm_over_delivery: form.confirm_over_delivery,
        lines,
    };
    (input, map)
}

/// The service's `lines[i].field` errors as the form's `r<N>_<field>`.
fn map_errors(service: FieldErrors, map: &[usize]) -> FieldErrors {
    let mut out = FieldErrors::default();
    for e in service.0 {
        let row = e
            .field
            .strip_prefix("lines[")
            .and_then(|rest| rest.split_once("]."))
            .and_then(|(i, f)| Some((map.get(i.parse::<usize>().ok()?)?, f)));
        match row {
            Some((n, f)) => out.add(&format!("r{n}_{}", form_field(f)), e.message),
            None => out.add(&e.field, e.message),
        }
    }
    out
}

/// POST `/orders/{id}/receive`: a scan, another lot row, or the receipt.
pub async fn submit(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    body: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let c = load_for(&ctx, id).await?;
    let mut form = ReceiveForm::parse(&body.into_inner());
    form.rows = c.normalise(std::mem::take(&mut form.rows));

    if let Some(line_id) = form.add_lot {
        if let Some(line) = c.line(line_id) {
            let at = form
                .rows
                .iter()
                .rposition(|r| r.line_id == line_id)
                .map_or(form.rows.len(), |i| i + 1);
            form.rows.insert(at, RowForm::for_line(line));
        }
        return render_page(&req, c, form, Outcome::ok());
    }
    if form.action == "scan" {
        let year = ctx.state.today().year();
        let mut outcome = Outcome::ok();
        match apply_scan(&c, &mut form, year) {
            Ok(said) => {
                outcome.scanned = Some(said);
                form.code.clear();
            }
            Err(e) => {
                outcome.status = StatusCode::UNPROCESSABLE_ENTITY;
                outcome.errors.add("code", e);
            }
        }
        return render_page(&req, c, form, outcome);
    }

    let mut errors = FieldErrors::default();
    let substitutes = find_substitutes(&ctx, &form, &mut errors).await?;
    let (input, map) = to_input(&form, &substitutes, &mut errors);
    if input.lines.is_empty() && errors.is_empty() {
        errors.add(
            "lines",
            "Nothing to receive: enter a quantity for at least one line.",
        );
    }
    if !errors.is_empty() {
        let outcome = Outcome {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            ..Outcome::ok()
        };
        return render_page(&req, c, form, outcome);
    }
    let (a, env, user) = ctx.for_orders()?;
    let today = env.today;
    let result = ctx
        .state
        .db
        .write(move |tx| {
            let receipt = receiving::receive(tx, &a, Who::User(&user), &env, id, &input)?;
            let mut parts = Vec::new();
            for l in &receipt.lines {
                let unit = items::get(tx, l.item_id)?
                    .map(|i| i.unit)
                    .unwrap_or_default();
                if l.quantity > 0 {
                    let mut p = format!("{} {unit} of {}", l.quantity, l.item_name);
                    if !l.lot.is_empty() {
                        p.push_str(&format!(", lot {}", l.lot));
                    }
                    parts.push(p);
                }
                if l.damaged > 0 {
                    parts.push(format!("{} {unit} of {} damaged", l.damaged, l.item_name));
                }
            }
            let state = orders::get(tx, id, today)?
                .map(|o| o.state.label().to_lowercase())
                .unwrap_or_default();
            Ok::<_, OrdersError>(format!(
                "Received {}; order is now {state}.",
                parts.join("; ")
            ))
        })
        .await;
    match result {
        Ok(message) => Ok(redirect_with_flash(
            &format!("/orders/{id}"),
            "success",
            &message,
        )),
        Err(OrdersError::Invalid(e)) => {
            let outcome = Outcome {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                errors: map_errors(e, &map),
                ..Outcome::ok()
            };
            render_page(&req, c, form, outcome)
        }
        Err(OrdersError::Refused(m)) => {
            // The order may have changed meanwhile: show it as it is now.
            let c = load_for(&ctx, id).await?;
            let outcome = Outcome {
                status: StatusCode::CONFLICT,
                refusal: Some(crate::validation::capitalised(&m)),
                ..Outcome::ok()
            };
            render_page(&req, c, form, outcome)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_in_their_order_and_unknown_fields_ignored() {
        let pairs: Vec<(String, String)> = [
            ("r1_line", "7"),
            ("r0_line", "5"),
            ("r0_quantity", "3"),
            ("r1_lot", "B"),
            ("code", "x"),
            ("confirm_over_delivery", "1"),
            ("rx_quantity", "9"),
            ("csrf_token", "t"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let f = ReceiveForm::parse(&pairs);
        assert_eq!(f.rows.len(), 2);
        assert_eq!((f.rows[0].line_id, f.rows[0].quantity.as_str()), (5, "3"));
        assert_eq!((f.rows[1].line_id, f.rows[1].lot.as_str()), (7, "B"));
        assert!(f.confirm_over_delivery);
        assert_eq!(f.code, "x");
    }

    #[test]
    fn service_errors_land_on_the_rows_they_came_from() {
        let mut e = FieldErrors::default();
        e.add("lines[1].lot", "is required");
        e.add("lines[0].order_line_id", "is not a line");
        e.add("delivery_note", "too long");
        let out = map_errors(e, &[2, 4]);
        assert_eq!(out.get("r4_lot"), Some("is required"));
        assert_eq!(out.get("r2_quantity"), Some("is not a line"));
        assert_eq!(out.get("delivery_note"), Some("too long"));
    }
}
