//! Reorder suggestions by supplier, and turning one supplier's suggestions
//! into a draft order.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::db::DbError;
use crate::domain::Permission;
use crate::orders::OrdersError;
use crate::orders::suggest::{self, SupplierGroup};
use crate::validation::capitalised;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::forms::money;
use crate::web::render::{Layout, redirect_with_flash, render};

// ------------------------------------------------------ the suggestions

struct GroupView {
    group: SupplierGroup,
    total: String,
    /// (suggestion, price, line total)
    lines: Vec<(suggest::Suggestion, String, String)>,
}

#[derive(Template)]
#[template(path = "orders/suggestions.html")]
struct SuggestionsPage {
    layout: Layout,
    groups: Vec<GroupView>,
    currency: String,
    can_request: bool,
}
crate::page!(SuggestionsPage);

pub async fn suggestions(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let can_request = ctx.user()?.role.may(Permission::RequestOrders);
    let actor = ctx.actor();
    let groups = ctx
        .state
        .db
        .read(move |c| suggest::suggestions_for(c, &actor).map_err(DbError::from))
        .await?;
    render(&SuggestionsPage {
        layout: Layout::for_request(&req, "Reorder suggestions"),
        groups: groups
            .into_iter()
            .map(|mut g| GroupView {
                total: money(g.total_minor),
                lines: std::mem::take(&mut g.lines)
                    .into_iter()
                    .map(|s| {
                        let (p, t) = (money(s.price_minor), money(s.line_total_minor));
                        (s, p, t)
                    })
                    .collect(),
                group: g,
            })
            .collect(),
        currency: ctx.state.config.practice.currency.clone(),
        can_request,
    })
}

pub async fn draft_from_suggestions(
    ctx: Ctx,
    supplier_id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let supplier_id = supplier_id.into_inner();
    let (a, env) = ctx.for_orders()?;
    let outcome = ctx
        .state
        .db
        .write(move |tx| suggest::draft_for(tx, &a, &env, supplier_id))
        .await;
    match outcome {
        Ok(order) => Ok(redirect_with_flash(
            &format!("/orders/{}", order.id),
            "success",
            &format!(
                "Created draft {} for {} from the suggestions. Check it, then submit it.",
                order.number, order.supplier_name
            ),
        )),
        Err(OrdersError::Refused(r)) => Ok(redirect_with_flash(
            "/orders/suggestions",
            "error",
            &capitalised(&r.message),
        )),
        Err(e) => Err(e.into()),
    }
}
