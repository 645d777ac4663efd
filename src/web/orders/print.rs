//! The printable order: the practice's letterhead, the supplier, the lines
//! at their prices.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::view::LineView;
use crate::catalog::suppliers::{self, Supplier};
use crate::db::DbError;
use crate::orders::{self, Order};
use crate::practice::{self, Practice};
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::forms::money;
use crate::web::render::{Layout, render};

// ----------------------------------------------------------- the print

#[derive(Template)]
#[template(path = "orders/print.html")]
struct PrintPage {
    layout: Layout,
    practice: Practice,
    address_lines: Vec<String>,
    order: Order,
    date: String,
    supplier: Supplier,
    lines: Vec<LineView>,
    total: String,
    /// Lines for places the reader may not use, left out.
    hidden_lines: u32,
}
crate::page!(PrintPage);

pub async fn print(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (id, today) = (id.into_inner(), ctx.state.today());
    let places = ctx.actor().places();
    let (detail, supplier, practice) = ctx
        .state
        .db
        .read(move |c| {
            let Some(d) = orders::detail_for(c, &places, id, today)? else {
                return Ok(None);
            };
            let Some(s) = suppliers::get(c, d.order.supplier_id)? else {
                return Ok(None);
            };
            Ok::<_, DbError>(Some((d, s, practice::practice(c)?)))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    let order = detail.order;
    // The order's date: when it was submitted (prices are fixed then),
    // else when it was drafted.
    let date = order
        .submitted_at
        .as_deref()
        .unwrap_or(&order.created_at)
        .chars()
        .take(10)
        .collect();
    render(&PrintPage {
        layout: Layout::for_request(&req, format!("Order {}", order.number)),
        address_lines: practice
            .address
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
        practice,
        date,
        supplier,
        total: money(order.total_minor),
        hidden_lines: detail.hidden_lines,
        lines: detail.lines.into_iter().map(LineView::of).collect(),
        order,
    })
}
