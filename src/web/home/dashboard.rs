//! The dashboard: the first page after signing in.

use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::catalog::locations;
use crate::db::DbError;
use crate::domain::{Permission, Role};
use crate::stock::overview::{self, Filter};
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, render};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    display_name: String,
    role: Role,
    can_manage_users: bool,
    can_view_audit: bool,
    can_move: bool,
    low: i64,
    expired: i64,
    expiring: i64,
    can_approve: bool,
    /// Orders waiting for this user's approval.
    approvals: usize,
    /// Orders whose expected delivery has passed with lines still open.
    overdue: i64,
}
crate::page!(HomePage);

pub async fn show(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let user = ctx.user()?;
    let today = ctx.state.today();
    let actor = ctx.actor();
    // What needs attention, in the reader's locations.
    let search = ctx.state.search.clone();
    let reader = user.clone();
    let (low, expired, expiring, (approvals, overdue)) = ctx
        .state
        .db
        .read(move |c| {
            let allowed = locations::usable(c, &actor)?;
            let count = |f: Filter| overview::list(c, &search, &f, &allowed, 1, 0).map(|(_, n)| n);
            Ok::<_, DbError>((
                count(Filter {
                    low: true,
                    ..Filter::default()
                })?,
                count(Filter {
                    expiring_by: Some(today - time::Duration::days(1)),
                    ..Filter::default()
                })?,
                count(Filter {
                    expiring_by: Some(today + time::Duration::days(30)),
                    ..Filter::default()
                })?,
                crate::web::orders::order::attention(c, &reader, &actor.places(), today)?,
            ))
        })
        .await?;
    render(&HomePage {
        can_move: user.role.may(Permission::MoveStock),
        can_approve: user.role.may(Permission::ApproveOrders),
        approvals,
        overdue,
        low,
        expired,
        expiring,
        layout: Layout::for_request(&req, "Dashboard"),
        display_name: user.display_name.clone(),
        role: user.role,
        can_manage_users: user.role.may(Permission::ManageUsers),
        can_view_audit: user.role.may(Permission::ViewAudit),
    })
}
