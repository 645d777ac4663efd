//! The new-item and edit-item forms, and (de)activating an item. A new
//! item may come with a barcode from an unknown scan, checked with the
//! other fields so every problem shows at once.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::catalog::categories::{self, Category};
use crate::catalog::item_forms;
use crate::catalog::items::{self, Item, ItemInput};
use crate::catalog::{CatalogError, with_form_errors};
use crate::db::DbError;
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::forms::ActiveForm;
use crate::web::render::{Layout, redirect_with_flash, render_status};

/// The item form's fields as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ItemForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    category_id: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    lot_tracked: Option<String>,
    #[serde(default)]
    expiry_tracked: Option<String>,
    #[serde(default)]
    notes: String,
    /// New items only: a GTIN to give it (from an unknown scan).
    #[serde(default)]
    gtin: String,
    /// How many stocking units that GTIN stands for.
    #[serde(default)]
    gtin_quantity: String,
}

impl ItemForm {
    fn from_item(i: &Item) -> Self {
        ItemForm {
            code: i.code.clone(),
            name: i.name.clone(),
            category_id: i.category_id.map(|c| c.to_string()).unwrap_or_default(),
            unit: i.unit.clone(),
            lot_tracked: i.lot_tracked.then(|| "on".into()),
            expiry_tracked: i.expiry_tracked.then(|| "on".into()),
            notes: i.notes.clone(),
            ..Default::default()
        }
    }

    fn input(&self, errors: &mut FieldErrors) -> ItemInput {
        let category_id = match self.category_id.trim() {
            "" => None,
            t => errors.check(
                "category_id",
                t.parse::<i64>().map_err(|_| "is not one of the choices"),
            ),
        };
        ItemInput {
            code: self.code.clone(),
            name: self.name.clone(),
            category_id,
            unit: self.unit.clone(),
            lot_tracked: self.lot_tracked.is_some(),
            expiry_tracked: self.expiry_tracked.is_some(),
            notes: self.notes.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "items/form.html")]
struct FormPage {
    layout: Layout,
    action: String,
    heading: String,
    is_new: bool,
    form: ItemForm,
    categories: Vec<Category>,
    errors: FieldErrors,
}
crate::page!(FormPage);

async fn form_page(
    req: &HttpRequest,
    ctx: &Ctx,
    status: StatusCode,
    edit: Option<i64>,
    form: ItemForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let categories = ctx
        .state
        .db
        .read(|c| categories::list(c).map_err(DbError::from))
        .await?
        .into_iter()
        .filter(|c| c.active || Some(c.id.to_string()) == Some(form.category_id.clone()))
        .collect();
    let (action, heading) = match edit {
        Some(id) => (format!("/items/{id}"), format!("Edit {}", form.name)),
        None => ("/items".to_string(), "New item".to_string()),
    };
    render_status(
        status,
        &FormPage {
            layout: Layout::for_request(req, heading.clone()),
            action,
            heading,
            is_new: edit.is_none(),
            form,
            categories,
            errors,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    pub(crate) gtin: Option<String>,
}

pub async fn new_form(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    let form = ItemForm {
        gtin: q.gtin.clone().unwrap_or_default(),
        gtin_quantity: "1".into(),
        unit: "each".into(),
        ..Default::default()
    };
    form_page(
        &req,
        &ctx,
        StatusCode::OK,
        None,
        form,
        FieldErrors::default(),
    )
    .await
}

pub async fn create(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<ItemForm>,
) -> Result<HttpResponse, AppError> {
    let form = f.into_inner();
    let mut errors = FieldErrors::default();
    let input = form.input(&mut errors);
    let gtin = form.gtin.trim().to_string();
    let year = ctx.state.today().year();
    let quantity = if gtin.is_empty() {
        1
    } else {
        errors
            .check(
                "gtin_quantity",
                form.gtin_quantity
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|q| (1..=1_000_000).contains(q))
                    .ok_or("must be a whole number from 1 to 1000000"),
            )
            .unwrap_or(1)
    };
    let a = ctx.audit();
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            item_forms::create_with_code(tx, &a, &input, &gtin, year, quantity, errors)
        })
        .await;
    match outcome {
        Ok(item) => Ok(redirect_with_flash(
            &format!("/items/{}", item.id),
            "success",
            &format!("Created {}.", item.name),
        )),
        Err(CatalogError::Invalid(errors)) => {
            form_page(
                &req,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                form,
                errors,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn edit_form(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let item = ctx
        .state
        .db
        .read(move |c| items::get(c, id).map_err(DbError::from))
        .await?
        .ok_or(AppError::NotFound)?;
    let form = ItemForm::from_item(&item);
    form_page(
        &req,
        &ctx,
        StatusCode::OK,
        Some(id),
        form,
        FieldErrors::default(),
    )
    .await
}

pub async fn update(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<ItemForm>,
) -> Result<HttpResponse, AppError> {
    let (id, form) = (id.into_inner(), f.into_inner());
    let mut errors = FieldErrors::default();
    let input = form.input(&mut errors);
    let a = ctx.audit();
    let outcome = ctx
        .state
        .db
        .write(move |tx| with_form_errors(errors, items::update(tx, &a, id, &input)))
        .await;
    match outcome {
        Ok(item) => Ok(redirect_with_flash(
            &format!("/items/{id}"),
            "success",
            &format!("Saved {}.", item.name),
        )),
        Err(CatalogError::Invalid(errors)) => {
            form_page(
                &req,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(id),
                form,
                errors,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn set_active(
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<ActiveForm>,
) -> Result<HttpResponse, AppError> {
    let (id, active, a) = (id.into_inner(), f.is_active(), ctx.audit());
    let item = ctx
        .state
        .db
        .write(move |tx| items::set_active(tx, &a, id, active))
        .await?;
    let verb = if active { "Reactivated" } else { "Deactivated" };
    Ok(redirect_with_flash(
        &format!("/items/{id}"),
        "success",
        &format!("{verb} {}.", item.name),
    ))
}
