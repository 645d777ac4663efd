//! Editing a draft on the order page: adding, changing and removing lines,
//! and the order's note or expected delivery date. A refused change shows
//! the order page again with the problem beside the field.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::refusal::{Typed, refused};
use super::view::parse_id;
use crate::orders::OrdersError;
use crate::orders::forms;
use crate::orders::lifecycle::{self, LineInput};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::redirect_with_flash;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AddLineForm {
    #[serde(default)]
    supplier_item_id: String,
    #[serde(default)]
    location_id: String,
    #[serde(default)]
    packs: String,
}

fn add_line_place(field: &str) -> (String, String) {
    let (anchor, label) = match field {
        "location_id" => ("line_location", "For location"),
        "packs" => ("line_packs", "Packs"),
        _ => ("line_product", "Product"),
    };
    (anchor.to_string(), label.to_string())
}

fn parse_packs(errors: &mut FieldErrors, raw: &str) -> i64 {
    errors
        .check(
            "packs",
            raw.trim()
                .parse::<i64>()
                .map_err(|_| "must be a whole number of packs"),
        )
        .unwrap_or(0)
}

pub async fn add_line(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<AddLineForm>,
) -> Result<HttpResponse, AppError> {
    let (id, form) = (id.into_inner(), f.into_inner());
    let mut errors = FieldErrors::default();
    let supplier_item_id = parse_id(
        &mut errors,
        "supplier_item_id",
        &form.supplier_item_id,
        "is not one of the choices",
    );
    if supplier_item_id.is_none() && errors.get("supplier_item_id").is_none() {
        errors.add("supplier_item_id", "is required: choose what to order");
    }
    let location_id = parse_id(
        &mut errors,
        "location_id",
        &form.location_id,
        "is not one of the choices",
    );
    if location_id.is_none() && errors.get("location_id").is_none() {
        errors.add("location_id", "is required: choose where the goods go");
    }
    let packs = parse_packs(&mut errors, &form.packs);
    let input = LineInput {
        supplier_item_id,
        item_id: None,
        location_id: location_id.unwrap_or(0),
        packs,
        note: String::new(),
    };
    let (a, env) = ctx.for_orders()?;
    let outcome = ctx
        .state
        .db
        .write(move |tx| forms::add_line(tx, &a, &env, id, &input, errors))
        .await;
    let typed = Typed {
        form: "add".into(),
        line_product: form.supplier_item_id.clone(),
        line_location: form.location_id.clone(),
        packs: form.packs.clone(),
        ..Typed::default()
    };
    match outcome {
        Ok(order) => Ok(redirect_with_flash(
            &format!("/orders/{id}"),
            "success",
            &format!("Added to {}.", order.number),
        )),
        Err(e) => refused(&req, &ctx, id, e, typed, add_line_place).await,
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LineForm {
    #[serde(default)]
    location_id: String,
    #[serde(default)]
    packs: String,
}

pub async fn update_line(
    req: HttpRequest,
    ctx: Ctx,
    path: web::Path<(i64, i64)>,
    f: web::Form<LineForm>,
) -> Result<HttpResponse, AppError> {
    let ((id, line_id), form) = (path.into_inner(), f.into_inner());
    let mut errors = FieldErrors::default();
    let packs = parse_packs(&mut errors, &form.packs);
    let location_id = parse_id(
        &mut errors,
        "location_id",
        &form.location_id,
        "is not one of the choices",
    );
    let (a, env) = ctx.for_orders()?;
    let outcome = ctx
        .state
        .db
        .write(move |tx| forms::update_line(tx, &a, &env, id, line_id, packs, location_id, errors))
        .await;
    let typed = Typed {
        form: format!("line-{line_id}"),
        packs: form.packs.clone(),
        line_location: form.location_id.clone(),
        ..Typed::default()
    };
    match outcome {
        Ok(order) => Ok(redirect_with_flash(
            &format!("/orders/{id}"),
            "success",
            &format!("Changed a line of {}.", order.number),
        )),
        Err(e) => {
            refused(&req, &ctx, id, e, typed, |field| match field {
                "location_id" => (
                    format!("location-{line_id}"),
                    "Location of the line".to_string(),
                ),
                _ => (format!("packs-{line_id}"), "Packs of the line".to_string()),
            })
            .await
        }
    }
}

pub async fn remove_line(
    req: HttpRequest,
    ctx: Ctx,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (id, line_id) = path.into_inner();
    let (a, env) = ctx.for_orders()?;
    let outcome = ctx
        .state
        .db
        .write(move |tx| lifecycle::remove_line(tx, &a, &env, id, line_id))
        .await;
    match outcome {
        Ok(order) => Ok(redirect_with_flash(
            &format!("/orders/{id}"),
            "success",
            &format!("Removed a line from {}.", order.number),
        )),
        Err(OrdersError::Invalid(e)) => {
            // The only field problem here: the line is not on this order.
            refused(
                &req,
                &ctx,
                id,
                OrdersError::refused(
                    crate::orders::refusals::RECORD_MISSING,
                    format!(
                        "The line {}",
                        e.get("line_id").unwrap_or("cannot be removed")
                    ),
                ),
                Typed::default(),
                |f| (f.to_string(), f.to_string()),
            )
            .await
        }
        Err(e) => {
            refused(&req, &ctx, id, e, Typed::default(), |f| {
                (f.to_string(), f.to_string())
            })
            .await
        }
    }
}

/// The order's note (drafts) or expected delivery date (open orders).
#[derive(Debug, Default, Deserialize)]
pub struct DetailsForm {
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    expected_on: Option<String>,
}

pub async fn update_details(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<DetailsForm>,
) -> Result<HttpResponse, AppError> {
    let (id, form) = (id.into_inner(), f.into_inner());
    let change = lifecycle::HeaderChange {
        note: form.note.clone(),
        expected_on: form.expected_on.clone(),
    };
    let (a, env) = ctx.for_orders()?;
    let outcome = ctx
        .state
        .db
        .write(move |tx| lifecycle::update_header(tx, &a, &env, id, &change))
        .await;
    match outcome {
        Ok(order) => Ok(redirect_with_flash(
            &format!("/orders/{id}"),
            "success",
            &format!("Saved the details of {}.", order.number),
        )),
        Err(e) => {
            let typed = Typed {
                form: "details".to_string(),
                note: form.note.unwrap_or_default(),
                expected_on: form.expected_on.unwrap_or_default(),
                ..Typed::default()
            };
            refused(&req, &ctx, id, e, typed, |field| match field {
                "note" => (
                    "details_note".to_string(),
                    "Note for the supplier".to_string(),
                ),
                _ => (
                    "details_expected_on".to_string(),
                    "Expected delivery".to_string(),
                ),
            })
            .await
        }
    }
}
