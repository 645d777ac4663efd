//! Attaching a scanned barcode nobody knows yet to an existing item, so
//! the next scan finds it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::catalog::CatalogError;
use crate::catalog::item_forms;
use crate::domain::barcode::PackCode;
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render_status};

#[derive(Template)]
#[template(path = "items/attach.html")]
struct AttachPage {
    layout: Layout,
    gtin: String,
    display: String,
    form: AttachForm,
    errors: FieldErrors,
}
crate::page!(AttachPage);

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AttachForm {
    #[serde(default)]
    gtin: String,
    /// The item's code.
    #[serde(default)]
    item: String,
    #[serde(default)]
    quantity: String,
}

async fn attach_page(
    req: &HttpRequest,
    status: StatusCode,
    form: AttachForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    // Any year will do: only the code's identity is shown.
    let display = PackCode::parse(&form.gtin, 2000)
        .map(|c| c.display())
        .unwrap_or_else(|_| form.gtin.clone());
    render_status(
        status,
        &AttachPage {
            layout: Layout::for_request(req, "Attach a barcode"),
            gtin: form.gtin.clone(),
            display,
            form,
            errors,
        },
    )
}

pub async fn attach_form(
    req: HttpRequest,
    q: web::Query<super::item_form::NewQuery>,
) -> Result<HttpResponse, AppError> {
    let form = AttachForm {
        gtin: q.gtin.clone().unwrap_or_default(),
        quantity: "1".into(),
        ..Default::default()
    };
    attach_page(&req, StatusCode::OK, form, FieldErrors::default()).await
}

pub async fn attach(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<AttachForm>,
) -> Result<HttpResponse, AppError> {
    let form = f.into_inner();
    let year = ctx.state.today().year();
    let mut errors = FieldErrors::default();
    let quantity = errors.check(
        "quantity",
        form.quantity
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|q| (1..=1_000_000).contains(q))
            .ok_or("must be a whole number from 1 to 1000000"),
    );
    let a = ctx.audit();
    let (code, gtin) = (form.item.clone(), form.gtin.clone());
    let outcome = ctx
        .state
        .db
        .write(move |tx| item_forms::attach_to_code(tx, &a, &code, &gtin, year, quantity, errors))
        .await;
    match outcome {
        Ok(item) => Ok(redirect_with_flash(
            &format!("/items/{}", item.id),
            "success",
            &format!("The barcode now means {}.", item.name),
        )),
        Err(CatalogError::Invalid(e)) => {
            attach_page(&req, StatusCode::UNPROCESSABLE_ENTITY, form, e).await
        }
        Err(e) => Err(e.into()),
    }
}
