//! CSV in and out: `POST /api/v1/imports/{kind}` (a dry run unless
//! `?commit=true`) and the CSV downloads, served both under
//! `/api/v1/exports/` (bearer tokens) and under `/export/` (the export page,
//! signed-in browsers). The work is in `csv_io`; these handlers read the
//! request, pick the reader's locations and write the response.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::{self, Bytes, Path, Query};
use actix_web::{HttpResponse, HttpResponseBuilder};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::csv_io::export::{self, ExportError, Separator, movements};
use crate::csv_io::{self, Counts, ImportError, Kind, Problem};
use crate::domain::refusal::Refusal;
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::NotFound => AppError::NotFound,
            ImportError::NotYours => AppError::Forbidden,
            ImportError::AlreadyCommitted(at) => {
                let at = crate::domain::Timestamp::parse(&at).map_or(at, |t| t.human());
                AppError::Refused(Refusal::new(
                    csv_io::ALREADY_COMMITTED,
                    format!(
                        "This file was already imported on {at}; importing it again is refused."
                    ),
                ))
            }
            ImportError::Rejected(report) => AppError::Invalid(report.field_errors()),
            ImportError::Db(e) => e.into(),
        }
    }
}

impl From<ExportError> for AppError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Db(e) => e.into(),
            ExportError::Write(e) => AppError::internal(anyhow::anyhow!(e)),
        }
    }
}

/// How far past its limit a refused upload is still read (and dropped), so
/// that a client that sent a file a little too large gets the answer
/// instead of a connection closed while it was still sending.
pub(crate) const DRAIN_FACTOR: usize = 4;

/// The request body, up to `limit` bytes; `Err(size)` when it is larger.
pub(crate) async fn read_body(
    mut payload: web::Payload,
    limit: usize,
) -> Result<Result<Vec<u8>, usize>, AppError> {
    let mut body = Vec::new();
    let mut size = 0;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::unreadable_body(&e))?;
        size += chunk.len();
        if size > limit.saturating_mul(DRAIN_FACTOR) {
            break;
        }
        if size <= limit {
            body.extend_from_slice(&chunk);
        }
    }
    Ok(if size > limit { Err(size) } else { Ok(body) })
}

/// The problem of an upload of `size` bytes (as far as it was read).
pub(crate) fn too_large(size: usize) -> csv_io::FileProblem {
    // Past the part that is read at all, the size is not known: say only
    // that it is too large, with the one limit there is.
    if size > csv_io::MAX_BYTES * DRAIN_FACTOR {
        csv_io::FileProblem::FarTooLarge
    } else {
        csv_io::FileProblem::TooLarge {
            size: csv_io::report::human_size(size),
        }
    }
}

/// The "file" problem of an upload that cannot be read as CSV at all.
pub(crate) fn file_problem(p: &csv_io::FileProblem) -> FieldErrors {
    FieldErrors::single("file", p)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `true` to import; otherwise the file is only checked (a dry run).
    #[serde(default)]
    commit: bool,
    /// A name to keep with the import (shown in the audit trail).
    file_name: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    pub kind: Kind,
    /// Whether anything was written (false for a dry run).
    pub committed: bool,
    /// The stored import, when committed.
    pub import_id: Option<i64>,
    /// What the import created (or, in a dry run, would create).
    pub counts: Counts,
    /// Things worth knowing that are not mistakes: categories to be
    /// created, ignored columns, lots given for items without lots.
    pub notices: Vec<Problem>,
}

/// Checks or imports a CSV file of items, suppliers, supplier-items or
/// opening-stock (UTF-8, `,`, `;` or tab separated, header names as on the
/// import page). Every row goes through the same rules as the forms. A
/// file with any mistake is refused whole with 422, `details` naming each
/// as `line N, column X` and the problem; a clean file is imported in one
/// transaction when `commit=true`. At most 5 MB and 50,000 rows.
#[utoipa::path(post, path = "/api/v1/imports/{kind}", tag = "imports",
    params(("kind" = String, Path, description = "items, suppliers, supplier-items or opening-stock"), ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The CSV file"),
    responses((status = 200, description = "Dry run: no mistakes found, nothing written", body = ImportResult),
        (status = 201, description = "Imported", body = ImportResult),
        (status = 404, description = "No such kind", body = crate::web::api::ErrorBody),
        (status = 409, description = "Refused as a second import of the same upload", body = crate::web::api::ErrorBody),
        (status = 422, description = "Mistakes in the file; nothing written", body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn import(
    ctx: Ctx,
    kind: Path<String>,
    q: Query<ImportQuery>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let kind = Kind::parse(&kind).ok_or(AppError::NotFound)?;
    let bytes = match read_body(body, csv_io::MAX_BYTES).await? {
        Ok(b) => b,
        Err(size) => return Err(file_problem(&too_large(size)).into()),
    };
    let content = csv_io::prepare(&bytes).map_err(|p| AppError::Invalid(file_problem(&p)))?;
    ctx.user()?;
    let currency = ctx.state.config.practice.currency.clone();
    let q = q.into_inner();
    if q.commit {
        let file_name = q
            .file_name
            .unwrap_or_else(|| format!("{}.csv", kind.slug()));
        let (id, report) = csv_io::commit_content(
            &ctx.state.db,
            ctx.audit(),
            kind,
            file_name,
            content,
            currency,
        )
        .await?;
        return Ok(HttpResponse::build(StatusCode::CREATED).json(ImportResult {
            kind,
            committed: true,
            import_id: Some(id),
            counts: report.counts,
            notices: report.notices(),
        }));
    }
    let report = csv_io::check(&ctx.state.db, ctx.audit(), kind, content, currency).await?;
    if !report.is_clean() {
        return Err(AppError::Invalid(report.field_errors()));
    }
    Ok(HttpResponse::Ok().json(ImportResult {
        kind,
        committed: false,
        import_id: None,
        counts: report.counts,
        notices: report.notices(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `comma` (default: `,` and decimal points) or `semicolon` (`;` and
    /// decimal commas, for spreadsheets in decimal-comma locales).
    #[serde(default)]
    separator: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MovementsQuery {
    /// First day, in the practice's time zone (default: 30 days before `to`).
    #[serde(default)]
    from: String,
    /// Last day, included (default: today).
    #[serde(default)]
    to: String,
    /// `comma` (default) or `semicolon`.
    #[serde(default)]
    separator: String,
}

fn separator(raw: &str) -> Result<Separator, AppError> {
    Separator::parse(raw).map_err(|e| FieldErrors::single("separator", e).into())
}

/// A CSV download named `name`.
fn download(name: &str) -> HttpResponseBuilder {
    let mut res = HttpResponse::Ok();
    res.content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(name.to_string())],
        })
        .insert_header((header::CACHE_CONTROL, "no-store"));
    res
}

/// Every item with category, unit, flags, GTINs and packs, as CSV in the
/// columns the items import reads (plus `other_packs` and `active`).
#[utoipa::path(get, path = "/api/v1/exports/items.csv", tag = "imports", params(ExportQuery),
    responses((status = 200, description = "The items", body = String, content_type = "text/csv")),
    security(("bearer" = [])))]
pub async fn items_csv(ctx: Ctx, q: Query<ExportQuery>) -> Result<HttpResponse, AppError> {
    let sep = separator(&q.separator)?;
    let bytes = ctx.state.db.read(move |c| export::items(c, sep)).await?;
    let today = ctx.state.today();
    Ok(download(&format!("items-{today}.csv")).body(bytes))
}

/// Stock on hand in the locations the caller may use: item, location path,
/// lot, expiry, quantity, and its value at the preferred supplier item's
/// price per stocking unit (price ÷ pack size) in the practice's currency.
/// No total line.
#[utoipa::path(get, path = "/api/v1/exports/stock.csv", tag = "imports", params(ExportQuery),
    responses((status = 200, description = "Stock on hand", body = String, content_type = "text/csv")),
    security(("bearer" = [])))]
pub async fn stock_csv(ctx: Ctx, q: Query<ExportQuery>) -> Result<HttpResponse, AppError> {
    let sep = separator(&q.separator)?;
    let actor = ctx.actor();
    let currency = ctx.state.config.practice.currency.clone();
    let bytes = ctx
        .state
        .db
        .read(move |c| export::stock(c, &actor, &currency, sep))
        .await?;
    let today = ctx.state.today();
    Ok(download(&format!("stock-{today}.csv")).body(bytes))
}

/// Movements from `from` to `to` (practice-local dates, both included) in
/// the locations the caller may use, oldest first, streamed.
#[utoipa::path(get, path = "/api/v1/exports/movements.csv", tag = "imports", params(MovementsQuery),
    responses((status = 200, description = "The movements", body = String, content_type = "text/csv"),
        (status = 422, description = "A date or the separator is not valid", body = crate::web::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn movements_csv(ctx: Ctx, q: Query<MovementsQuery>) -> Result<HttpResponse, AppError> {
    let today = ctx.state.today();
    let mut errors = FieldErrors::default();
    let mut day = |field: &str, raw: &str| match csv_io::cells::date(raw) {
        Ok(d) => d,
        Err(e) => {
            errors.add(field, e);
            None
        }
    };
    let to = day("to", &q.to).unwrap_or(today);
    let from = day("from", &q.from).unwrap_or(to - time::Duration::days(30));
    let sep = errors.check("separator", Separator::parse(&q.separator));
    let allowed = movements::FIRST_DAY..=movements::LAST_DAY;
    let outside = format!(
        "must be a date from {} to {}",
        movements::FIRST_DAY,
        movements::LAST_DAY
    );
    if !allowed.contains(&from) {
        errors.add("from", &outside);
    }
    if !allowed.contains(&to) {
        errors.add("to", &outside);
    }
    if from > to {
        errors.add("from", "must not be after to");
    }
    // Placed in time before the first byte is sent: a date the time zone
    // cannot place is refused here, not by a download cut off part-way.
    if errors.is_empty()
        && let Err(e) = movements::utc_range(from, to, &ctx.state.config.practice.time_zone)
    {
        errors.add("to", e);
    }
    errors.into_result()?;
    let req = movements::Request {
        actor: ctx.actor(),
        from,
        to,
        zone: ctx.state.config.practice.time_zone.clone(),
        separator: sep.unwrap_or_default(),
    };
    let body = movements::stream(ctx.state.db.clone(), req).map(|chunk| {
        chunk.map(Bytes::from).map_err(|e| {
            tracing::error!(error = %e, "movements export failed part-way");
            AppError::from(e)
        })
    });
    Ok(download(&format!("movements-{from}-to-{to}.csv")).streaming(body))
}
