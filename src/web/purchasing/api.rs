//! `/api/v1/approval-rules`, `/api/v1/returns` and `/api/v1/credits`: the
//! approval rules, returns to suppliers and the credits suppliers owe.
//! Listed under the `orders` tag of the API document, as they always were.

use actix_web::web::{Json, Path, Query};
use actix_web::{HttpResponse, http::StatusCode};
use serde::Deserialize;

use crate::db::DbError;

use crate::orders::returns::{
    self, Credit, CreditInput, CreditReceived, ReturnInput, SupplierReturn,
};
use crate::orders::rules::{self, ApprovalRule, RuleInput};
use crate::web::api::{PageQuery, Paginated};
use crate::web::context::Ctx;
use crate::web::error::AppError;

/// The approval rules.
#[utoipa::path(get, path = "/api/v1/approval-rules", tag = "orders",
    params(PageQuery), responses((status = 200, body = Paginated<ApprovalRule>)), security(("bearer" = [])))]
pub async fn list_rules(
    ctx: Ctx,
    page: Query<PageQuery>,
) -> Result<Json<Paginated<ApprovalRule>>, AppError> {
    let currency = ctx.state.config.practice.currency.clone();
    let list = ctx
        .state
        .db
        .read(move |c| rules::list(c, &currency).map_err(DbError::from))
        .await?;
    Ok(Json(page.page_of(list)?))
}

/// Adds an approval rule (administrators).
#[utoipa::path(post, path = "/api/v1/approval-rules", tag = "orders", request_body = RuleInput,
    responses((status = 201, body = ApprovalRule), (status = 422, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_rule(ctx: Ctx, body: Json<RuleInput>) -> Result<HttpResponse, AppError> {
    let (a, currency, input) = (
        ctx.audit(),
        ctx.state.config.practice.currency.clone(),
        body.into_inner(),
    );
    let rule = ctx
        .state
        .db
        .write(move |tx| rules::create(tx, &a, &currency, &input))
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(rule))
}

/// Switches an approval rule off or on.
#[utoipa::path(post, path = "/api/v1/approval-rules/{id}/active", tag = "orders",
    params(("id" = i64, Path)), request_body = crate::web::catalog::api::ActiveInput,
    responses((status = 200, body = ApprovalRule), (status = 422, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_rule_active(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<crate::web::catalog::api::ActiveInput>,
) -> Result<Json<ApprovalRule>, AppError> {
    let (a, currency, id, active) = (
        ctx.audit(),
        ctx.state.config.practice.currency.clone(),
        id.into_inner(),
        body.active,
    );
    let rule = ctx
        .state
        .db
        .write(move |tx| rules::set_active(tx, &a, &currency, id, active))
        .await?;
    Ok(Json(rule))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SupplierQuery {
    pub supplier_id: Option<i64>,
    /// Credits: only those not yet received.
    #[serde(default)]
    pub open: bool,
}

/// Returns to suppliers, newest first.
#[utoipa::path(get, path = "/api/v1/returns", tag = "orders", params(SupplierQuery, PageQuery),
    responses((status = 200, body = Paginated<SupplierReturn>)), security(("bearer" = [])))]
pub async fn list_returns(
    ctx: Ctx,
    q: Query<SupplierQuery>,
    page: Query<PageQuery>,
) -> Result<Json<Paginated<SupplierReturn>>, AppError> {
    let (supplier, places) = (q.supplier_id, ctx.actor().places());
    let list = ctx
        .state
        .db
        .read(move |c| returns::returns(c, &places, supplier).map_err(DbError::from))
        .await?;
    Ok(Json(page.page_of(list)?))
}

/// One return.
#[utoipa::path(get, path = "/api/v1/returns/{id}", tag = "orders", params(("id" = i64, Path)),
    responses((status = 200, body = SupplierReturn), (status = 404, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn show_return(ctx: Ctx, id: Path<i64>) -> Result<Json<SupplierReturn>, AppError> {
    let (id, places) = (id.into_inner(), ctx.actor().places());
    let ret = ctx
        .state
        .db
        .read(move |c| returns::get_return(c, &places, id).map_err(DbError::from))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(ret))
}

/// Returns stock to a supplier (return movements) and, if given, records
/// the credit expected for it.
#[utoipa::path(post, path = "/api/v1/returns", tag = "orders", request_body = ReturnInput,
    responses((status = 201, body = SupplierReturn),
    (status = 409, description = "Not enough stock (`stock-would-go-negative`)", body = crate::web::api::ErrorBody),
    (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn create_return(ctx: Ctx, body: Json<ReturnInput>) -> Result<HttpResponse, AppError> {
    let (a, env) = ctx.for_orders()?;
    let input = body.into_inner();
    let ret = ctx
        .state
        .db
        .write(move |tx| returns::create_return(tx, &a, &env, &input))
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(ret))
}

/// Credits suppliers owe, open ones first.
#[utoipa::path(get, path = "/api/v1/credits", tag = "orders", params(SupplierQuery, PageQuery),
    responses((status = 200, body = Paginated<Credit>)), security(("bearer" = [])))]
pub async fn list_credits(
    ctx: Ctx,
    q: Query<SupplierQuery>,
    page: Query<PageQuery>,
) -> Result<Json<Paginated<Credit>>, AppError> {
    let (supplier, open) = (q.supplier_id, q.open);
    let list = ctx
        .state
        .db
        .read(move |c| returns::credits(c, supplier, open).map_err(DbError::from))
        .await?;
    Ok(Json(page.page_of(list)?))
}

/// Records a credit owed without a return (damaged goods, a price error).
#[utoipa::path(post, path = "/api/v1/credits", tag = "orders", request_body = CreditInput,
    responses((status = 201, body = Credit), (status = 422, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_credit(ctx: Ctx, body: Json<CreditInput>) -> Result<HttpResponse, AppError> {
    ctx.user()?;
    let (a, input) = (ctx.audit(), body.into_inner());
    let credit = ctx
        .state
        .db
        .write(move |tx| returns::create_credit(tx, &a, &input))
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(credit))
}

/// Marks a credit as received with the supplier's credit note.
#[utoipa::path(post, path = "/api/v1/credits/{id}/received", tag = "orders",
    params(("id" = i64, Path)), request_body = CreditReceived,
    responses((status = 200, body = Credit), (status = 409, body = crate::web::api::ErrorBody),
    (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn receive_credit(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<CreditReceived>,
) -> Result<Json<Credit>, AppError> {
    let (a, env, id, input) = (
        ctx.audit(),
        ctx.state.order_env(),
        id.into_inner(),
        body.into_inner(),
    );
    let credit = ctx
        .state
        .db
        .write(move |tx| returns::receive_credit(tx, &a, &env, id, &input))
        .await?;
    Ok(Json(credit))
}
