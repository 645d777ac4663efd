//! Location pages: the tree with what each place holds, one location's
//! stock, and (for managers) creating, renaming, moving and closing
//! locations; (for admins) who may use them.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::catalog::locations::{self, KINDS, Location};
use crate::catalog::{CatalogError, with_form_errors};
use crate::domain::Permission;
use crate::stock::views::{self, Grantee, LocationNode, LocationStock};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::forms::ActiveForm;
use crate::web::render::{Layout, redirect_with_flash, render_status};

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
    nodes: Vec<LocationNode>,
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
    let can_manage = ctx.user()?.role.may(Permission::ManageCatalog);
    let actor = ctx.actor();
    let nodes = ctx
        .state
        .db
        .read(move |c| views::location_tree(c, &actor))
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

#[derive(Template)]
#[template(path = "locations/show.html")]
struct ShowPage {
    layout: Layout,
    location: Location,
    path: String,
    children: Vec<(i64, String, bool)>,
    stock: Vec<LocationStock>,
    /// Other locations it may be moved under.
    parents: Vec<(i64, String)>,
    kinds: &'static [&'static str],
    people: Vec<Grantee>,
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
    let role = ctx.user()?.role;
    let (can_manage, can_grant) = (
        role.may(Permission::ManageCatalog),
        role.may(Permission::ManageUsers),
    );
    let (actor, today) = (ctx.actor(), ctx.state.today().to_string());
    let view = ctx
        .state
        .db
        .read(move |c| views::location(c, &actor, id, &today, can_grant))
        .await?
        .ok_or(AppError::NotFound)?;
    let mut layout = Layout::for_request(req, "Location");
    layout.title = view.location.name.clone();
    let l = &view.location;
    let typed = LocationForm {
        name: l.name.clone(),
        kind: l.kind.clone(),
        parent_id: l.parent_id.map(|p| p.to_string()).unwrap_or_default(),
    };
    render_status(
        status,
        &ShowPage {
            layout,
            form: form.unwrap_or(typed),
            location: view.location,
            path: view.path,
            children: view.children,
            stock: view.stock,
            parents: view.parents,
            kinds: &KINDS,
            restricted: view.restricted,
            people: view.people,
            can_manage,
            can_grant,
            errors,
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
