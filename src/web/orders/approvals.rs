//! The approval queue: orders waiting for an approval the user may give.

use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::view::{OrderRow, when_opt};
use crate::db::DbError;
use crate::orders::rules;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, render};

// ---------------------------------------------------------- approvals

#[derive(Template)]
#[template(path = "orders/approvals.html")]
struct ApprovalsPage {
    layout: Layout,
    rows: Vec<(OrderRow, String)>,
    currency: String,
}
crate::page!(ApprovalsPage);

pub async fn approvals(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let (user, today) = (ctx.user()?.clone(), ctx.state.today());
    let places = ctx.actor().places();
    let list = ctx
        .state
        .db
        .read(move |c| rules::waiting_for(c, &user, &places, today).map_err(DbError::from))
        .await?;
    render(&ApprovalsPage {
        layout: Layout::for_request(&req, "Waiting for my approval"),
        rows: list
            .into_iter()
            .map(|o| {
                let at = when_opt(&o.submitted_at);
                (OrderRow::of(o), at)
            })
            .collect(),
        currency: ctx.state.config.practice.currency.clone(),
    })
}
