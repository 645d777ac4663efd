//! Adding an approval rule and switching one off or on, from the practice
//! page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::practice::practice_page;
use super::view::{AMOUNT_HINT, Problems, labelled, parse_id};
use crate::orders::rules::{self, RuleInput};
use crate::orders::{OrdersError, forms};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::forms::ActiveForm;
use crate::web::render::redirect_with_flash;
use crate::web::suppliers::show::parse_price;

const RULE_FIELDS: &[(&str, &str, &str)] = &[
    ("kind", "kind", "Rule"),
    ("amount_minor", "amount", "Order total above"),
    ("amount", "amount", "Order total above"),
    ("category_id", "category_id", "Category"),
    ("role", "role", "Approved by"),
];

#[derive(Debug, Clone, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) amount: String,
    #[serde(default)]
    pub(super) category_id: String,
    #[serde(default)]
    pub(super) role: String,
}

impl Default for RuleForm {
    fn default() -> Self {
        RuleForm {
            kind: "amount_over".into(),
            amount: String::new(),
            category_id: String::new(),
            role: "manager".into(),
        }
    }
}

pub async fn create_rule(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<RuleForm>,
) -> Result<HttpResponse, AppError> {
    let form = f.into_inner();
    let mut errors = FieldErrors::default();
    let kind = form.kind.trim().to_string();
    let (amount_minor, category_id) = match kind.as_str() {
        "amount_over" => (
            errors.check("amount", parse_price(&form.amount).ok_or(AMOUNT_HINT)),
            None,
        ),
        "category" => (
            None,
            errors.check(
                "category_id",
                parse_id(&form.category_id).ok_or("choose a category"),
            ),
        ),
        _ => (None, None),
    };
    let input = RuleInput {
        kind,
        amount_minor,
        category_id,
        role: form.role.trim().to_string(),
    };
    let (a, currency) = (ctx.audit(), ctx.state.config.practice.currency.clone());
    let outcome = ctx
        .state
        .db
        .write(move |tx| forms::create_rule(tx, &a, &currency, &input, errors))
        .await;
    match outcome {
        Ok(rule) => Ok(redirect_with_flash(
            "/admin/practice",
            "success",
            &format!("Added the rule: {}.", rule.describe),
        )),
        Err(OrdersError::Invalid(e)) => {
            practice_page(
                &req,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Problems::default(),
                form,
                Problems::from_errors(e, labelled(RULE_FIELDS)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn set_rule_active(
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<ActiveForm>,
) -> Result<HttpResponse, AppError> {
    let (id, active, a) = (id.into_inner(), f.is_active(), ctx.audit());
    let currency = ctx.state.config.practice.currency.clone();
    let rule = ctx
        .state
        .db
        .write(move |tx| rules::set_active(tx, &a, &currency, id, active))
        .await?;
    let verb = if active {
        "Switched on"
    } else {
        "Switched off"
    };
    Ok(redirect_with_flash(
        "/admin/practice",
        "success",
        &format!("{verb} the rule: {}.", rule.describe),
    ))
}
