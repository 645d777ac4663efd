//! The list of orders: filters by state, supplier, overdue and number,
//! paged, with the count of orders waiting for the user's approval.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::view::{OrderRow, parse_id};
use crate::catalog::suppliers::{self, Supplier};
use crate::db::DbError;
use crate::domain::Permission;
use crate::domain::order::OrderState;
use crate::orders::{self, Filter, rules};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, render_status};

pub const PER_PAGE: u32 = 50;

// ---------------------------------------------------------------- the list

/// The list's query string, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub supplier: String,
    #[serde(default)]
    pub overdue: String,
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub page: String,
}

impl ListQuery {
    fn parse(&self) -> Result<(Filter, u32), FieldErrors> {
        let mut errors = FieldErrors::default();
        let states = match self.state.trim() {
            "" => Vec::new(),
            t => match OrderState::parse(t) {
                Some(s) => vec![s],
                None => {
                    errors.add("state", "is not one of the choices");
                    Vec::new()
                }
            },
        };
        let supplier_id = parse_id(
            &mut errors,
            "supplier",
            &self.supplier,
            "is not one of the choices",
        );
        let page = crate::web::forms::page_number(&mut errors, &self.page);
        if self.number.chars().count() > 100 {
            errors.add("number", "must be at most 100 characters");
        }
        errors.into_result()?;
        Ok((
            Filter {
                states,
                supplier_id,
                overdue: !self.overdue.is_empty(),
                number: self.number.trim().to_string(),
            },
            page,
        ))
    }

    /// This query on another page.
    fn with_page(&self, page: u32) -> String {
        let page = if page == 1 {
            String::new()
        } else {
            page.to_string()
        };
        crate::web::forms::query_link(
            "/orders",
            &[
                ("state", self.state.as_str()),
                ("supplier", &self.supplier),
                ("overdue", &self.overdue),
                ("number", &self.number),
                ("page", &page),
            ],
        )
    }
}

#[derive(Template)]
#[template(path = "orders/list.html")]
struct ListPage {
    layout: Layout,
    query: ListQuery,
    rows: Vec<OrderRow>,
    total: i64,
    page: u32,
    pages: u32,
    prev: Option<String>,
    next: Option<String>,
    suppliers: Vec<Supplier>,
    states: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
    currency: String,
    can_request: bool,
    can_approve: bool,
    waiting: usize,
}
crate::page!(ListPage);

pub async fn list(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = q.into_inner();
    let user = ctx.user()?.clone();
    let today = ctx.state.today();
    let (filter, page, errors) = match query.parse() {
        Ok((f, p)) => (f, p, FieldErrors::default()),
        Err(e) => (Filter::default(), 1, e),
    };
    let offset = (page - 1) * PER_PAGE;
    let places = ctx.actor().places();
    let can_approve = user.role.may(Permission::ApproveOrders);
    let (rows, total, suppliers, waiting) = ctx
        .state
        .db
        .read(move |c| {
            let (rows, total) = orders::list(c, &filter, &places, today, PER_PAGE, offset)?;
            let waiting = if can_approve {
                rules::waiting_for(c, &user, &places, today)?.len()
            } else {
                0
            };
            Ok::<_, DbError>((rows, total, suppliers::list(c)?, waiting))
        })
        .await?;
    let pages = (total.max(1) as u32).div_ceil(PER_PAGE);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(
        status,
        &ListPage {
            layout: Layout::for_request(&req, "Orders"),
            prev: (page > 1).then(|| query.with_page(page - 1)),
            next: (page < pages).then(|| query.with_page(page + 1)),
            query,
            rows: rows.into_iter().map(OrderRow::of).collect(),
            total,
            page,
            pages,
            suppliers,
            states: OrderState::ALL
                .iter()
                .map(|s| (s.as_str(), s.label()))
                .collect(),
            errors,
            currency: ctx.state.config.practice.currency.clone(),
            can_request: ctx.user()?.role.may(Permission::RequestOrders),
            can_approve,
            waiting,
        },
    )
}
