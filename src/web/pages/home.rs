//! The dashboard: the first page after signing in.

use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::domain::{Permission, Role};
use crate::error::AppError;
use crate::web::context::Ctx;
use crate::web::render::{Layout, render};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    display_name: String,
    role: Role,
    can_manage_users: bool,
    can_view_audit: bool,
}
crate::page!(HomePage);

pub async fn show(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let user = ctx.user()?;
    render(&HomePage {
        layout: Layout::for_request(&req, "Dashboard"),
        display_name: user.display_name.clone(),
        role: user.role,
        can_manage_users: user.role.may(Permission::ManageUsers),
        can_view_audit: user.role.may(Permission::ViewAudit),
    })
}
