//! The supplier list.

use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::catalog::suppliers::{self, Supplier};
use crate::db::DbError;
use crate::domain::Permission;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, render};

#[derive(Template)]
#[template(path = "suppliers/list.html")]
struct ListPage {
    layout: Layout,
    suppliers: Vec<Supplier>,
    can_manage: bool,
}
crate::page!(ListPage);

pub async fn list(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let can_manage = ctx.user()?.role.may(Permission::ManageCatalog);
    let suppliers = ctx
        .state
        .db
        .read(|c| suppliers::list(c).map_err(DbError::from))
        .await?;
    render(&ListPage {
        layout: Layout::for_request(&req, "Suppliers"),
        suppliers,
        can_manage,
    })
}
