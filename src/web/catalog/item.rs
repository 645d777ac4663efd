//! The item page: its stock per location, reorder points, suppliers and
//! recent movements, with the two small forms it carries (add a pack, set
//! a reorder point). A refused form re-renders the whole page with the
//! typed values, so both forms share one page builder here.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::catalog::CatalogError;
use crate::catalog::item_forms;
use crate::catalog::items::{Item, Pack};
use crate::catalog::suppliers::SupplierItem;
use crate::domain::Permission;
use crate::stock::views::{self, MovementRow, StockRow, TargetRow};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render_status};

#[derive(Template)]
#[template(path = "items/show.html")]
struct ShowPage {
    layout: Layout,
    item: Item,
    category: Option<String>,
    packs: Vec<Pack>,
    stock: Vec<StockRow>,
    on_hand: i64,
    targets: Vec<TargetRow>,
    suppliers: Vec<SupplierItem>,
    movements: Vec<MovementRow>,
    locations: Vec<(i64, String)>,
    can_manage: bool,
    can_move: bool,
    errors: FieldErrors,
    /// What was typed into a refused pack or reorder-point form, by field id.
    typed: HashMap<&'static str, String>,
}
crate::page!(ShowPage);

impl ShowPage {
    fn typed(&self, field: &str) -> &str {
        self.typed.get(field).map_or("", String::as_str)
    }
}

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
        FieldErrors::default(),
        HashMap::new(),
    )
    .await
}

async fn show_page(
    req: &HttpRequest,
    ctx: &Ctx,
    id: i64,
    status: StatusCode,
    errors: FieldErrors,
    typed: HashMap<&'static str, String>,
) -> Result<HttpResponse, AppError> {
    let role = ctx.user()?.role;
    let (actor, today) = (ctx.actor(), ctx.state.today().to_string());
    let view = ctx
        .state
        .db
        .read(move |c| views::item(c, &actor, id, &today))
        .await?
        .ok_or(AppError::NotFound)?;
    let mut layout = Layout::for_request(req, "Item");
    layout.title = view.item.name.clone();
    let page = ShowPage {
        layout,
        can_manage: role.may(Permission::ManageCatalog),
        can_move: role.may(Permission::MoveStock) && view.item.active,
        category: view.category,
        packs: view.packs,
        stock: view.stock,
        on_hand: view.on_hand,
        targets: view.targets,
        suppliers: view.suppliers,
        movements: view.movements,
        locations: view.locations,
        errors: FieldErrors::default(),
        typed: HashMap::new(),
        item: view.item,
    };
    render_status(
        status,
        &ShowPage {
            errors,
            typed,
            ..page
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct PackForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    gtin: String,
}

pub async fn add_pack(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<PackForm>,
) -> Result<HttpResponse, AppError> {
    let (id, f, a) = (id.into_inner(), f.into_inner(), ctx.audit());
    let quantity = f.quantity.trim().parse::<i64>().unwrap_or(0);
    let typed = HashMap::from([
        ("pack_name", f.name.clone()),
        ("pack_quantity", f.quantity.clone()),
        ("pack_gtin", f.gtin.clone()),
    ]);
    let outcome = ctx
        .state
        .db
        .write(move |tx| item_forms::add_pack_scanned(tx, &a, id, &f.name, quantity, &f.gtin))
        .await;
    match outcome {
        Ok(p) => Ok(redirect_with_flash(
            &format!("/items/{id}"),
            "success",
            &format!("Added the pack {} ({} units).", p.name, p.quantity),
        )),
        Err(CatalogError::Invalid(e)) => {
            show_page(
                &req,
                &ctx,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                prefix(e, "pack_"),
                typed,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Field names of a form that shares the item page with others.
fn prefix(e: FieldErrors, p: &str) -> FieldErrors {
    FieldErrors(
        e.0.into_iter()
            .map(|mut f| {
                f.field = format!("{p}{}", f.field);
                f
            })
            .collect(),
    )
}

#[derive(Debug, Deserialize)]
pub struct TargetForm {
    #[serde(default)]
    location_id: String,
    #[serde(default)]
    reorder_point: String,
    #[serde(default)]
    par_level: String,
}

pub async fn set_target(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<TargetForm>,
) -> Result<HttpResponse, AppError> {
    let (id, f, a) = (id.into_inner(), f.into_inner(), ctx.audit());
    let typed = HashMap::from([
        ("target_location_id", f.location_id.clone()),
        ("target_reorder_point", f.reorder_point.clone()),
        ("target_par_level", f.par_level.clone()),
    ]);
    let mut errors = FieldErrors::default();
    let number = |errors: &mut FieldErrors, field: &str, raw: &str| {
        errors.check(
            field,
            raw.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=1_000_000).contains(n))
                .ok_or("must be a whole number from 0 to 1000000"),
        )
    };
    let location = errors.check(
        "location_id",
        f.location_id
            .trim()
            .parse::<i64>()
            .map_err(|_| "choose a location"),
    );
    let reorder = number(&mut errors, "reorder_point", &f.reorder_point);
    let par = number(&mut errors, "par_level", &f.par_level);
    let outcome = ctx
        .state
        .db
        .write(move |tx| item_forms::set_target_for(tx, &a, id, location, reorder, par, errors))
        .await;
    match outcome {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/items/{id}"),
            "success",
            "Saved the reorder point.",
        )),
        Err(CatalogError::Invalid(e)) => {
            show_page(
                &req,
                &ctx,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                prefix(e, "target_"),
                typed,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
