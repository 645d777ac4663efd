//! Returns to suppliers: the list (with the credits still open), the form
//! to return goods, and one return. The practice, rules and credits pages
//! have files of their own beside this one.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::credits::{OpenTotal, open_totals};
use super::return_form::{ReturnForm, return_field};
use super::view::{Problems, SupplierFilter, parse_id, when};
use crate::catalog::locations::{self, Location};
use crate::catalog::suppliers::{self, Supplier};
use crate::db::DbError;
use crate::domain::Permission;
use crate::orders::returns::{self, Credit, SupplierReturn};
use crate::orders::{OrdersError, forms};
use crate::validation::capitalised;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render, render_status};

// Other areas name the credit row by this path.
pub use super::credits::CreditRow;

// ---------------------------------------------------------------------
// Returns
// ---------------------------------------------------------------------

struct ReturnRow {
    pub(super) r: SupplierReturn,
    pub(super) at: String,
    pub(super) units: i64,
}

#[derive(Template)]
#[template(path = "purchasing/returns.html")]
struct ReturnsPage {
    pub(super) layout: Layout,
    pub(super) returns: Vec<ReturnRow>,
    pub(super) credits: Vec<CreditRow>,
    pub(super) totals: Vec<OpenTotal>,
    pub(super) suppliers: Vec<Supplier>,
    pub(super) supplier_id: Option<i64>,
    pub(super) currency: String,
    pub(super) can_manage: bool,
}
crate::page!(ReturnsPage);

pub async fn list_returns(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<SupplierFilter>,
) -> Result<HttpResponse, AppError> {
    let can_manage = ctx.user()?.role.may(Permission::ManageOrders);
    let supplier_id = parse_id(&q.supplier_id);
    let places = ctx.actor().places();
    let (list, credits, suppliers) = ctx
        .state
        .db
        .read(move |c| {
            Ok::<_, DbError>((
                returns::returns(c, &places, supplier_id)?,
                returns::credits(c, supplier_id, true)?,
                suppliers::list(c)?,
            ))
        })
        .await?;
    render(&ReturnsPage {
        layout: Layout::for_request(&req, "Returns"),
        returns: list
            .into_iter()
            .map(|r| ReturnRow {
                at: when(&r.at),
                units: r.lines.iter().map(|l| l.quantity).sum(),
                r,
            })
            .collect(),
        totals: open_totals(&credits),
        credits: credits.into_iter().map(CreditRow::new).collect(),
        suppliers,
        supplier_id,
        currency: ctx.state.config.practice.currency.clone(),
        can_manage,
    })
}

#[derive(Template)]
#[template(path = "purchasing/return_form.html")]
struct ReturnFormPage {
    pub(super) layout: Layout,
    pub(super) form: ReturnForm,
    pub(super) suppliers: Vec<Supplier>,
    pub(super) locations: Vec<(Location, String)>,
    pub(super) errors: Problems,
    /// A refusal that is about the stock, not a field.
    pub(super) refusal: Option<String>,
    pub(super) currency: String,
}
crate::page!(ReturnFormPage);

impl ReturnFormPage {
    fn line_field(&self, name: &str, row: impl std::borrow::Borrow<usize>) -> String {
        format!("{name}_{}", row.borrow())
    }
}

async fn return_form_page(
    req: &HttpRequest,
    ctx: &Ctx,
    status: StatusCode,
    form: ReturnForm,
    errors: Problems,
    refusal: Option<String>,
) -> Result<HttpResponse, AppError> {
    let actor = ctx.actor();
    let (suppliers, locations) = ctx
        .state
        .db
        .read(move |c| {
            let locs = locations::usable_with_paths(c, &actor)?
                .into_iter()
                .filter(|(l, _)| l.active)
                .collect::<Vec<_>>();
            Ok::<_, DbError>((suppliers::list(c)?, locs))
        })
        .await?;
    render_status(
        status,
        &ReturnFormPage {
            layout: Layout::for_request(req, "Return goods"),
            form,
            suppliers,
            locations,
            errors,
            refusal,
            currency: ctx.state.config.practice.currency.clone(),
        },
    )
}

pub async fn new_return(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<SupplierFilter>,
) -> Result<HttpResponse, AppError> {
    let form = ReturnForm {
        supplier_id: q.supplier_id.trim().to_string(),
        ..ReturnForm::default()
    }
    .padded();
    return_form_page(&req, &ctx, StatusCode::OK, form, Problems::default(), None).await
}

pub async fn create_return(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = ReturnForm::from_pairs(f.into_inner());
    let (input, errors, rows) = form.to_input();
    let (a, env) = ctx.for_orders()?;
    let outcome = ctx
        .state
        .db
        .write(move |tx| forms::create_return(tx, &a, &env, input, errors))
        .await;
    match outcome {
        Ok(ret) => Ok(redirect_with_flash(
            &format!("/returns/{}", ret.id),
            "success",
            &format!("Recorded return {} to {}.", ret.number, ret.supplier_name),
        )),
        Err(OrdersError::Invalid(e)) => {
            let problems = Problems::from_errors(e, |f| return_field(&rows, f));
            return_form_page(
                &req,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                problems,
                None,
            )
            .await
        }
        Err(OrdersError::Stock(e)) => {
            let message = capitalised(&e.to_string());
            return_form_page(
                &req,
                &ctx,
                StatusCode::CONFLICT,
                form,
                Problems::default(),
                Some(message),
            )
            .await
        }
        Err(OrdersError::Refused(r)) => {
            return_form_page(
                &req,
                &ctx,
                StatusCode::CONFLICT,
                form,
                Problems::default(),
                Some(capitalised(&r.message)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

struct ShownLine {
    pub(super) item_id: i64,
    pub(super) item_name: String,
    pub(super) location: String,
    pub(super) lot: String,
    pub(super) expiry: String,
    pub(super) quantity: i64,
}

#[derive(Template)]
#[template(path = "purchasing/return_show.html")]
struct ReturnPage {
    pub(super) layout: Layout,
    pub(super) ret: SupplierReturn,
    pub(super) at: String,
    pub(super) lines: Vec<ShownLine>,
    pub(super) credits: Vec<CreditRow>,
    pub(super) currency: String,
}
crate::page!(ReturnPage);

pub async fn show_return(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let places = ctx.actor().places();
    let (ret, lines, credits) = ctx
        .state
        .db
        .read(move |c| {
            let Some(ret) = returns::get_return(c, &places, id)? else {
                return Ok(None);
            };
            let mut lines = Vec::new();
            for l in &ret.lines {
                lines.push(ShownLine {
                    item_id: l.item_id,
                    item_name: l.item_name.clone(),
                    location: locations::path_name(c, l.location_id)?,
                    lot: l.lot.clone(),
                    expiry: l.expiry.clone(),
                    quantity: l.quantity,
                });
            }
            let credits: Vec<Credit> = returns::credits(c, Some(ret.supplier_id), false)?
                .into_iter()
                .filter(|cr| cr.return_id == Some(id))
                .collect();
            Ok::<_, DbError>(Some((ret, lines, credits)))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    render(&ReturnPage {
        layout: Layout::for_request(&req, format!("Return {}", ret.number)),
        at: when(&ret.at),
        ret,
        lines,
        credits: credits.into_iter().map(CreditRow::new).collect(),
        currency: ctx.state.config.practice.currency.clone(),
    })
}
