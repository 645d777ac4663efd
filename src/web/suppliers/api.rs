//! `/api/v1/suppliers` and `/api/v1/supplier-items`: who sells what, at
//! which pack size and price. Reads are open to every role; changes need
//! `ManageCatalog`.

use actix_web::web::{Json, Path};
use actix_web::{HttpResponse, http::StatusCode};
use serde::Serialize;

use crate::catalog::suppliers::{self, Supplier, SupplierInput, SupplierItem, SupplierItemInput};
use crate::db::DbError;
use crate::web::api::{PageQuery, Paginated};
use crate::web::catalog::api::ActiveInput;
use crate::web::context::Ctx;
use crate::web::error::AppError;

/// Every supplier, active first, by name.
#[utoipa::path(get, path = "/api/v1/suppliers", tag = "suppliers",
    params(PageQuery), responses((status = 200, body = Paginated<Supplier>)), security(("bearer" = [])))]
pub async fn list(
    ctx: Ctx,
    page: actix_web::web::Query<PageQuery>,
) -> Result<Json<Paginated<Supplier>>, AppError> {
    let list = ctx
        .state
        .db
        .read(|c| suppliers::list(c).map_err(DbError::from))
        .await?;
    Ok(Json(page.page_of(list)?))
}

/// Creates a supplier.
#[utoipa::path(post, path = "/api/v1/suppliers", tag = "suppliers", request_body = SupplierInput,
    responses((status = 201, body = Supplier), (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn create(ctx: Ctx, body: Json<SupplierInput>) -> Result<HttpResponse, AppError> {
    let (b, a) = (body.into_inner(), ctx.audit());
    let s = ctx
        .state
        .db
        .write(move |tx| suppliers::create(tx, &a, &b))
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(s))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SupplierDetail {
    pub supplier: Supplier,
    /// How orders reach them.
    pub dispatch: crate::dispatch::Channel,
    /// What they sell us, by item name.
    pub items: Vec<SupplierItem>,
}

/// One supplier with its catalogue lines.
#[utoipa::path(get, path = "/api/v1/suppliers/{id}", tag = "suppliers", params(("id" = i64, Path)),
    responses((status = 200, body = SupplierDetail), (status = 404, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(ctx: Ctx, id: Path<i64>) -> Result<Json<SupplierDetail>, AppError> {
    let id = id.into_inner();
    let detail = ctx
        .state
        .db
        .read(move |c| {
            let Some(supplier) = suppliers::get(c, id)? else {
                return Ok(None);
            };
            Ok::<_, DbError>(Some(SupplierDetail {
                dispatch: crate::dispatch::channel_of(c, id)?.redacted(),
                items: suppliers::for_supplier(c, id)?,
                supplier,
            }))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(detail))
}

/// Changes a supplier's details (every field is given).
#[utoipa::path(put, path = "/api/v1/suppliers/{id}", tag = "suppliers", params(("id" = i64, Path)),
    request_body = SupplierInput, responses((status = 200, body = Supplier), (status = 404, body = crate::web::api::ErrorBody),
    (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn update(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<SupplierInput>,
) -> Result<Json<Supplier>, AppError> {
    let (id, b, a) = (id.into_inner(), body.into_inner(), ctx.audit());
    let s = ctx
        .state
        .db
        .write(move |tx| suppliers::update(tx, &a, id, &b))
        .await?;
    Ok(Json(s))
}

/// Deactivates or reactivates a supplier.
#[utoipa::path(post, path = "/api/v1/suppliers/{id}/active", tag = "suppliers", params(("id" = i64, Path)),
    request_body = ActiveInput, responses((status = 200, body = Supplier), (status = 404, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_active(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<ActiveInput>,
) -> Result<Json<Supplier>, AppError> {
    let (id, active, a) = (id.into_inner(), body.active, ctx.audit());
    let s = ctx
        .state
        .db
        .write(move |tx| suppliers::set_active(tx, &a, id, active))
        .await?;
    Ok(Json(s))
}

/// Adds a supplier's catalogue line for an item, priced in the practice's
/// currency; a preferred line unmarks the item's other preferred line.
#[utoipa::path(post, path = "/api/v1/supplier-items", tag = "suppliers", request_body = SupplierItemInput,
    responses((status = 201, body = SupplierItem), (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn create_item(
    ctx: Ctx,
    body: Json<SupplierItemInput>,
) -> Result<HttpResponse, AppError> {
    let (b, a) = (body.into_inner(), ctx.audit());
    let currency = ctx.state.config.practice.currency.clone();
    let si = ctx
        .state
        .db
        .write(move |tx| suppliers::create_item(tx, &a, &b, &currency))
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(si))
}

/// Changes a catalogue line's code, pack size, price or preference (its
/// supplier and item stay as they are).
#[utoipa::path(put, path = "/api/v1/supplier-items/{id}", tag = "suppliers", params(("id" = i64, Path)),
    request_body = SupplierItemInput, responses((status = 200, body = SupplierItem),
    (status = 404, body = crate::web::api::ErrorBody), (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn update_item(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<SupplierItemInput>,
) -> Result<Json<SupplierItem>, AppError> {
    let (id, b, a) = (id.into_inner(), body.into_inner(), ctx.audit());
    let currency = ctx.state.config.practice.currency.clone();
    let si = ctx
        .state
        .db
        .write(move |tx| suppliers::update_item(tx, &a, id, &b, &currency))
        .await?;
    Ok(Json(si))
}

/// Deactivates or reactivates a catalogue line.
#[utoipa::path(post, path = "/api/v1/supplier-items/{id}/active", tag = "suppliers", params(("id" = i64, Path)),
    request_body = ActiveInput, responses((status = 200, body = SupplierItem), (status = 404, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_item_active(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<ActiveInput>,
) -> Result<Json<SupplierItem>, AppError> {
    let (id, active, a) = (id.into_inner(), body.active, ctx.audit());
    let si = ctx
        .state
        .db
        .write(move |tx| suppliers::set_item_active(tx, &a, id, active))
        .await?;
    Ok(Json(si))
}

/// Sets how orders reach a supplier: `{"channel": "manual"}`,
/// `{"channel": "csv_folder", "folder": "medsupply", "columns": [...]}`,
/// `{"channel": "email", "to": ["orders@supplier.example"], "cc": []}` or
/// `{"channel": "webhook", "url": "https://…", "secret": "…"}`. A webhook
/// secret is never returned; sent blank, the stored one is kept.
#[utoipa::path(put, path = "/api/v1/suppliers/{id}/dispatch", tag = "suppliers",
    params(("id" = i64, Path)), request_body = crate::dispatch::Channel,
    responses((status = 200, body = crate::dispatch::Channel), (status = 404, body = crate::web::api::ErrorBody),
    (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn set_dispatch(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<crate::dispatch::Channel>,
) -> Result<Json<crate::dispatch::Channel>, AppError> {
    let (id, channel, a) = (id.into_inner(), body.into_inner(), ctx.audit());
    let saved = ctx
        .state
        .db
        .write(move |tx| crate::dispatch::set_channel(tx, &a, id, &channel))
        .await?;
    Ok(Json(saved))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestQueued {
    /// The job that sends the test; its outcome is at `/api/v1/jobs/{job}`.
    pub job: i64,
}

/// Sends a test through the supplier's channel (as a job: the answer comes
/// at once, the outcome when the job has run).
#[utoipa::path(post, path = "/api/v1/suppliers/{id}/dispatch/test", tag = "suppliers",
    params(("id" = i64, Path)),
    responses((status = 202, body = TestQueued), (status = 404, body = crate::web::api::ErrorBody),
    (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn test_dispatch(ctx: Ctx, id: Path<i64>) -> Result<HttpResponse, AppError> {
    let (id, a) = (id.into_inner(), ctx.audit());
    let job = ctx
        .state
        .db
        .write(move |tx| crate::dispatch::enqueue_test(tx, &a, id))
        .await?;
    Ok(HttpResponse::Accepted().json(TestQueued { job }))
}
