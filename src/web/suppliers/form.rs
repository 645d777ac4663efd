//! The new-supplier and edit-supplier forms, and (de)activating a
//! supplier; both forms share one page and one save path.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::catalog::suppliers::{self, Supplier, SupplierInput};
use crate::catalog::{CatalogError, with_form_errors};
use crate::db::DbError;
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::forms::ActiveForm;
use crate::web::render::{Layout, redirect_with_flash, render_status};

/// The supplier form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SupplierForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    account_number: String,
    #[serde(default)]
    lead_time_days: String,
    #[serde(default)]
    notes: String,
}

impl SupplierForm {
    fn from_supplier(s: &Supplier) -> Self {
        SupplierForm {
            name: s.name.clone(),
            contact_name: s.contact_name.clone(),
            email: s.email.clone(),
            phone: s.phone.clone(),
            account_number: s.account_number.clone(),
            lead_time_days: s.lead_time_days.to_string(),
            notes: s.notes.clone(),
        }
    }

    fn input(&self, errors: &mut FieldErrors) -> SupplierInput {
        let lead_time_days = match self.lead_time_days.trim() {
            "" => 0,
            t => errors
                .check(
                    "lead_time_days",
                    t.parse::<i64>()
                        .map_err(|_| "must be a whole number of days"),
                )
                .unwrap_or(0),
        };
        SupplierInput {
            name: self.name.clone(),
            contact_name: self.contact_name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            account_number: self.account_number.clone(),
            lead_time_days,
            notes: self.notes.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "suppliers/form.html")]
struct FormPage {
    layout: Layout,
    action: String,
    heading: String,
    form: SupplierForm,
    /// (name, label, value, input type) of the one-line fields.
    fields: Vec<(&'static str, &'static str, String, &'static str)>,
    errors: FieldErrors,
}
crate::page!(FormPage);

fn form_page(
    req: &HttpRequest,
    status: StatusCode,
    edit: Option<i64>,
    form: SupplierForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let (action, heading) = match edit {
        Some(id) => (format!("/suppliers/{id}"), format!("Edit {}", form.name)),
        None => ("/suppliers".to_string(), "New supplier".to_string()),
    };
    render_status(
        status,
        &FormPage {
            layout: Layout::for_request(req, heading.clone()),
            action,
            heading,
            fields: vec![
                ("name", "Name", form.name.clone(), "text"),
                (
                    "contact_name",
                    "Contact person",
                    form.contact_name.clone(),
                    "text",
                ),
                ("email", "Order e-mail", form.email.clone(), "email"),
                ("phone", "Phone", form.phone.clone(), "tel"),
                (
                    "account_number",
                    "Our account number",
                    form.account_number.clone(),
                    "text",
                ),
                (
                    "lead_time_days",
                    "Lead time (days)",
                    form.lead_time_days.clone(),
                    "number",
                ),
            ],
            form,
            errors,
        },
    )
}

pub async fn new_form(req: HttpRequest) -> Result<HttpResponse, AppError> {
    form_page(
        &req,
        StatusCode::OK,
        None,
        SupplierForm::default(),
        FieldErrors::default(),
    )
}

pub async fn create(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<SupplierForm>,
) -> Result<HttpResponse, AppError> {
    save(req, ctx, None, f.into_inner()).await
}

pub async fn edit_form(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let s = ctx
        .state
        .db
        .read(move |c| suppliers::get(c, id).map_err(DbError::from))
        .await?
        .ok_or(AppError::NotFound)?;
    form_page(
        &req,
        StatusCode::OK,
        Some(id),
        SupplierForm::from_supplier(&s),
        FieldErrors::default(),
    )
}

pub async fn update(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<SupplierForm>,
) -> Result<HttpResponse, AppError> {
    save(req, ctx, Some(id.into_inner()), f.into_inner()).await
}

async fn save(
    req: HttpRequest,
    ctx: Ctx,
    id: Option<i64>,
    form: SupplierForm,
) -> Result<HttpResponse, AppError> {
    let mut errors = FieldErrors::default();
    let input = form.input(&mut errors);
    let a = ctx.audit();
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            let saved = match id {
                Some(id) => suppliers::update(tx, &a, id, &input),
                None => suppliers::create(tx, &a, &input),
            };
            with_form_errors(errors, saved)
        })
        .await;
    match outcome {
        Ok(s) => Ok(redirect_with_flash(
            &format!("/suppliers/{}", s.id),
            "success",
            &format!("Saved {}.", s.name),
        )),
        Err(CatalogError::Invalid(e)) => {
            form_page(&req, StatusCode::UNPROCESSABLE_ENTITY, id, form, e)
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
    let s = ctx
        .state
        .db
        .write(move |tx| suppliers::set_active(tx, &a, id, active))
        .await?;
    let verb = if active { "Reactivated" } else { "Deactivated" };
    Ok(redirect_with_flash(
        &format!("/suppliers/{id}"),
        "success",
        &format!("{verb} {}.", s.name),
    ))
}
