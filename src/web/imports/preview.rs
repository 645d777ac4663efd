//! An uploaded file checked before it is imported: every row with its
//! problems and notices, then the import itself (all rows or none).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::pages::{LIST_ALL_ROWS, human};
use crate::csv_io::store;
use crate::csv_io::{self, ImportError, Problem, Report, StoredImport};
use crate::db::DbError;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render_status};

struct RowView {
    line: u64,
    cells: Vec<String>,
    problems: Vec<String>,
    notices: Vec<String>,
}

#[derive(Template)]
#[template(path = "imports/preview.html")]
struct PreviewPage {
    layout: Layout,
    id: i64,
    kind: &'static str,
    kind_slug: &'static str,
    file_name: String,
    uploaded: String,
    committed: Option<String>,
    /// Set when a commit found problems the preview had not.
    refused: bool,
    columns: Vec<&'static str>,
    rows: Vec<RowView>,
    hidden_rows: usize,
    errors: Vec<Problem>,
    notices: Vec<Problem>,
    total_rows: u64,
    summary: String,
}
crate::page!(PreviewPage);

fn preview_page(
    req: &HttpRequest,
    stored: StoredImport,
    report: Option<Report>,
    refused: bool,
) -> Result<HttpResponse, AppError> {
    let status = if report.as_ref().is_some_and(|r| !r.is_clean()) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut page = PreviewPage {
        layout: Layout::for_request(req, format!("Import {}", stored.file_name)),
        id: stored.id,
        kind: stored.kind.label(),
        kind_slug: stored.kind.slug(),
        file_name: stored.file_name,
        uploaded: human(&stored.created_at),
        committed: stored.committed_at.as_deref().map(human),
        refused,
        columns: Vec::new(),
        rows: Vec::new(),
        hidden_rows: 0,
        errors: Vec::new(),
        notices: Vec::new(),
        total_rows: 0,
        summary: String::new(),
    };
    if let Some(r) = report {
        let all = r.rows.len() <= LIST_ALL_ROWS;
        page.errors = r.errors().into_iter().cloned().collect();
        page.notices = r.notices();
        page.total_rows = r.counts.rows;
        page.summary = r.counts.summary();
        page.columns = r.columns;
        for row in r.rows {
            if !all && row.errors.is_empty() && row.notices.is_empty() {
                page.hidden_rows += 1;
                continue;
            }
            page.rows.push(RowView {
                line: row.line,
                cells: row.cells,
                problems: row
                    .errors
                    .iter()
                    .map(|p| {
                        if p.column.is_empty() {
                            p.message.clone()
                        } else {
                            format!("{}: {}", p.column, p.message)
                        }
                    })
                    .collect(),
                notices: row.notices,
            });
        }
    }
    render_status(status, &page)
}

pub async fn preview(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let currency = ctx.state.config.practice.currency.clone();
    let (stored, report) =
        csv_io::preview(&ctx.state.db, ctx.audit(), id.into_inner(), currency).await?;
    preview_page(&req, stored, report, false)
}

pub async fn commit(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let currency = ctx.state.config.practice.currency.clone();
    match csv_io::commit(&ctx.state.db, ctx.audit(), id, currency).await {
        Ok((stored, report)) => Ok(redirect_with_flash(
            "/import",
            "success",
            &format!(
                "Imported {}: {}.",
                stored.file_name,
                report.counts.summary()
            ),
        )),
        Err(ImportError::Rejected(report)) => {
            let stored = ctx
                .state
                .db
                .read(move |c| store::get(c, id).map_err(DbError::from))
                .await?
                .ok_or(AppError::NotFound)?;
            preview_page(&req, stored, Some(*report), true)
        }
        Err(e) => Err(e.into()),
    }
}
