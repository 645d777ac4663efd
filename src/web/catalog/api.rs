//! `/api/v1/items` and `/api/v1/categories`: the catalog. Reads are open to
//! every role (stock figures only for the locations the caller may use);
//! changes need `ManageCatalog`.

use actix_web::web::{Json, Path, Query};
use actix_web::{HttpResponse, http::StatusCode};
use serde::{Deserialize, Serialize};

use crate::catalog::categories::{self, Category};
use crate::catalog::items::{self, Item, ItemInput, Pack, StockTarget};
use crate::catalog::locations;
use crate::catalog::suppliers::{self, SupplierItem};
use crate::db::DbError;
use crate::stock::overview::{self, Filter, ItemSummary, Sort};
use crate::stock::{self, StockLevel};
use crate::validation::FieldErrors;
use crate::web::api::{PageQuery, Paginated};
use crate::web::context::Ctx;
use crate::web::error::AppError;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// Part of the name or code (3+ characters), a whole code, a GTIN (any
    /// length) or a supplier's code.
    #[serde(default)]
    q: String,
    category_id: Option<i64>,
    /// Items with stock or a reorder point in this location or inside it.
    location_id: Option<i64>,
    /// Only items at or below their reorder point in some location.
    #[serde(default)]
    low: bool,
    /// Only items with stock expiring within this many days (0: today or
    /// already expired).
    expiring_within_days: Option<u32>,
    /// Include deactivated items.
    #[serde(default)]
    include_inactive: bool,
    /// name (default), code, on_hand or expiry.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    sort: Sort,
}

impl ItemQuery {
    fn filter(self, today: time::Date) -> Result<Filter, AppError> {
        let expiring_by = match self.expiring_within_days {
            Some(d) if d > 3650 => {
                return Err(
                    FieldErrors::single("expiring_within_days", "must be from 0 to 3650").into(),
                );
            }
            Some(d) => Some(today + time::Duration::days(d.into())),
            None => None,
        };
        Ok(Filter {
            q: self.q,
            category_id: self.category_id,
            location_id: self.location_id,
            low: self.low,
            expiring_by,
            include_inactive: self.include_inactive,
            sort: self.sort,
        })
    }
}

/// Items matching the query, each with what is on hand in the locations the
/// caller may use.
#[utoipa::path(get, path = "/api/v1/items", tag = "catalog", params(ItemQuery, PageQuery),
    responses((status = 200, body = Paginated<ItemSummary>), (status = 422, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_items(
    ctx: Ctx,
    q: Query<ItemQuery>,
    page: Query<PageQuery>,
) -> Result<Json<Paginated<ItemSummary>>, AppError> {
    let (page, per_page, offset) = page.resolve()?;
    let filter = q.into_inner().filter(ctx.state.today())?;
    let actor = ctx.actor();
    let search = ctx.state.search.clone();
    let (items, total) = ctx
        .state
        .db
        .read(move |c| {
            let allowed = locations::usable(c, &actor)?;
            overview::list(c, &search, &filter, &allowed, per_page, offset).map_err(DbError::from)
        })
        .await?;
    Ok(Json(Paginated {
        items,
        page,
        per_page,
        total,
    }))
}

/// Creates an item; its stocking unit becomes its smallest pack.
#[utoipa::path(post, path = "/api/v1/items", tag = "catalog", request_body = ItemInput,
    responses((status = 201, body = Item), (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn create_item(ctx: Ctx, body: Json<ItemInput>) -> Result<HttpResponse, AppError> {
    let a = ctx.audit();
    let input = body.into_inner();
    let item = ctx
        .state
        .db
        .write(move |tx| items::create(tx, &a, &input))
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(item))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemDetail {
    pub item: Item,
    pub packs: Vec<Pack>,
    /// Stock in the locations the caller may use, first expiring first.
    pub stock: Vec<StockLevel>,
    /// Reorder points and par levels, per location (the caller's).
    pub targets: Vec<StockTarget>,
    /// Where it can be bought, preferred first.
    pub suppliers: Vec<SupplierItem>,
}

/// One item with its packs and stock.
#[utoipa::path(get, path = "/api/v1/items/{id}", tag = "catalog", params(("id" = i64, Path)),
    responses((status = 200, body = ItemDetail), (status = 404, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn show_item(ctx: Ctx, id: Path<i64>) -> Result<Json<ItemDetail>, AppError> {
    let id = id.into_inner();
    let actor = ctx.actor();
    let detail = ctx
        .state
        .db
        .read(move |c| {
            let Some(item) = items::get(c, id)? else {
                return Ok(None);
            };
            let allowed = locations::usable(c, &actor)?;
            Ok::<_, DbError>(Some(ItemDetail {
                packs: items::packs(c, id)?,
                stock: stock::levels(c, Some(id), &allowed)?,
                targets: items::targets(c, id)?
                    .into_iter()
                    .filter(|t| allowed.contains(&t.location_id))
                    .collect(),
                suppliers: suppliers::for_item(c, id)?,
                item,
            }))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(detail))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PackInput {
    /// e.g. "box".
    pub name: String,
    /// Stocking units in one pack.
    pub quantity: i64,
    /// The GTIN printed on the pack (8, 12, 13 or 14 digits).
    pub gtin: Option<String>,
    /// The HIBCC primary label printed on the pack, as scanned: `+`,
    /// labeler code, product number, unit of measure, check character.
    pub hibcc: Option<String>,
}

/// Adds a pack level, optionally with its GTIN and HIBCC code.
#[utoipa::path(post, path = "/api/v1/items/{id}/packs", tag = "catalog", params(("id" = i64, Path)),
    request_body = PackInput, responses((status = 201, body = Pack), (status = 422, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_pack(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<PackInput>,
) -> Result<HttpResponse, AppError> {
    let (id, b, a) = (id.into_inner(), body.into_inner(), ctx.audit());
    let pack = ctx
        .state
        .db
        .write(move |tx| {
            let codes = items::PackCodes {
                gtin: b.gtin.as_deref(),
                hibcc: b.hibcc.as_deref(),
            };
            items::add_pack(tx, &a, id, &b.name, b.quantity, codes)
        })
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(pack))
}

/// Changes an item's details (every field is given).
#[utoipa::path(put, path = "/api/v1/items/{id}", tag = "catalog", params(("id" = i64, Path)),
    request_body = ItemInput, responses((status = 200, body = Item), (status = 404, body = crate::web::api::ErrorBody),
    (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn update_item(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<ItemInput>,
) -> Result<Json<Item>, AppError> {
    let (id, input, a) = (id.into_inner(), body.into_inner(), ctx.audit());
    let item = ctx
        .state
        .db
        .write(move |tx| items::update(tx, &a, id, &input))
        .await?;
    Ok(Json(item))
}

/// Kept importable here: other areas name it by this path.
pub use crate::web::api::ActiveInput;

/// Deactivates or reactivates an item.
#[utoipa::path(post, path = "/api/v1/items/{id}/active", tag = "catalog", params(("id" = i64, Path)),
    request_body = ActiveInput, responses((status = 200, body = Item), (status = 404, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_item_active(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<ActiveInput>,
) -> Result<Json<Item>, AppError> {
    let (id, active, a) = (id.into_inner(), body.active, ctx.audit());
    let item = ctx
        .state
        .db
        .write(move |tx| items::set_active(tx, &a, id, active))
        .await?;
    Ok(Json(item))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TargetInput {
    /// At or below this the item needs ordering for the location.
    pub reorder_point: i64,
    /// What to fill up to; not below the reorder point. Both 0 clears.
    pub par_level: i64,
}

/// Sets an item's reorder point and par level in one location.
#[utoipa::path(put, path = "/api/v1/items/{id}/targets/{location_id}", tag = "catalog",
    params(("id" = i64, Path), ("location_id" = i64, Path)), request_body = TargetInput,
    responses((status = 200, body = StockTarget), (status = 422, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_target(
    ctx: Ctx,
    path: Path<(i64, i64)>,
    body: Json<TargetInput>,
) -> Result<Json<StockTarget>, AppError> {
    let ((id, location), b, a) = (path.into_inner(), body.into_inner(), ctx.audit());
    let target = ctx
        .state
        .db
        .write(move |tx| items::set_target(tx, &a, id, location, b.reorder_point, b.par_level))
        .await?;
    Ok(Json(target))
}

/// Every category, active first.
#[utoipa::path(get, path = "/api/v1/categories", tag = "catalog",
    params(PageQuery), responses((status = 200, body = Paginated<Category>)), security(("bearer" = [])))]
pub async fn list_categories(
    ctx: Ctx,
    page: Query<PageQuery>,
) -> Result<Json<Paginated<Category>>, AppError> {
    let list = ctx
        .state
        .db
        .read(|c| categories::list(c).map_err(DbError::from))
        .await?;
    Ok(Json(page.page_of(list)?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CategoryInput {
    pub name: String,
    /// Defaults to true.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Creates a category.
#[utoipa::path(post, path = "/api/v1/categories", tag = "catalog", request_body = CategoryInput,
    responses((status = 201, body = Category), (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn create_category(
    ctx: Ctx,
    body: Json<CategoryInput>,
) -> Result<HttpResponse, AppError> {
    let (b, a) = (body.into_inner(), ctx.audit());
    let c = ctx
        .state
        .db
        .write(move |tx| categories::create(tx, &a, &b.name))
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(c))
}

/// Renames or (de)activates a category.
#[utoipa::path(put, path = "/api/v1/categories/{id}", tag = "catalog", params(("id" = i64, Path)),
    request_body = CategoryInput, responses((status = 200, body = Category), (status = 422, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_category(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<CategoryInput>,
) -> Result<Json<Category>, AppError> {
    let (id, b, a) = (id.into_inner(), body.into_inner(), ctx.audit());
    let c = ctx
        .state
        .db
        .write(move |tx| categories::update(tx, &a, id, &b.name, b.active))
        .await?;
    Ok(Json(c))
}
