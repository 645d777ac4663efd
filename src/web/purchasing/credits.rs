//! Credits suppliers owe: the list with what each supplier owes in all,
//! recording a credit, and marking one received with the credit note.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::view::{Problems, SupplierFilter, labelled, parse_id, when};
use crate::catalog::suppliers::{self, Supplier};
use crate::db::DbError;
use crate::domain::Permission;
use crate::orders::returns::{self, Credit, CreditInput, CreditReceived};
use crate::orders::{OrdersError, forms};
use crate::validation::{FieldErrors, capitalised};
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::forms::money;
use crate::web::render::{Layout, redirect_with_flash, render_status};
use crate::web::suppliers::show::parse_price;

/// A credit as shown, with its amounts formatted.
pub struct CreditRow {
    pub c: Credit,
    pub expected: String,
    pub received: String,
    pub created: String,
}

impl CreditRow {
    pub fn new(c: Credit) -> CreditRow {
        CreditRow {
            expected: money(c.expected_minor),
            received: c.received_minor.map(money).unwrap_or_default(),
            created: when(&c.created_at),
            c,
        }
    }
}

/// What suppliers owe in open credits, one line per supplier.
pub struct OpenTotal {
    pub(super) supplier_id: i64,
    pub(super) supplier_name: String,
    pub(super) count: usize,
    pub(super) total: String,
}

pub(super) fn open_totals(credits: &[Credit]) -> Vec<OpenTotal> {
    let mut sums: Vec<(i64, String, usize, i64)> = Vec::new();
    for c in credits.iter().filter(|c| c.open()) {
        match sums.iter_mut().find(|s| s.0 == c.supplier_id) {
            Some(s) => {
                s.2 += 1;
                s.3 += c.expected_minor;
            }
            None => sums.push((c.supplier_id, c.supplier_name.clone(), 1, c.expected_minor)),
        }
    }
    sums.sort_by_key(|s| s.1.to_lowercase());
    sums.into_iter()
        .map(|(supplier_id, supplier_name, count, total)| OpenTotal {
            supplier_id,
            supplier_name,
            count,
            total: money(total),
        })
        .collect()
}

// ---------------------------------------------------------------------
// Credits
// ---------------------------------------------------------------------

const CREDIT_FIELDS: &[(&str, &str, &str)] = &[
    ("supplier_id", "supplier_id", "Supplier"),
    ("order_id", "order_number", "Order number"),
    ("order_number", "order_number", "Order number"),
    ("expected_minor", "amount", "Amount"),
    ("amount", "amount", "Amount"),
    ("note", "note", "What it is for"),
];

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreditForm {
    #[serde(default)]
    pub(super) supplier_id: String,
    #[serde(default)]
    pub(super) order_number: String,
    #[serde(default)]
    pub(super) amount: String,
    #[serde(default)]
    pub(super) note: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReceivedForm {
    #[serde(default)]
    pub(super) credit_note: String,
    #[serde(default)]
    pub(super) amount: String,
    #[serde(default)]
    pub(super) received_on: String,
}

#[derive(Template)]
#[template(path = "purchasing/credits.html")]
struct CreditsPage {
    pub(super) layout: Layout,
    pub(super) credits: Vec<CreditRow>,
    pub(super) totals: Vec<OpenTotal>,
    pub(super) suppliers: Vec<Supplier>,
    pub(super) supplier_id: Option<i64>,
    pub(super) open_only: bool,
    pub(super) currency: String,
    pub(super) can_manage: bool,
    pub(super) form: CreditForm,
    pub(super) errors: Problems,
    /// The credit whose "received" form is shown again, with what was
    /// typed and its problems.
    pub(super) receiving: Option<i64>,
    pub(super) received: ReceivedForm,
    pub(super) received_errors: Problems,
}
crate::page!(CreditsPage);

impl CreditsPage {
    fn rf(&self, name: &str, id: impl std::borrow::Borrow<i64>) -> String {
        format!("{name}-{}", id.borrow())
    }

    /// What was typed into this credit's "received" form, when it is the
    /// one shown again.
    fn typed(&self, id: impl std::borrow::Borrow<i64>) -> Option<&ReceivedForm> {
        (self.receiving == Some(*id.borrow())).then_some(&self.received)
    }
}

struct CreditsView {
    pub(super) filter: SupplierFilter,
    pub(super) form: CreditForm,
    pub(super) errors: Problems,
    pub(super) receiving: Option<i64>,
    pub(super) received: ReceivedForm,
    pub(super) received_errors: Problems,
}

impl CreditsView {
    fn plain(filter: SupplierFilter) -> CreditsView {
        CreditsView {
            filter,
            form: CreditForm::default(),
            errors: Problems::default(),
            receiving: None,
            received: ReceivedForm::default(),
            received_errors: Problems::default(),
        }
    }
}

async fn credits_page(
    req: &HttpRequest,
    ctx: &Ctx,
    status: StatusCode,
    v: CreditsView,
) -> Result<HttpResponse, AppError> {
    let can_manage = ctx.user()?.role.may(Permission::ManageOrders);
    let supplier_id = parse_id(&v.filter.supplier_id);
    let open_only = v.filter.open == "1";
    let (credits, all_open, suppliers) = ctx
        .state
        .db
        .read(move |c| {
            Ok::<_, DbError>((
                returns::credits(c, supplier_id, open_only)?,
                returns::credits(c, supplier_id, true)?,
                suppliers::list(c)?,
            ))
        })
        .await?;
    render_status(
        status,
        &CreditsPage {
            layout: Layout::for_request(req, "Credits"),
            totals: open_totals(&all_open),
            credits: credits.into_iter().map(CreditRow::new).collect(),
            suppliers,
            supplier_id,
            open_only,
            currency: ctx.state.config.practice.currency.clone(),
            can_manage,
            form: v.form,
            errors: v.errors,
            receiving: v.receiving,
            received: v.received,
            received_errors: v.received_errors,
        },
    )
}

pub async fn list_credits(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<SupplierFilter>,
) -> Result<HttpResponse, AppError> {
    credits_page(
        &req,
        &ctx,
        StatusCode::OK,
        CreditsView::plain(q.into_inner()),
    )
    .await
}

pub async fn create_credit(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<CreditForm>,
) -> Result<HttpResponse, AppError> {
    let form = f.into_inner();
    let mut errors = FieldErrors::default();
    let supplier_id = match parse_id(&form.supplier_id) {
        Some(id) => id,
        None => {
            errors.add("supplier_id", "choose the supplier");
            0
        }
    };
    let expected_minor = errors
        .check(
            "amount",
            parse_price(&form.amount).ok_or("is required: an amount such as 12.50 or 12,50"),
        )
        .unwrap_or(0);
    let (a, env) = ctx.for_orders()?;
    let number = form.order_number.trim().to_string();
    let input = CreditInput {
        supplier_id,
        order_id: None,
        expected_minor,
        note: form.note.clone(),
    };
    let outcome = ctx
        .state
        .db
        .write(move |tx| forms::create_credit(tx, &a, &env, input, &number, errors))
        .await;
    match outcome {
        Ok(c) => Ok(redirect_with_flash(
            "/credits",
            "success",
            &format!(
                "Recorded a credit of {} {} from {}.",
                money(c.expected_minor),
                ctx.state.config.practice.currency,
                c.supplier_name
            ),
        )),
        Err(OrdersError::Invalid(e)) => {
            let mut v = CreditsView::plain(SupplierFilter::default());
            v.errors = Problems::from_errors(e, labelled(CREDIT_FIELDS));
            v.form = form;
            credits_page(&req, &ctx, StatusCode::UNPROCESSABLE_ENTITY, v).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn receive_credit(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<ReceivedForm>,
) -> Result<HttpResponse, AppError> {
    let (id, form) = (id.into_inner(), f.into_inner());
    let mut errors = FieldErrors::default();
    let received_minor = errors
        .check(
            "amount",
            parse_price(&form.amount).ok_or("is required: an amount such as 12.50 or 12,50"),
        )
        .unwrap_or(0);
    let input = CreditReceived {
        credit_note: form.credit_note.clone(),
        received_minor,
        received_on: form.received_on.clone(),
    };
    let (a, env) = (ctx.audit(), ctx.state.order_env());
    let outcome = ctx
        .state
        .db
        .write(move |tx| forms::receive_credit(tx, &a, &env, id, &input, errors))
        .await;
    match outcome {
        Ok(c) => Ok(redirect_with_flash(
            "/credits",
            "success",
            &format!(
                "Credit note {} from {}: {} {} received.",
                c.credit_note,
                c.supplier_name,
                money(c.received_minor.unwrap_or(0)),
                ctx.state.config.practice.currency
            ),
        )),
        Err(OrdersError::Invalid(e)) => {
            let mut v = CreditsView::plain(SupplierFilter::default());
            v.received_errors = Problems::from_errors(e, |f| {
                let (name, label) = match f {
                    "credit_note" => ("credit_note", "Credit note number"),
                    "received_minor" | "amount" => ("amount", "Amount received"),
                    "received_on" => ("received_on", "Received on"),
                    other => (other, other),
                };
                (format!("{name}-{id}"), label.to_string())
            });
            v.receiving = Some(id);
            v.received = form;
            credits_page(&req, &ctx, StatusCode::UNPROCESSABLE_ENTITY, v).await
        }
        Err(OrdersError::Refused(r)) => Ok(redirect_with_flash(
            "/credits",
            "error",
            &capitalised(&r.message),
        )),
        Err(e) => Err(e.into()),
    }
}
