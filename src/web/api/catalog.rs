//! `/api/v1/items` and `/api/v1/locations`: the catalog. Reads are open to
//! every role (stock figures only for the locations the caller may use);
//! changes need `ManageCatalog`.

use actix_web::web::{Json, Path, Query};
use actix_web::{HttpResponse, http::StatusCode};
use serde::{Deserialize, Serialize};

use super::{PageQuery, Paginated};
use crate::catalog::items::{self, Item, ItemInput, Pack};
use crate::catalog::locations::{self, Location};
use crate::db::DbError;
use crate::error::AppError;
use crate::stock::{self, StockLevel};
use crate::web::context::Ctx;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of the name, the start of the code, or a GTIN (any length).
    #[serde(default)]
    q: String,
}

/// Active items matching `q`, by name.
#[utoipa::path(get, path = "/api/v1/items", tag = "catalog", params(SearchQuery, PageQuery),
    responses((status = 200, body = Paginated<Item>)), security(("bearer" = [])))]
pub async fn list_items(
    ctx: Ctx,
    q: Query<SearchQuery>,
    page: Query<PageQuery>,
) -> Result<Json<Paginated<Item>>, AppError> {
    let (page, per_page, offset) = page.resolve()?;
    let q = q.into_inner().q;
    let (items, total) = ctx
        .state
        .db
        .read(move |c| items::search(c, &q, per_page, offset).map_err(DbError::from))
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
    responses((status = 201, body = Item), (status = 422, body = super::ErrorBody)), security(("bearer" = [])))]
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
}

/// One item with its packs and stock.
#[utoipa::path(get, path = "/api/v1/items/{id}", tag = "catalog", params(("id" = i64, Path)),
    responses((status = 200, body = ItemDetail), (status = 404, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn show_item(ctx: Ctx, id: Path<i64>) -> Result<Json<ItemDetail>, AppError> {
    let id = id.into_inner();
    let user = ctx.user()?.clone();
    let detail = ctx
        .state
        .db
        .read(move |c| {
            let Some(item) = items::get(c, id)? else {
                return Ok(None);
            };
            let allowed = locations::accessible(c, user.id, user.role)?;
            Ok::<_, DbError>(Some(ItemDetail {
                packs: items::packs(c, id)?,
                stock: stock::levels(c, Some(id), &allowed)?,
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
}

/// Adds a pack level, optionally with its GTIN.
#[utoipa::path(post, path = "/api/v1/items/{id}/packs", tag = "catalog", params(("id" = i64, Path)),
    request_body = PackInput, responses((status = 201, body = Pack), (status = 422, body = super::ErrorBody)),
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
        .write(move |tx| items::add_pack(tx, &a, id, &b.name, b.quantity, b.gtin.as_deref()))
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(pack))
}

/// The locations the caller may use.
#[utoipa::path(get, path = "/api/v1/locations", tag = "catalog",
    responses((status = 200, body = Vec<Location>)), security(("bearer" = [])))]
pub async fn list_locations(ctx: Ctx) -> Result<Json<Vec<Location>>, AppError> {
    let user = ctx.user()?.clone();
    let list = ctx
        .state
        .db
        .read(move |c| locations::list_accessible(c, user.id, user.role).map_err(DbError::from))
        .await?;
    Ok(Json(list))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LocationInput {
    pub parent_id: Option<i64>,
    pub name: String,
    /// site, room, cabinet, shelf, fridge, freezer, drawer or other.
    #[serde(default = "other")]
    pub kind: String,
}

fn other() -> String {
    "other".into()
}

/// Creates a location, at the top or inside another.
#[utoipa::path(post, path = "/api/v1/locations", tag = "catalog", request_body = LocationInput,
    responses((status = 201, body = Location), (status = 422, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn create_location(
    ctx: Ctx,
    body: Json<LocationInput>,
) -> Result<HttpResponse, AppError> {
    let (b, a) = (body.into_inner(), ctx.audit());
    let location = ctx
        .state
        .db
        .write(move |tx| locations::create(tx, &a, b.parent_id, &b.name, &b.kind))
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(location))
}
