//! `/api/v1/locations`: the places stock is kept and who may use them.
//! Reads list only the locations the caller may use; changes need
//! `ManageCatalog`, access lists `ManageUsers`.

use actix_web::web::{Json, Path};
use actix_web::{HttpResponse, http::StatusCode};
use serde::{Deserialize, Serialize};

use crate::catalog::locations::{self, Location};
use crate::db::DbError;
use crate::web::api::ActiveInput;
use crate::web::api::{PageQuery, Paginated};
use crate::web::context::Ctx;
use crate::web::error::AppError;

/// The locations the caller may use.
#[utoipa::path(get, path = "/api/v1/locations", tag = "catalog",
    params(PageQuery), responses((status = 200, body = Paginated<Location>)), security(("bearer" = [])))]
pub async fn list_locations(
    ctx: Ctx,
    page: actix_web::web::Query<PageQuery>,
) -> Result<Json<Paginated<Location>>, AppError> {
    let actor = ctx.actor();
    let list = ctx
        .state
        .db
        .read(move |c| {
            Ok::<_, DbError>(
                locations::usable_with_paths(c, &actor)?
                    .into_iter()
                    .map(|(l, _)| l)
                    .collect::<Vec<_>>(),
            )
        })
        .await?;
    Ok(Json(page.page_of(list)?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LocationInput {
    pub parent_id: Option<i64>,
    pub name: String,
    /// site, room, cabinet, shelf, fridge, freezer, drawer or other.
    #[serde(default = "other")]
    pub kind: String,
}

/// Creates a location, at the top or inside another.
#[utoipa::path(post, path = "/api/v1/locations", tag = "catalog", request_body = LocationInput,
    responses((status = 201, body = Location), (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LocationUpdate {
    pub name: String,
    pub kind: String,
    /// Moves the location (null: to the top).
    pub parent_id: Option<i64>,
}

/// Renames, re-kinds or moves a location the caller may use.
#[utoipa::path(put, path = "/api/v1/locations/{id}", tag = "catalog", params(("id" = i64, Path)),
    request_body = LocationUpdate, responses((status = 200, body = Location), (status = 404, body = crate::web::api::ErrorBody),
    (status = 422, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn update_location(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<LocationUpdate>,
) -> Result<Json<Location>, AppError> {
    let (id, b, a) = (id.into_inner(), body.into_inner(), ctx.audit());
    let l = ctx
        .state
        .db
        .write(move |tx| {
            let l = locations::update(tx, &a, id, &b.name, &b.kind)?;
            if l.parent_id != b.parent_id {
                return locations::set_parent(tx, &a, id, b.parent_id);
            }
            Ok(l)
        })
        .await?;
    Ok(Json(l))
}

/// Closes (no stock and no open locations inside) or reopens a location.
#[utoipa::path(post, path = "/api/v1/locations/{id}/active", tag = "catalog", params(("id" = i64, Path)),
    request_body = ActiveInput, responses((status = 200, body = Location), (status = 422, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_location_active(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<ActiveInput>,
) -> Result<Json<Location>, AppError> {
    let (id, active, a) = (id.into_inner(), body.active, ctx.audit());
    let l = ctx
        .state
        .db
        .write(move |tx| locations::set_active(tx, &a, id, active))
        .await?;
    Ok(Json(l))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AccessInput {
    /// The users who may use the location and everything inside it; empty
    /// opens it to everyone. Admins always may.
    pub user_ids: Vec<i64>,
}

/// Who may use a location.
#[utoipa::path(get, path = "/api/v1/locations/{id}/access", tag = "catalog", params(("id" = i64, Path)),
    responses((status = 200, body = AccessInput), (status = 404, body = crate::web::api::ErrorBody)), security(("bearer" = [])))]
pub async fn location_access(ctx: Ctx, id: Path<i64>) -> Result<Json<AccessInput>, AppError> {
    let (id, actor) = (id.into_inner(), ctx.actor());
    let list = ctx
        .state
        .db
        .read(move |c| locations::access_list_for(c, &actor, id).map_err(DbError::from))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(AccessInput { user_ids: list }))
}

/// Replaces who may use a location.
#[utoipa::path(put, path = "/api/v1/locations/{id}/access", tag = "catalog", params(("id" = i64, Path)),
    request_body = AccessInput, responses((status = 200, body = AccessInput), (status = 422, body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_location_access(
    ctx: Ctx,
    id: Path<i64>,
    body: Json<AccessInput>,
) -> Result<Json<AccessInput>, AppError> {
    let (id, b, a) = (id.into_inner(), body.into_inner(), ctx.audit());
    let list = ctx
        .state
        .db
        .write(move |tx| {
            locations::set_access(tx, &a, id, &b.user_ids)?;
            Ok::<_, crate::catalog::CatalogError>(locations::access_list(tx, id)?)
        })
        .await?;
    Ok(Json(AccessInput { user_ids: list }))
}

fn other() -> String {
    "other".into()
}
