//! The practice's details (printed on orders) and, on the same page, the
//! approval rules with the form to add one.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::rules::RuleForm;
use super::view::{Problems, labelled};
use crate::catalog::CatalogError;
use crate::catalog::categories::{self, Category};
use crate::db::DbError;
use crate::orders::rules::{self, ApprovalRule};
use crate::practice::{self, Practice};
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render_status};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PracticeForm {
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) address: String,
    #[serde(default)]
    pub(super) phone: String,
    #[serde(default)]
    pub(super) email: String,
}

const PRACTICE_FIELDS: &[(&str, &str, &str)] = &[
    ("name", "name", "Practice name"),
    ("address", "address", "Address"),
    ("phone", "phone", "Phone"),
    ("email", "email", "E-mail"),
];

struct RuleRow {
    pub(super) rule: ApprovalRule,
}

impl RuleRow {
    fn role_label(&self) -> &'static str {
        self.rule.role.label()
    }
}

#[derive(Template)]
#[template(path = "purchasing/practice.html")]
struct PracticePage {
    pub(super) layout: Layout,
    pub(super) form: PracticeForm,
    pub(super) errors: Problems,
    pub(super) rules: Vec<RuleRow>,
    pub(super) categories: Vec<Category>,
    pub(super) rule_form: RuleForm,
    pub(super) rule_errors: Problems,
    pub(super) currency: String,
}
crate::page!(PracticePage);

pub(super) async fn practice_page(
    req: &HttpRequest,
    ctx: &Ctx,
    status: StatusCode,
    form: Option<PracticeForm>,
    errors: Problems,
    rule_form: RuleForm,
    rule_errors: Problems,
) -> Result<HttpResponse, AppError> {
    let currency = ctx.state.config.practice.currency.clone();
    let cur = currency.clone();
    let (stored, rules, categories) = ctx
        .state
        .db
        .read(move |c| {
            Ok::<_, DbError>((
                practice::practice(c)?,
                rules::list(c, &cur)?,
                categories::list(c)?,
            ))
        })
        .await?;
    let form = form.unwrap_or(PracticeForm {
        name: stored.name,
        address: stored.address,
        phone: stored.phone,
        email: stored.email,
    });
    render_status(
        status,
        &PracticePage {
            layout: Layout::for_request(req, "Practice"),
            form,
            errors,
            rules: rules.into_iter().map(|rule| RuleRow { rule }).collect(),
            categories: categories.into_iter().filter(|c| c.active).collect(),
            rule_form,
            rule_errors,
            currency,
        },
    )
}

pub async fn practice(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    practice_page(
        &req,
        &ctx,
        StatusCode::OK,
        None,
        Problems::default(),
        RuleForm::default(),
        Problems::default(),
    )
    .await
}

pub async fn save_practice(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<PracticeForm>,
) -> Result<HttpResponse, AppError> {
    let form = f.into_inner();
    let input = Practice {
        name: form.name.clone(),
        address: form.address.clone(),
        phone: form.phone.clone(),
        email: form.email.clone(),
    };
    let a = ctx.audit();
    let outcome = ctx
        .state
        .db
        .write(move |tx| practice::set_practice(tx, &a, &input))
        .await;
    match outcome {
        Ok(p) => Ok(redirect_with_flash(
            "/admin/practice",
            "success",
            &format!("Saved the details of {}.", p.name),
        )),
        Err(CatalogError::Invalid(e)) => {
            practice_page(
                &req,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(form),
                Problems::from_errors(e, labelled(PRACTICE_FIELDS)),
                RuleForm::default(),
                Problems::default(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
