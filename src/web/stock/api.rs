//! The stock JSON API: `/api/v1/movements`, `/api/v1/transfers`,
//! `/api/v1/stock-levels` (the ledger; recording needs `MoveStock` and the
//! right to use the location(s)), `/api/v1/scan/parse` (what a barcode
//! says, for scripts and for the scan box on stock forms) and
//! `/api/v1/recalls` (where recalled lots are and went, quarantining and
//! disposing of them; managers only, as a recall covers every location).
//! One file because each part is a few thin handlers over the same
//! ledger.

use crate::catalog::locations;
use crate::db::DbError;
use crate::domain::barcode::{self, Scan};
use crate::domain::ledger::MovementKind;
use crate::stock::recall::{self, Report};
use crate::stock::{self, Movement, NewMovement, StockError, StockLevel, Transfer};
use crate::validation::FieldErrors;
use crate::web::api::{PageQuery, Paginated};
use crate::web::context::Ctx;
use crate::web::error::AppError;
use actix_web::web::{Json, Query};
use actix_web::{HttpResponse, http::StatusCode};
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MovementInput {
    /// receipt, consumption, adjustment, count_correction, return or disposal
    /// (transfers have their own endpoint).
    pub kind: String,
    pub item_id: i64,
    pub location_id: i64,
    /// Signed, in stocking units: positive adds stock, negative takes it.
    pub quantity: i64,
    #[serde(default)]
    pub lot: String,
    /// YYYY-MM-DD.
    pub expiry: Option<String>,
    /// Required for adjustments; expired, damaged or recalled for disposals.
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub note: String,
    /// Consumption of a lot past its expiry date: why it is used anyway.
    /// Without it such a use is refused (422 on this field); with it, it is
    /// kept as the movement's reason and audited (`stock.use_expired`).
    #[serde(default)]
    pub expired_use_reason: String,
}

fn parse_expiry(raw: Option<&str>, errors: &mut FieldErrors) -> Option<Date> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    errors.check(
        "expiry",
        Date::parse(raw, format).map_err(|_| "must be a date in the form YYYY-MM-DD"),
    )
}

/// Records one movement and answers with it.
#[utoipa::path(post, path = "/api/v1/movements", tag = "stock", request_body = MovementInput,
    responses(
        (status = 201, body = Movement),
        (status = 409, description = "Not enough stock (`stock-would-go-negative`)", body = crate::web::api::ErrorBody),
        (status = 422, description = "Invalid input, or a location the caller may not use (`location-not-permitted`)", body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn record(ctx: Ctx, body: Json<MovementInput>) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let mut errors = FieldErrors::default();
    let kind = MovementKind::parse(&b.kind)
        .filter(|k| !matches!(k, MovementKind::TransferIn | MovementKind::TransferOut));
    if kind.is_none() {
        errors.add(
            "kind",
            "must be receipt, consumption, adjustment, count_correction, return or disposal",
        );
    }
    let expiry = parse_expiry(b.expiry.as_deref(), &mut errors);
    // An expired lot is used only on purpose, with a reason.
    let expired = match kind {
        Some(MovementKind::Consumption) => crate::stock::moves::expired_use(
            &b.lot,
            expiry,
            ctx.state.today(),
            &b.expired_use_reason,
            &mut errors,
        ),
        _ => None,
    };
    errors.into_result()?;
    let m = NewMovement {
        kind: kind.expect("checked"),
        item_id: b.item_id,
        location_id: b.location_id,
        lot: b.lot,
        expiry,
        quantity: b.quantity,
        reason: expired.clone().unwrap_or(b.reason),
        note: b.note,
    };
    let why = b.expired_use_reason;
    let a = ctx.audit();
    let state = ctx.state.clone();
    let movement = state
        .db
        .write(move |tx| {
            let id = stock::record(tx, &a, &m)?;
            if expired.is_some() {
                crate::stock::moves::record_expired_use(
                    tx,
                    &a,
                    m.item_id,
                    m.location_id,
                    &m.lot,
                    m.expiry,
                    m.quantity,
                    &why,
                )?;
            }
            Ok::<_, StockError>(stock::movement(tx, id)?)
        })
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(movement))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TransferInput {
    pub item_id: i64,
    pub from_location_id: i64,
    pub to_location_id: i64,
    /// Positive, in stocking units.
    pub quantity: i64,
    #[serde(default)]
    pub lot: String,
    pub expiry: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// Moves stock between two locations (a linked pair of movements).
#[utoipa::path(post, path = "/api/v1/transfers", tag = "stock", request_body = TransferInput,
    responses((status = 201, body = Vec<Movement>), (status = 409, body = crate::web::api::ErrorBody), (status = 422, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn transfer(ctx: Ctx, body: Json<TransferInput>) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let mut errors = FieldErrors::default();
    let expiry = parse_expiry(b.expiry.as_deref(), &mut errors);
    errors.into_result()?;
    let t = Transfer {
        item_id: b.item_id,
        from: b.from_location_id,
        to: b.to_location_id,
        lot: b.lot,
        expiry,
        quantity: b.quantity,
        note: b.note,
    };
    let a = ctx.audit();
    let state = ctx.state.clone();
    let pair = state
        .db
        .write(move |tx| {
            let (out, into) = stock::transfer(tx, &a, &t)?;
            Ok::<_, StockError>(vec![stock::movement(tx, out)?, stock::movement(tx, into)?])
        })
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(pair))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemFilter {
    item_id: Option<i64>,
}

/// Stock on hand in the locations the caller may use, first expiring first.
#[utoipa::path(get, path = "/api/v1/stock-levels", tag = "stock", params(ItemFilter, PageQuery),
    responses((status = 200, body = Paginated<StockLevel>)), security(("bearer" = [])))]
pub async fn levels(
    ctx: Ctx,
    filter: Query<ItemFilter>,
    page: Query<PageQuery>,
) -> Result<Json<Paginated<StockLevel>>, AppError> {
    let actor = ctx.actor();
    let item = filter.item_id;
    let rows = ctx
        .state
        .db
        .read(move |c| {
            let allowed = locations::usable(c, &actor)?;
            Ok::<_, DbError>(stock::levels(c, item, &allowed)?)
        })
        .await?;
    Ok(Json(page.page_of(rows)?))
}

/// The ledger, newest first, in the locations the caller may use.
#[utoipa::path(get, path = "/api/v1/movements", tag = "stock", params(ItemFilter, PageQuery),
    responses((status = 200, body = Paginated<Movement>)), security(("bearer" = [])))]
pub async fn list(
    ctx: Ctx,
    filter: Query<ItemFilter>,
    page: Query<PageQuery>,
) -> Result<Json<Paginated<Movement>>, AppError> {
    let (page, per_page, offset) = page.resolve()?;
    let actor = ctx.actor();
    let item = filter.item_id;
    let (items, total) = ctx
        .state
        .db
        .read(move |c| {
            let allowed = locations::usable(c, &actor)?;
            Ok::<_, DbError>(stock::movements(c, item, &allowed, per_page, offset)?)
        })
        .await?;
    Ok(Json(Paginated {
        items,
        page,
        per_page,
        total,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScanQuery {
    /// What the scanner typed: a GS1 element string (FNC1 as the group
    /// separator, URL-encoded as `%1D`), `(01)…` text, a plain GTIN, a GS1
    /// Digital Link URI or a HIBCC code.
    code: String,
}

/// Parses a scanned barcode into GTIN or HIBCC identity, lot, serial and dates.
#[utoipa::path(
    get,
    path = "/api/v1/scan/parse",
    tag = "scanning",
    params(ScanQuery),
    responses(
        (status = 200, description = "What the code says", body = Scan),
        (status = 422, description = "Not a code stockroom can read; `details` says why", body = crate::web::api::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn parse(ctx: Ctx, query: Query<ScanQuery>) -> Result<Json<Scan>, AppError> {
    let year = ctx.state.clock.now().datetime().year();
    barcode::parse(&query.code, year)
        .map(Json)
        .map_err(|e| FieldErrors::single("code", e).into())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecallQuery {
    /// The recalled product's GTIN (any length).
    gtin: String,
    /// Lot numbers, separated by commas.
    lots: String,
}

pub fn split_lots(raw: &str) -> Vec<String> {
    raw.split([',', ';', '\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Where the lots are now and where they were used, disposed of or returned.
#[utoipa::path(get, path = "/api/v1/recalls", tag = "stock", params(RecallQuery),
    responses((status = 200, body = Report), (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn find(ctx: Ctx, q: Query<RecallQuery>) -> Result<Json<Report>, AppError> {
    let q = q.into_inner();
    let lots = split_lots(&q.lots);
    let report = ctx
        .state
        .db
        .read(move |c| recall::find(c, &q.gtin, &lots))
        .await?;
    Ok(Json(report))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RecallInput {
    pub gtin: String,
    pub lots: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecallOutcome {
    /// Units newly quarantined, or disposed of.
    pub units: i64,
    /// Quarantine: units of the lots still usable at places the caller may
    /// not use; someone who may use them must quarantine them.
    pub left_elsewhere: i64,
}

/// Quarantines every unit of the lots at the places the caller may use
/// (`left_elsewhere` counts the rest): it can then only be
/// disposed of.
#[utoipa::path(post, path = "/api/v1/recalls/quarantine", tag = "stock", request_body = RecallInput,
    responses((status = 200, body = RecallOutcome), (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn quarantine(
    ctx: Ctx,
    body: Json<RecallInput>,
) -> Result<Json<RecallOutcome>, AppError> {
    let (b, a) = (body.into_inner(), ctx.audit());
    let units = ctx
        .state
        .db
        .write(move |tx| recall::quarantine(tx, &a, &b.gtin, &b.lots))
        .await?;
    Ok(Json(RecallOutcome {
        units: units.units,
        left_elsewhere: units.elsewhere,
    }))
}

/// Disposes of the quarantined units of the lots with reason "recalled".
#[utoipa::path(post, path = "/api/v1/recalls/dispose", tag = "stock", request_body = RecallInput,
    responses((status = 200, body = RecallOutcome), (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn dispose(ctx: Ctx, body: Json<RecallInput>) -> Result<Json<RecallOutcome>, AppError> {
    let (b, a) = (body.into_inner(), ctx.audit());
    let units = ctx
        .state
        .db
        .write(move |tx| recall::dispose(tx, &a, &b.gtin, &b.lots))
        .await?;
    Ok(Json(RecallOutcome {
        units,
        left_elsewhere: 0,
    }))
}
