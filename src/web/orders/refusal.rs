//! A refused change on the order page: the problems beside the fields,
//! what was typed (so it is shown again), and the page shown again with a
//! 409 (a refusal, at the top) or a 422 (bad input, beside the fields).
//! Shared by the draft-editing and action handlers.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

use crate::orders::OrdersError;
use crate::validation::capitalised;
use crate::web::context::Ctx;
use crate::web::error::AppError;

use super::order::order_page;

/// A problem with something typed on the order page: the input it belongs
/// to (its id), how the form labels it, and what is wrong.
pub(super) struct Problem {
    pub(super) anchor: String,
    pub(super) label: String,
    pub(super) message: String,
}

#[derive(Default)]
pub(super) struct Problems(pub(super) Vec<Problem>);

impl Problems {
    pub(super) fn add(
        &mut self,
        anchor: impl Into<String>,
        label: impl Into<String>,
        message: &str,
    ) {
        self.0.push(Problem {
            anchor: anchor.into(),
            label: label.into(),
            message: message.to_string(),
        });
    }

    pub(super) fn get(&self, anchor: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|p| p.anchor == anchor)
            .map(|p| p.message.as_str())
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What was typed into a refused form, so the page shows it again.
#[derive(Default)]
pub(super) struct Typed {
    /// The form it was typed into: "add", "line-{id}", or an action.
    pub(super) form: String,
    pub(super) line_product: String,
    pub(super) line_location: String,
    pub(super) packs: String,
    pub(super) reason: String,
    pub(super) expected_on: String,
    pub(super) supplier_reference: String,
    pub(super) note: String,
}

/// How the order page is shown again after a refused form.
pub(super) struct Refusal {
    pub(super) status: StatusCode,
    pub(super) flash: Option<String>,
    pub(super) problems: Problems,
    pub(super) typed: Typed,
}

impl Refusal {
    pub(super) fn none() -> Self {
        Refusal {
            status: StatusCode::OK,
            flash: None,
            problems: Problems::default(),
            typed: Typed::default(),
        }
    }
}

/// Turns a refused change into the order page shown again: a refusal
/// (409) as an error message at the top, bad input (422) beside the
/// fields, named by `place` (field → input id and label).
pub(super) async fn refused(
    req: &HttpRequest,
    ctx: &Ctx,
    id: i64,
    err: OrdersError,
    typed: Typed,
    place: impl Fn(&str) -> (String, String),
) -> Result<HttpResponse, AppError> {
    match err {
        OrdersError::Refused(r) => {
            order_page(
                req,
                ctx,
                id,
                Refusal {
                    status: StatusCode::CONFLICT,
                    flash: Some(capitalised(&r.message)),
                    problems: Problems::default(),
                    typed,
                },
            )
            .await
        }
        OrdersError::Invalid(e) => {
            let mut problems = Problems::default();
            for f in &e.0 {
                let (anchor, label) = place(&f.field);
                problems.add(anchor, label, &f.message);
            }
            order_page(
                req,
                ctx,
                id,
                Refusal {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    flash: None,
                    problems,
                    typed,
                },
            )
            .await
        }
        e => Err(e.into()),
    }
}
