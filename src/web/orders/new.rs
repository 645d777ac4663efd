//! A new draft order: the form choosing the supplier, and creating it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::view::parse_id;
use crate::catalog::suppliers::{self, Supplier};
use crate::db::DbError;
use crate::orders::OrdersError;
use crate::orders::lifecycle::{self, NewOrder};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render_status};

// ------------------------------------------------------------ a new draft

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewForm {
    #[serde(default)]
    supplier: String,
    #[serde(default)]
    note: String,
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    supplier: String,
}

#[derive(Template)]
#[template(path = "orders/new.html")]
struct NewPage {
    layout: Layout,
    suppliers: Vec<Supplier>,
    form: NewForm,
    errors: FieldErrors,
}
crate::page!(NewPage);

async fn new_page(
    req: &HttpRequest,
    ctx: &Ctx,
    status: StatusCode,
    form: NewForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let suppliers = ctx
        .state
        .db
        .read(|c| suppliers::list(c).map_err(DbError::from))
        .await?
        .into_iter()
        .filter(|s| s.active)
        .collect();
    render_status(
        status,
        &NewPage {
            layout: Layout::for_request(req, "New order"),
            suppliers,
            form,
            errors,
        },
    )
}

pub async fn new_form(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    let form = NewForm {
        supplier: q.into_inner().supplier,
        note: String::new(),
    };
    new_page(&req, &ctx, StatusCode::OK, form, FieldErrors::default()).await
}

pub async fn create(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<NewForm>,
) -> Result<HttpResponse, AppError> {
    let form = f.into_inner();
    let mut errors = FieldErrors::default();
    let supplier_id = parse_id(
        &mut errors,
        "supplier",
        &form.supplier,
        "is not one of the choices",
    );
    if supplier_id.is_none() && errors.is_empty() {
        errors.add("supplier", "is required: choose who to order from");
    }
    if !errors.is_empty() {
        return new_page(&req, &ctx, StatusCode::UNPROCESSABLE_ENTITY, form, errors).await;
    }
    let input = NewOrder {
        supplier_id: supplier_id.unwrap_or(0),
        note: form.note.clone(),
        lines: Vec::new(),
    };
    let (a, env) = ctx.for_orders()?;
    let outcome = ctx
        .state
        .db
        .write(move |tx| lifecycle::create(tx, &a, &env, &input))
        .await;
    match outcome {
        Ok(order) => Ok(redirect_with_flash(
            &format!("/orders/{}", order.id),
            "success",
            &format!(
                "Created draft {} for {}. Add what you need below.",
                order.number, order.supplier_name
            ),
        )),
        Err(OrdersError::Invalid(e)) => {
            let e = e.renamed("supplier_id", "supplier");
            new_page(&req, &ctx, StatusCode::UNPROCESSABLE_ENTITY, form, e).await
        }
        Err(e) => Err(e.into()),
    }
}
