//! The import pages — choose what the file holds, upload or paste it, see
//! every row and every mistake, then import it all at once — and the
//! export page with its downloads.
//!
//! Pasting into the text box is a plain form and works everywhere. A file
//! upload is `multipart/form-data`: sent by htmx (token in its header, the
//! answer says where to go with `HX-Redirect`) or, without JavaScript, as a
//! plain form whose `csrf_token` part the CSRF middleware reads (the answer
//! is then a 303).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::StreamExt;
use serde::Deserialize;

use crate::csv_io::report::human_size;
use crate::csv_io::store::{self, ImportSummary};
use crate::csv_io::{self, Kind};
use crate::db::DbError;
use crate::domain::Timestamp;
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::imports::api::{DRAIN_FACTOR, file_problem, read_body, too_large};
use crate::web::render::{Layout, redirect, redirect_with_flash, render_status};

/// Above this many rows, a preview lists only the rows with something to
/// say; a page of 50,000 table rows helps nobody.
pub const LIST_ALL_ROWS: usize = 2000;

/// A column of a kind, as the page explains it.
struct ColumnHelp {
    name: &'static str,
    required: bool,
    help: &'static str,
}

struct KindHelp {
    value: &'static str,
    label: &'static str,
    columns: Vec<ColumnHelp>,
    template: String,
}

fn kinds() -> Vec<KindHelp> {
    Kind::ALL
        .into_iter()
        .map(|k| KindHelp {
            value: k.slug(),
            label: k.label(),
            columns: k
                .columns()
                .iter()
                .map(|c| ColumnHelp {
                    name: c.name,
                    required: c.required,
                    help: c.help,
                })
                .collect(),
            template: csv_io::kind::template(k),
        })
        .collect()
}

struct RecentRow {
    id: i64,
    kind: &'static str,
    file_name: String,
    created: String,
    committed: Option<String>,
}

pub(super) fn human(at: &str) -> String {
    Timestamp::parse(at).map_or_else(|_| at.to_string(), |t| t.human())
}

#[derive(Template)]
#[template(path = "imports/form.html")]
struct FormPage {
    layout: Layout,
    kinds: Vec<KindHelp>,
    kind: String,
    content: String,
    recent: Vec<RecentRow>,
    currency: String,
    max_size: String,
    max_rows: usize,
    errors: FieldErrors,
}
crate::page!(FormPage);

#[derive(Debug, Default, Deserialize)]
pub struct FormQuery {
    #[serde(default)]
    kind: String,
}

async fn form_page(
    req: &HttpRequest,
    ctx: &Ctx,
    status: StatusCode,
    kind: String,
    content: String,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let user_id = ctx.user()?.id;
    let recent = ctx
        .state
        .db
        .read(move |c| store::recent(c, user_id, 10).map_err(DbError::from))
        .await?
        .into_iter()
        .map(|s: ImportSummary| RecentRow {
            id: s.id,
            kind: s.kind.label(),
            file_name: s.file_name,
            created: human(&s.created_at),
            committed: s.committed_at.as_deref().map(human),
        })
        .collect();
    render_status(
        status,
        &FormPage {
            layout: Layout::for_request(req, "Import"),
            kinds: kinds(),
            kind,
            content,
            recent,
            currency: ctx.state.config.practice.currency.clone(),
            max_size: human_size(csv_io::MAX_BYTES),
            max_rows: csv_io::MAX_ROWS,
            errors,
        },
    )
}

pub async fn form(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<FormQuery>,
) -> Result<HttpResponse, AppError> {
    let kind = Kind::parse(&q.kind).map_or("", Kind::slug).to_string();
    form_page(
        &req,
        &ctx,
        StatusCode::OK,
        kind,
        String::new(),
        FieldErrors::default(),
    )
    .await
}

/// What the upload form sent.
#[derive(Debug, Default, Deserialize)]
struct Upload {
    #[serde(default)]
    kind: String,
    /// Pasted rows.
    #[serde(default)]
    content: String,
    #[serde(skip)]
    file: Option<(String, Vec<u8>)>,
    #[serde(skip)]
    too_large: Option<usize>,
}

/// Reads a multipart upload: `kind`, `file` and (optionally) `content`;
/// past the size an import may have, the rest is read and dropped (up to a
/// bound), so that the browser gets the answer.
async fn read_multipart(req: &HttpRequest, payload: web::Payload) -> Result<Upload, AppError> {
    let bad = |e: actix_multipart::MultipartError| match e {
        actix_multipart::MultipartError::Payload(p) => AppError::unreadable_body(&p),
        e => AppError::BadRequest(format!("the upload could not be read: {e}")),
    };
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    let mut upload = Upload::default();
    let mut total = 0usize;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(bad)?;
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_string);
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(bad)?;
            total += chunk.len();
            if total > DRAIN_FACTOR * csv_io::MAX_BYTES {
                upload.too_large = Some(total);
                return Ok(upload);
            }
            if total > csv_io::MAX_BYTES {
                upload.too_large = Some(total);
            } else {
                data.extend_from_slice(&chunk);
            }
        }
        if upload.too_large.is_some() {
            continue;
        }
        match name.as_str() {
            "kind" => upload.kind = String::from_utf8_lossy(&data).into_owned(),
            "content" => upload.content = String::from_utf8_lossy(&data).into_owned(),
            "file" if !data.is_empty() => {
                upload.file = Some((file_name.unwrap_or_default(), data));
            }
            _ => {}
        }
    }
    Ok(upload)
}

fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().contains_key("hx-request")
}

/// A redirect that works for plain forms (303) and for htmx (which follows
/// `HX-Redirect` with a full page load, carrying the flash cookie along).
fn go(req: &HttpRequest, to: &str, flash: Option<(&'static str, &str)>) -> HttpResponse {
    let mut res = match flash {
        Some((kind, message)) => redirect_with_flash(to, kind, message),
        None => redirect(to),
    };
    if is_htmx(req) {
        *res.status_mut() = StatusCode::OK;
        res.headers_mut().remove(header::LOCATION);
        if let Ok(v) = header::HeaderValue::from_str(to) {
            res.headers_mut()
                .insert(header::HeaderName::from_static("hx-redirect"), v);
        }
    }
    res
}

/// Keeps an uploaded or pasted file for its preview.
pub async fn upload(
    req: HttpRequest,
    ctx: Ctx,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let multipart = req.content_type().starts_with("multipart/form-data");
    let upload = if multipart {
        read_multipart(&req, payload).await?
    } else {
        // The CSRF middleware has read this body already, within
        // `http.max_body_bytes`; three bytes per byte covers URL encoding.
        match read_body(payload, 3 * csv_io::MAX_BYTES).await? {
            Ok(body) => serde_urlencoded::from_bytes(&body)
                .map_err(|e| AppError::BadRequest(format!("the form could not be read: {e}")))?,
            Err(size) => Upload {
                too_large: Some(size),
                ..Upload::default()
            },
        }
    };
    let mut errors = FieldErrors::default();
    let kind = Kind::parse(&upload.kind);
    if kind.is_none() {
        errors.add("kind", "choose what the file holds");
    }
    let (file_name, bytes) = match (&upload.too_large, upload.file) {
        (Some(size), _) => {
            errors.0.extend(file_problem(&too_large(*size)).0);
            (String::new(), Vec::new())
        }
        (None, Some(file)) => file,
        (None, None) if upload.content.trim().is_empty() => {
            errors.add("file", "is missing: choose a file or paste the rows");
            (String::new(), Vec::new())
        }
        (None, None) => (
            "pasted.csv".to_string(),
            upload.content.clone().into_bytes(),
        ),
    };
    let content = if errors.is_empty() {
        csv_io::prepare(&bytes)
            .map_err(|p| errors.0.extend(file_problem(&p).0))
            .ok()
    } else {
        None
    };
    let (Some(kind), Some(content)) = (kind, content) else {
        if is_htmx(&req) {
            let message = errors
                .0
                .iter()
                .map(|e| format!("{} {}", e.label(), e.message))
                .collect::<Vec<_>>()
                .join(" ");
            let to = format!("/import?kind={}", kind.map_or("", Kind::slug));
            return Ok(go(&req, &to, Some(("error", &message))));
        }
        let kind = kind.map_or(upload.kind, |k| k.slug().to_string());
        return form_page(
            &req,
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            kind,
            upload.content,
            errors,
        )
        .await;
    };
    let user_id = ctx.user()?.id;
    let at = ctx.state.clock.now();
    let id = ctx
        .state
        .db
        .write(move |tx| {
            store::create(tx, user_id, kind, &file_name, &content, at).map_err(DbError::from)
        })
        .await?;
    Ok(go(&req, &format!("/imports/{id}"), None))
}

#[derive(Template)]
#[template(path = "imports/export.html")]
struct ExportPage {
    layout: Layout,
    from: String,
    to: String,
    currency: String,
}
crate::page!(ExportPage);

pub async fn export_page(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let today = ctx.state.today();
    let first = today.replace_day(1).unwrap_or(today);
    render_status(
        StatusCode::OK,
        &ExportPage {
            layout: Layout::for_request(&req, "Export"),
            from: first.to_string(),
            to: today.to_string(),
            currency: ctx.state.config.practice.currency.clone(),
        },
    )
}
