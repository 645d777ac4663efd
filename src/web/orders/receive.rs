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

use crate::catalog::locations::Location;
use crate::db::DbError;
use crate::orders::{Order, OrderLine, OrdersError, forms};
use crate::validation::FieldErrors;
use crate::web::assets::asset_url;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render_status};

use super::receive_form::{ReceiveForm, RowForm, map_errors, to_input};
use super::receive_rows::{Context, apply_scan};

async fn load_for(ctx: &Ctx, id: i64) -> Result<Context, AppError> {
    let (actor, today) = (ctx.actor(), ctx.state.today());
    ctx.state
        .db
        .read(move |c| crate::dispatch::views::receiving(c, &actor, id, today))
        .await?
        .map(Context::from)
        .ok_or(AppError::NotFound)
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
    /// Lines the ship notices say shipped more of than was ordered.
    over_shipped: Vec<String>,
}
crate::page!(ReceivePage);

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
            over_shipped: c.over_shipped,
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
        .read(move |c| forms::find_substitutes(c, &typed, year).map_err(DbError::from))
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
    let (a, env) = ctx.for_orders()?;
    let result = ctx
        .state
        .db
        .write(move |tx| forms::receive(tx, &a, &env, id, &input))
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
        Err(OrdersError::Refused(r)) => {
            // The order may have changed meanwhile: show it as it is now.
            let c = load_for(&ctx, id).await?;
            let outcome = Outcome {
                status: StatusCode::CONFLICT,
                refusal: Some(crate::validation::capitalised(&r.message)),
                ..Outcome::ok()
            };
            render_page(&req, c, form, outcome)
        }
        Err(e) => Err(e.into()),
    }
}
