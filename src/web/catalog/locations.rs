//! Location pages: the tree with what each place holds, one location's
//! stock, and (for managers) creating, renaming, moving and closing
//! locations; (for admins) who may use them.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::users;
use crate::catalog::locations::{self, KINDS, Location};
use crate::catalog::{CatalogError, items, with_form_errors};
use crate::db::DbError;
use crate::domain::{Permission, Role};
use crate::stock;
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::forms::ActiveForm;
use crate::web::render::{Layout, redirect_with_flash, render_status};

/// One location in the tree, indented by depth.
struct Node {
    location: Location,
    path: String,
    depth: usize,
    units: i64,
    items: usize,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LocationForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    parent_id: String,
}

#[derive(Template)]
#[template(path = "locations/list.html")]
struct ListPage {
    layout: Layout,
    nodes: Vec<Node>,
    kinds: &'static [&'static str],
    can_manage: bool,
    form: LocationForm,
    errors: FieldErrors,
}
crate::page!(ListPage);

pub async fn list(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    list_page(
        &req,
        &ctx,
        StatusCode::OK,
        LocationForm::default(),
        FieldErrors::default(),
    )
    .await
}

async fn list_page(
    req: &HttpRequest,
    ctx: &Ctx,
    status: StatusCode,
    form: LocationForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let user = ctx.user()?.clone();
    let can_manage = user.role.may(Permission::ManageCatalog);
    let nodes = ctx
        .state
        .db
        .read(move |c| {
            let locs = locations::list_accessible_with_paths(c, user.id, user.role)?;
            let allowed = locs.iter().map(|(l, _)| l.id).collect();
            let mut totals: HashMap<i64, (i64, std::collections::HashSet<i64>)> = HashMap::new();
            for l in stock::levels(c, None, &allowed)? {
                let t = totals.entry(l.location_id).or_default();
                t.0 += l.quantity;
                t.1.insert(l.item_id);
            }
            let mut nodes: Vec<Node> = locs
                .into_iter()
                .map(|(l, path)| {
                    let (units, items) = totals
                        .get(&l.id)
                        .map(|(u, i)| (*u, i.len()))
                        .unwrap_or((0, 0));
                    Node {
                        depth: path.matches(" › ").count(),
                        location: l,
                        path,
                        units,
                        items,
                    }
                })
                .collect();
            // Tree order: by path, case-insensitively.
            nodes.sort_by_key(|n| n.path.to_lowercase());
            Ok::<_, DbError>(nodes)
        })
        .await?;
    render_status(
        status,
        &ListPage {
            layout: Layout::for_request(req, "Locations"),
            nodes,
            kinds: &KINDS,
            can_manage,
            form,
            errors,
        },
    )
}

fn parent(raw: &str, errors: &mut FieldErrors) -> Option<i64> {
    match raw.trim() {
        "" => None,
        t => errors.check(
            "parent_id",
            t.parse::<i64>().map_err(|_| "is not one of the choices"),
        ),
    }
}

pub async fn create(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<LocationForm>,
) -> Result<HttpResponse, AppError> {
    let form = f.into_inner();
    let mut errors = FieldErrors::default();
    let parent_id = parent(&form.parent_id, &mut errors);
    let (a, f2) = (ctx.audit(), form.clone());
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            with_form_errors(
                errors,
                locations::create(tx, &a, parent_id, &f2.name, &f2.kind),
            )
        })
        .await;
    match outcome {
        Ok(l) => Ok(redirect_with_flash(
            &format!("/locations/{}", l.id),
            "success",
            &format!("Created {}.", l.name),
        )),
        Err(CatalogError::Invalid(e)) => {
            list_page(&req, &ctx, StatusCode::UNPROCESSABLE_ENTITY, form, e).await
        }
        Err(e) => Err(e.into()),
    }
}

struct StockRow {
    item_id: i64,
    item: String,
    unit: String,
    lot: String,
    expiry: String,
    quantity: i64,
    quarantined: i64,
    expired: bool,
}

struct Person {
    id: i64,
    name: String,
    allowed: bool,
}

#[derive(Template)]
#[template(path = "locations/show.html")]
struct ShowPage {
    layout: Layout,
    location: Location,
    path: String,
    children: Vec<(i64, String, bool)>,
    stock: Vec<StockRow>,
    /// Other locations it may be moved under.
    parents: Vec<(i64, String)>,
    kinds: &'static [&'static str],
    people: Vec<Person>,
    restricted: bool,
    can_manage: bool,
    can_grant: bool,
    form: LocationForm,
    errors: FieldErrors,
}
crate::page!(ShowPage);

pub async fn show(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    show_page(
        &req,
        &ctx,
        id.into_inner(),
        StatusCode::OK,
        None,
        FieldErrors::default(),
    )
    .await
}

async fn show_page(
    req: &HttpRequest,
    ctx: &Ctx,
    id: i64,
    status: StatusCode,
    form: Option<LocationForm>,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let user = ctx.user()?.clone();
    let today = ctx.state.today().to_string();
    let (can_manage, can_grant) = (
        user.role.may(Permission::ManageCatalog),
        user.role.may(Permission::ManageUsers),
    );
    let layout = Layout::for_request(req, "Location");
    let page = ctx
        .state
        .db
        .read(move |c| {
            let locs = locations::list_accessible_with_paths(c, user.id, user.role)?;
            // A location the reader may not use does not exist for them.
            let Some((location, path)) = locs.iter().find(|(l, _)| l.id == id).cloned() else {
                return Ok(None);
            };
            let only: std::collections::HashSet<i64> = [id].into_iter().collect();
            let mut stock_rows = Vec::new();
            let mut item_cache: HashMap<i64, (String, String)> = HashMap::new();
            for l in stock::levels(c, None, &only)? {
                let (name, unit) = match item_cache.get(&l.item_id) {
                    Some(known) => known.clone(),
                    None => {
                        let i = items::get(c, l.item_id)?
                            .map(|i| (i.name, i.unit))
                            .unwrap_or_default();
                        item_cache.insert(l.item_id, i.clone());
                        i
                    }
                };
                stock_rows.push(StockRow {
                    item_id: l.item_id,
                    item: name,
                    unit,
                    expired: !l.expiry.is_empty() && l.expiry < today,
                    lot: l.lot,
                    expiry: l.expiry,
                    quantity: l.quantity,
                    quarantined: l.quarantined,
                });
            }
            stock_rows.sort_by_key(|r| r.item.to_lowercase());
            let children = locs
                .iter()
                .filter(|(l, _)| l.parent_id == Some(id))
                .map(|(l, p)| (l.id, p.clone(), l.active))
                .collect();
            let prefix = format!("{path} › ");
            let parents = locs
                .iter()
                .filter(|(l, p)| l.active && l.id != id && !p.starts_with(&prefix))
                .map(|(l, p)| (l.id, p.clone()))
                .collect();
            let access = locations::access_list(c, id)?;
            let people = if can_grant {
                users::list(c, 10_000, 0)?
                    .into_iter()
                    .filter(|u| u.role != Role::Admin && !u.disabled)
                    .map(|u| Person {
                        allowed: access.contains(&u.id),
                        id: u.id,
                        name: format!("{} ({})", u.display_name, u.username),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            Ok::<_, DbError>(Some(ShowPage {
                layout: Layout {
                    title: location.name.clone(),
                    ..layout
                },
                form: LocationForm {
                    name: location.name.clone(),
                    kind: location.kind.clone(),
                    parent_id: location
                        .parent_id
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                },
                location,
                path,
                children,
                stock: stock_rows,
                parents,
                kinds: &KINDS,
                restricted: !access.is_empty(),
                people,
                can_manage,
                can_grant,
                errors: FieldErrors::default(),
            }))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    render_status(
        status,
        &ShowPage {
            form: form.unwrap_or(page.form.clone()),
            errors,
            ..page
        },
    )
}

pub async fn update(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<LocationForm>,
) -> Result<HttpResponse, AppError> {
    let (id, form) = (id.into_inner(), f.into_inner());
    let mut errors = FieldErrors::default();
    let parent_id = parent(&form.parent_id, &mut errors);
    let (a, f2) = (ctx.audit(), form.clone());
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            let l = with_form_errors(errors, locations::update(tx, &a, id, &f2.name, &f2.kind))?;
            if l.parent_id != parent_id {
                return locations::set_parent(tx, &a, id, parent_id);
            }
            Ok(l)
        })
        .await;
    match outcome {
        Ok(l) => Ok(redirect_with_flash(
            &format!("/locations/{id}"),
            "success",
            &format!("Saved {}.", l.name),
        )),
        Err(CatalogError::Invalid(e)) => {
            show_page(
                &req,
                &ctx,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(form),
                e,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn set_active(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<ActiveForm>,
) -> Result<HttpResponse, AppError> {
    let (id, active, a) = (id.into_inner(), f.is_active(), ctx.audit());
    let outcome = ctx
        .state
        .db
        .write(move |tx| locations::set_active(tx, &a, id, active))
        .await;
    match outcome {
        Ok(l) => Ok(redirect_with_flash(
            &format!("/locations/{id}"),
            "success",
            &format!("{} {}.", if active { "Reopened" } else { "Closed" }, l.name),
        )),
        Err(CatalogError::Invalid(e)) => {
            show_page(&req, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, None, e).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn set_access(
    ctx: Ctx,
    id: web::Path<i64>,
    body: String,
) -> Result<HttpResponse, AppError> {
    // Repeated `user_ids` checkboxes: parse the raw form.
    let id = id.into_inner();
    let mut user_ids = Vec::new();
    for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(&body)
        .map_err(|_| FieldErrors::single("user_ids", "could not be read"))?
    {
        if k == "user_ids" {
            user_ids.push(
                v.parse::<i64>()
                    .map_err(|_| FieldErrors::single("user_ids", "is not a user"))?,
            );
        }
    }
    let a = ctx.audit();
    ctx.state
        .db
        .write(move |tx| locations::set_access(tx, &a, id, &user_ids))
        .await?;
    Ok(redirect_with_flash(
        &format!("/locations/{id}"),
        "success",
        "Saved who may use this location.",
    ))
}
