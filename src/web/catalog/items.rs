//! The item list: search, filters, sort and pages; a scanned barcode in
//! the search box goes straight to its item or offers to create or attach
//! one. The item page, the item forms and attaching a barcode live beside
//! it (`item.rs`, `item_form.rs`, `attach.rs`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::catalog::categories::{self, Category};
use crate::catalog::items::{self};
use crate::catalog::locations;
use crate::db::DbError;
use crate::domain::Permission;
use crate::domain::barcode::{self, PackCode};
use crate::stock::overview::{self, Filter, ItemSummary, Sort};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect, render_status};

pub const PER_PAGE: u32 = 50;

/// The list's query string, as typed; parsed with errors shown on the page.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub low: String,
    /// Days ahead: "", "0" (expired), "30", "90" …
    #[serde(default)]
    pub expiring: String,
    #[serde(default)]
    pub inactive: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub page: String,
}

impl ListQuery {
    fn parse(&self, today: time::Date) -> Result<(Filter, u32), FieldErrors> {
        let mut errors = FieldErrors::default();
        let id = |errors: &mut FieldErrors, field: &str, raw: &str| match raw.trim() {
            "" => None,
            t => errors.check(
                field,
                t.parse::<i64>().map_err(|_| "is not one of the choices"),
            ),
        };
        let category_id = id(&mut errors, "category", &self.category);
        let location_id = id(&mut errors, "location", &self.location);
        let expiring_by = match self.expiring.trim() {
            "" => None,
            t => errors
                .check(
                    "expiring",
                    t.parse::<u16>()
                        .ok()
                        .filter(|d| *d <= 3650)
                        .ok_or("must be a number of days from 0 to 3650"),
                )
                // 0 is "already expired": stock expiring today is usable.
                .map(|d| today + time::Duration::days(i64::from(d).max(0) - i64::from(d == 0))),
        };
        let sort = match self.sort.trim() {
            "" | "name" => Sort::Name,
            "code" => Sort::Code,
            "on_hand" => Sort::OnHand,
            "expiry" => Sort::Expiry,
            _ => {
                errors.add("sort", "must be name, code, on_hand or expiry");
                Sort::Name
            }
        };
        let page = crate::web::forms::page_number(&mut errors, &self.page);
        errors.into_result()?;
        Ok((
            Filter {
                q: self.q.clone(),
                category_id,
                location_id,
                low: !self.low.is_empty(),
                expiring_by,
                include_inactive: !self.inactive.is_empty(),
                sort,
            },
            page,
        ))
    }

    /// This query on another page.
    fn with_page(&self, page: u32) -> String {
        let q = ListQuery {
            page: if page == 1 {
                String::new()
            } else {
                page.to_string()
            },
            ..self.clone()
        };
        crate::web::forms::query_link(
            "/items",
            &[
                ("q", q.q.as_str()),
                ("category", &q.category),
                ("location", &q.location),
                ("low", &q.low),
                ("expiring", &q.expiring),
                ("inactive", &q.inactive),
                ("sort", &q.sort),
                ("page", &q.page),
            ],
        )
    }
}

/// A barcode in the search box that names no item.
struct UnknownCode {
    /// `gtin=…` for the links that create or attach (a HIBCC code's `+`
    /// needs escaping).
    query: String,
    display: String,
}

#[derive(Template)]
#[template(path = "items/list.html")]
struct ListPage {
    layout: Layout,
    query: ListQuery,
    rows: Vec<ItemSummary>,
    total: i64,
    page: u32,
    pages: u32,
    prev: Option<String>,
    next: Option<String>,
    categories: Vec<Category>,
    locations: Vec<(i64, String)>,
    errors: FieldErrors,
    unknown: Option<UnknownCode>,
    can_manage: bool,
    today: String,
    soon: String,
}
crate::page!(ListPage);

pub async fn list(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = q.into_inner();
    let today = ctx.state.today();
    let can_manage = ctx.user()?.role.may(Permission::ManageCatalog);
    let actor = ctx.actor();
    let (filter, page, errors) = match query.parse(today) {
        Ok((f, p)) => (f, p, FieldErrors::default()),
        Err(e) => (Filter::default(), 1, e),
    };
    // A scanned barcode: straight to its item, or offer to create or attach.
    let scanned = barcode::parse(&query.q, today.year())
        .ok()
        .filter(|_| !query.q.trim().is_empty())
        .and_then(|s| PackCode::of(&s));
    let mut unknown = None;
    if let Some(code) = scanned {
        let c = code.clone();
        let pack = ctx
            .state
            .db
            .read(move |conn| items::find_by_pack_code(conn, &c).map_err(DbError::from))
            .await?;
        match pack {
            Some(p) => return Ok(redirect(&format!("/items/{}", p.item_id))),
            None => {
                unknown = Some(UnknownCode {
                    query: serde_urlencoded::to_string([("gtin", code.key())]).unwrap_or_default(),
                    display: code.display(),
                })
            }
        }
    }
    let offset = (page - 1) * PER_PAGE;
    let search = ctx.state.search.clone();
    let (rows, total, categories, locs) = ctx
        .state
        .db
        .read(move |c| {
            let locs = locations::usable_with_paths(c, &actor)?;
            let allowed = locs.iter().map(|(l, _)| l.id).collect();
            let (rows, total) = overview::list(c, &search, &filter, &allowed, PER_PAGE, offset)?;
            let locs = locs.into_iter().map(|(l, p)| (l.id, p)).collect();
            Ok::<_, DbError>((rows, total, categories::list(c)?, locs))
        })
        .await?;
    let pages = (total.max(1) as u32).div_ceil(PER_PAGE);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(
        status,
        &ListPage {
            layout: Layout::for_request(&req, "Items"),
            prev: (page > 1).then(|| query.with_page(page - 1)),
            next: (page < pages).then(|| query.with_page(page + 1)),
            query,
            rows,
            total,
            page,
            pages,
            categories,
            locations: locs,
            errors,
            unknown,
            can_manage,
            today: today.to_string(),
            soon: (today + time::Duration::days(30)).to_string(),
        },
    )
}
