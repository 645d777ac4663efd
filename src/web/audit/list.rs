//! A read-only view of the audit trail, newest first.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::{self, Row};
use crate::db::DbError;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, render};

const PAGE: u32 = 100;

#[derive(Template)]
#[template(path = "audit/list.html")]
struct AuditPage {
    layout: Layout,
    rows: Vec<Row>,
    older: Option<i64>,
}
crate::page!(AuditPage);

#[derive(Deserialize)]
pub struct Query {
    before: Option<i64>,
}

pub async fn list(
    req: HttpRequest,
    ctx: Ctx,
    query: web::Query<Query>,
) -> Result<HttpResponse, AppError> {
    let before = query.before;
    let rows = ctx
        .state
        .db
        .read(move |c| audit::recent(c, PAGE, before).map_err(DbError::from))
        .await?;
    let older = (rows.len() == PAGE as usize)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    render(&AuditPage {
        layout: Layout::for_request(&req, "Audit log"),
        rows,
        older,
    })
}
