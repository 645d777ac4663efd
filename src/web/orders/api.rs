//! `/api/v1/orders…`: purchase orders and their lifecycle, receiving,
//! reorder suggestions and the approval queue (approval rules, returns and
//! credits are in `web::purchasing::api`).
//! Every action goes through `orders::lifecycle::act` (or `receive`), so
//! the API and the pages obey the same state machine. An action not allowed
//! now answers 409 `conflict` with the reason; bad input 422 with the field.

use actix_web::web::{Bytes, Json, Path, Query};
use actix_web::{HttpResponse, http::StatusCode};
use serde::Deserialize;

use crate::db::DbError;
use crate::domain::order::{Action, OrderState};
use crate::orders::lifecycle::{self, ActInput, HeaderChange, LineChange, LineInput, NewOrder};
use crate::orders::receiving::{self, Receipt, ReceiptInput};
use crate::orders::rules::{self};
use crate::orders::suggest::{self, SupplierGroup};
use crate::orders::{self, Filter, Order, OrderDetail};
use crate::validation::FieldErrors;
use crate::web::api::{PageQuery, Paginated};
use crate::web::context::Ctx;
use crate::web::error::AppError;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// Comma-separated states, e.g. `submitted,approved`.
    pub state: Option<String>,
    pub supplier_id: Option<i64>,
    /// Only orders whose expected delivery has passed with lines open.
    #[serde(default)]
    pub overdue: bool,
    /// Part of the order number or the supplier's reference.
    pub number: Option<String>,
}

impl OrderQuery {
    pub fn filter(&self) -> Result<Filter, FieldErrors> {
        let mut states = Vec::new();
        for raw in self.state.as_deref().unwrap_or("").split(',') {
            if raw.trim().is_empty() {
                continue;
            }
            match OrderState::parse(raw) {
                Some(s) => states.push(s),
                None => {
                    return Err(FieldErrors::single(
                        "state",
                        format!("unknown state {:?}", raw.trim()),
                    ));
                }
            }
        }
        Ok(Filter {
            states,
            supplier_id: self.supplier_id,
            overdue: self.overdue,
            number: self.number.clone().unwrap_or_default(),
        })
    }
}

/// Orders, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(OrderQuery, PageQuery),
    responses((status = 200, body = Paginated<Order>), (status = 422, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    ctx: Ctx,
    q: Query<OrderQuery>,
    page: Query<PageQuery>,
) -> Result<Json<Paginated<Order>>, AppError> {
    let (page, per_page, offset) = page.resolve()?;
    let filter = q.filter()?;
    let (today, places) = (ctx.state.today(), ctx.actor().places());
    let (items, total) = ctx
        .state
        .db
        .read(move |c| {
            orders::list(c, &filter, &places, today, per_page, offset).map_err(DbError::from)
        })
        .await?;
    Ok(Json(Paginated {
        items,
        page,
        per_page,
        total,
    }))
}

async fn detail(ctx: &Ctx, id: i64) -> Result<OrderDetail, AppError> {
    let (today, places) = (ctx.state.today(), ctx.actor().places());
    ctx.state
        .db
        .read(move |c| orders::detail_for(c, &places, id, today).map_err(DbError::from))
        .await?
        .ok_or(AppError::NotFound)
}

/// Creates a draft order for a supplier, with lines if given.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = NewOrder,
    responses((status = 201, body = OrderDetail), (status = 422, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(ctx: Ctx, body: Json<NewOrder>) -> Result<HttpResponse, AppError> {
    let (a, env) = ctx.for_orders()?;
    let input = body.into_inner();
    let order = ctx
        .state
        .db
        .write(move |tx| lifecycle::create(tx, &a, &env, &input))
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(detail(&ctx, order.id).await?))
}

/// One order with its lines, approval steps, timeline and receipts.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", params(("id" = i64, Path)),
    responses((status = 200, body = OrderDetail), (status = 404, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(ctx: Ctx, id: Path<i64>) -> Result<Json<OrderDetail>, AppError> {
    Ok(Json(detail(&ctx, id.into_inner()).await?))
}

/// Changes the note (drafts) or the expected delivery date (open orders).
#[utoipa::path(put, path = "/api/v1/orders/{id}", tag = "orders", params(("id" = i64, Path)),
    request_body = HeaderChange, responses((status = 200, body = Order),
    (status = 404, body = crate::web::api::ErrorBody), (status = 422, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<HeaderChange>,
) -> Result<Json<Order>, AppError> {
    let (a, env) = ctx.for_orders()?;
    let (id, input) = (id.into_inner(), body.into_inner());
    let order = ctx
        .state
        .db
        .write(move |tx| lifecycle::update_header(tx, &a, &env, id, &input))
        .await?;
    Ok(Json(order))
}

/// Adds a line to a draft (or adds its packs to the same line).
#[utoipa::path(post, path = "/api/v1/orders/{id}/lines", tag = "orders", params(("id" = i64, Path)),
    request_body = LineInput, responses((status = 200, body = OrderDetail),
    (status = 409, description = "The order is not a draft", body = crate::web::api::ErrorBody),
    (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn add_line(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<LineInput>,
) -> Result<Json<OrderDetail>, AppError> {
    let (a, env) = ctx.for_orders()?;
    let (id, input) = (id.into_inner(), body.into_inner());
    ctx.state
        .db
        .write(move |tx| lifecycle::add_line(tx, &a, &env, id, &input))
        .await?;
    Ok(Json(detail(&ctx, id).await?))
}

/// Changes a draft line's packs, location or note.
#[utoipa::path(put, path = "/api/v1/orders/{id}/lines/{line_id}", tag = "orders",
    params(("id" = i64, Path), ("line_id" = i64, Path)), request_body = LineChange,
    responses((status = 200, body = OrderDetail), (status = 409, body = crate::web::api::ErrorBody),
    (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn update_line(
    ctx: Ctx,
    path: Path<(i64, i64)>,
    body: Json<LineChange>,
) -> Result<Json<OrderDetail>, AppError> {
    let ((id, line_id), input) = (path.into_inner(), body.into_inner());
    let (a, env) = ctx.for_orders()?;
    ctx.state
        .db
        .write(move |tx| lifecycle::update_line(tx, &a, &env, id, line_id, &input))
        .await?;
    Ok(Json(detail(&ctx, id).await?))
}

/// Removes a line from a draft.
#[utoipa::path(delete, path = "/api/v1/orders/{id}/lines/{line_id}", tag = "orders",
    params(("id" = i64, Path), ("line_id" = i64, Path)),
    responses((status = 200, body = OrderDetail), (status = 409, body = crate::web::api::ErrorBody),
    (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn remove_line(ctx: Ctx, path: Path<(i64, i64)>) -> Result<Json<OrderDetail>, AppError> {
    let (id, line_id) = path.into_inner();
    let (a, env) = ctx.for_orders()?;
    ctx.state
        .db
        .write(move |tx| lifecycle::remove_line(tx, &a, &env, id, line_id))
        .await?;
    Ok(Json(detail(&ctx, id).await?))
}

/// The optional JSON body of an action: empty means no reason.
fn act_input(body: &Bytes) -> Result<ActInput, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ActInput::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))
}

async fn act(ctx: Ctx, id: i64, action: Action, body: Bytes) -> Result<Json<Order>, AppError> {
    let input = act_input(&body)?;
    let (a, env) = ctx.for_orders()?;
    let order = ctx
        .state
        .db
        .write(move |tx| match action {
            // A retry may go to a destination other than the one it was queued for.
            Action::Retry => crate::dispatch::retry(tx, &a, &env, id, &input),
            _ => lifecycle::act(tx, &a, &env, id, action, &input),
        })
        .await?;
    Ok(Json(order))
}

macro_rules! action_endpoint {
    ($name:ident, $path:literal, $action:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "orders", params(("id" = i64, Path)),
            request_body(content = Option<ActInput>, description = "Optional: `{\"reason\": …}`"),
            responses((status = 200, body = Order),
                (status = 409, description = "Not allowed now (`conflict`), with the reason", body = crate::web::api::ErrorBody),
                (status = 404, body = crate::web::api::ErrorBody), (status = 422, body = crate::web::api::ErrorBody)),
            security(("bearer" = [])))]
        pub async fn $name(ctx: Ctx, id: Path<i64>, body: Bytes) -> Result<Json<Order>, AppError> {
            act(ctx, id.into_inner(), $action, body).await
        }
    };
}

action_endpoint!(
    submit,
    "/api/v1/orders/{id}/submit",
    Action::Submit,
    "Submits a draft: prices are captured; it waits for the approvals the rules ask for, or is approved at once."
);
action_endpoint!(
    approve,
    "/api/v1/orders/{id}/approve",
    Action::Approve,
    "Takes the approval steps the caller's role covers. Nobody approves an order they created or submitted."
);
action_endpoint!(
    reject,
    "/api/v1/orders/{id}/reject",
    Action::Reject,
    "Rejects a submitted order with a reason (required)."
);
action_endpoint!(
    reopen,
    "/api/v1/orders/{id}/reopen",
    Action::Reopen,
    "Turns a rejected order back into a draft."
);
action_endpoint!(
    mark_sent,
    "/api/v1/orders/{id}/mark-sent",
    Action::MarkSent,
    "Records that an approved order was placed outside stockroom (phone, supplier portal)."
);
action_endpoint!(
    send,
    "/api/v1/orders/{id}/send",
    Action::Queue,
    "Sends an approved order through its supplier's channel: the order is queued and a job sends it; it becomes sent when the channel confirms."
);
action_endpoint!(
    retry_send,
    "/api/v1/orders/{id}/retry-send",
    Action::Retry,
    "Sends again an order whose sending failed (after fixing the supplier's channel)."
);
action_endpoint!(
    close,
    "/api/v1/orders/{id}/close",
    Action::Close,
    "Closes a received order, or one with lines still open (a reason is then required)."
);
action_endpoint!(
    cancel,
    "/api/v1/orders/{id}/cancel",
    Action::Cancel,
    "Cancels an order; once it may be with the supplier, only with a reason and by a manager."
);

/// Records the supplier's confirmation: their reference and promised date.
#[utoipa::path(post, path = "/api/v1/orders/{id}/acknowledge", tag = "orders",
    params(("id" = i64, Path)), request_body = ActInput,
    responses((status = 200, body = Order), (status = 409, body = crate::web::api::ErrorBody),
    (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn acknowledge(ctx: Ctx, id: Path<i64>, body: Bytes) -> Result<Json<Order>, AppError> {
    act(ctx, id.into_inner(), Action::Acknowledge, body).await
}

/// Receives goods against a sent order. Over-delivery needs
/// `confirm_over_delivery`; each line's ledger movement and the order's
/// figures are written together.
#[utoipa::path(post, path = "/api/v1/orders/{id}/receipts", tag = "orders",
    params(("id" = i64, Path)), request_body = ReceiptInput,
    responses((status = 201, body = Receipt), (status = 404, body = crate::web::api::ErrorBody),
    (status = 409, description = "The order cannot take goods now", body = crate::web::api::ErrorBody),
    (status = 422, description = "Bad lines, or an unconfirmed over-delivery (`lines[i].quantity`)", body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn receive(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<ReceiptInput>,
) -> Result<HttpResponse, AppError> {
    let (a, env) = ctx.for_orders()?;
    let (id, input) = (id.into_inner(), body.into_inner());
    let receipt = ctx
        .state
        .db
        .write(move |tx| receiving::receive(tx, &a, &env, id, &input))
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(receipt))
}

/// What to order: items at or below their reorder point in the caller's
/// locations, topped up to par in whole supplier packs, by supplier.
#[utoipa::path(get, path = "/api/v1/order-suggestions", tag = "orders",
    params(PageQuery), responses((status = 200, body = Paginated<SupplierGroup>)), security(("bearer" = [])))]
pub async fn suggestions(
    ctx: Ctx,
    page: Query<PageQuery>,
) -> Result<Json<Paginated<SupplierGroup>>, AppError> {
    let actor = ctx.actor();
    let groups = ctx
        .state
        .db
        .read(move |c| suggest::suggestions_for(c, &actor).map_err(DbError::from))
        .await?;
    Ok(Json(page.page_of(groups)?))
}

/// Turns one supplier's suggestions into a draft order.
#[utoipa::path(post, path = "/api/v1/order-suggestions/{supplier_id}/draft", tag = "orders",
    params(("supplier_id" = i64, Path)),
    responses((status = 201, body = OrderDetail),
    (status = 409, description = "Nothing to order from this supplier", body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn draft_from_suggestions(
    ctx: Ctx,
    supplier_id: Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (a, env) = ctx.for_orders()?;
    let supplier_id = supplier_id.into_inner();
    let order = ctx
        .state
        .db
        .write(move |tx| suggest::draft_for(tx, &a, &env, supplier_id))
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(detail(&ctx, order.id).await?))
}

/// Orders waiting for an approval the caller may give.
#[utoipa::path(get, path = "/api/v1/approvals", tag = "orders",
    params(PageQuery), responses((status = 200, body = Paginated<Order>)), security(("bearer" = [])))]
pub async fn approvals(
    ctx: Ctx,
    page: Query<PageQuery>,
) -> Result<Json<Paginated<Order>>, AppError> {
    let (user, today) = (ctx.user()?.clone(), ctx.state.today());
    let places = ctx.actor().places();
    let list = ctx
        .state
        .db
        .read(move |c| rules::waiting_for(c, &user, &places, today).map_err(DbError::from))
        .await?;
    Ok(Json(page.page_of(list)?))
}
