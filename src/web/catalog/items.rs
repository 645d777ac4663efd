//! The item list (search, filters, sort, pages), the item page, and the
//! catalog forms: new item, edit, packs, reorder points, attaching a
//! scanned GTIN nobody knows yet.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::catalog::categories::{self, Category};
use crate::catalog::items::{self, Item, ItemInput, Pack};
use crate::catalog::locations;
use crate::catalog::suppliers::{self, SupplierItem};
use crate::catalog::{CatalogError, with_form_errors};
use crate::db::DbError;
use crate::domain::Permission;
use crate::domain::barcode::{self, PackCode, hibcc};
use crate::stock::overview::{self, Filter, ItemSummary, Sort};
use crate::stock::{self, Movement};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::forms::ActiveForm;
use crate::web::render::{Layout, redirect, redirect_with_flash, render_status};

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
    let user = ctx.user()?.clone();
    let can_manage = user.role.may(Permission::ManageCatalog);
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
            let locs = locations::list_accessible_with_paths(c, user.id, user.role)?;
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

/// One stock row on the item page.
struct StockRow {
    location: String,
    lot: String,
    expiry: String,
    quantity: i64,
    quarantined: i64,
    expired: bool,
}

struct TargetRow {
    location: String,
    reorder_point: i64,
    par_level: i64,
    on_hand: i64,
}

struct MovementRow {
    m: Movement,
    location: String,
    user: String,
}

#[derive(Template)]
#[template(path = "items/show.html")]
struct ShowPage {
    layout: Layout,
    item: Item,
    category: Option<String>,
    packs: Vec<Pack>,
    stock: Vec<StockRow>,
    on_hand: i64,
    targets: Vec<TargetRow>,
    suppliers: Vec<SupplierItem>,
    movements: Vec<MovementRow>,
    locations: Vec<(i64, String)>,
    can_manage: bool,
    can_move: bool,
    errors: FieldErrors,
    /// What was typed into a refused pack or reorder-point form, by field id.
    typed: HashMap<&'static str, String>,
}
crate::page!(ShowPage);

impl ShowPage {
    fn typed(&self, field: &str) -> &str {
        self.typed.get(field).map_or("", String::as_str)
    }
}

pub async fn show(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    show_page(
        &req,
        &ctx,
        id.into_inner(),
        StatusCode::OK,
        FieldErrors::default(),
        HashMap::new(),
    )
    .await
}

async fn show_page(
    req: &HttpRequest,
    ctx: &Ctx,
    id: i64,
    status: StatusCode,
    errors: FieldErrors,
    typed: HashMap<&'static str, String>,
) -> Result<HttpResponse, AppError> {
    let user = ctx.user()?.clone();
    let today = ctx.state.today().to_string();
    let role = user.role;
    let layout = Layout::for_request(req, "Item");
    let page = ctx
        .state
        .db
        .read(move |c| {
            let Some(item) = items::get(c, id)? else {
                return Ok(None);
            };
            let locs = locations::list_accessible_with_paths(c, user.id, user.role)?;
            let allowed = locs.iter().map(|(l, _)| l.id).collect();
            let paths: HashMap<i64, String> = locs.iter().map(|(l, p)| (l.id, p.clone())).collect();
            let path = |id: i64| paths.get(&id).cloned().unwrap_or_default();
            let levels = stock::levels(c, Some(id), &allowed)?;
            let on_hand = levels.iter().map(|l| l.quantity).sum();
            let mut per_location: HashMap<i64, i64> = HashMap::new();
            for l in &levels {
                *per_location.entry(l.location_id).or_default() += l.quantity - l.quarantined;
            }
            let stock_rows = levels
                .into_iter()
                .map(|l| StockRow {
                    location: path(l.location_id),
                    expired: !l.expiry.is_empty() && l.expiry < today,
                    lot: l.lot,
                    expiry: l.expiry,
                    quantity: l.quantity,
                    quarantined: l.quarantined,
                })
                .collect();
            let targets = items::targets(c, id)?
                .into_iter()
                .filter(|t| allowed.contains(&t.location_id))
                .map(|t| TargetRow {
                    location: path(t.location_id),
                    reorder_point: t.reorder_point,
                    par_level: t.par_level,
                    on_hand: per_location.get(&t.location_id).copied().unwrap_or(0),
                })
                .collect();
            let (moves, _) = stock::movements(c, Some(id), &allowed, 20, 0)?;
            let mut names: HashMap<i64, String> = HashMap::new();
            let mut stmt = c.prepare_cached("SELECT display_name FROM users WHERE id = ?1")?;
            let mut movements = Vec::new();
            for m in moves {
                let user = match m.user_id {
                    Some(u) => match names.get(&u) {
                        Some(n) => n.clone(),
                        None => {
                            let n: String = stmt.query_row([u], |r| r.get(0))?;
                            names.insert(u, n.clone());
                            n
                        }
                    },
                    None => "system".into(),
                };
                movements.push(MovementRow {
                    location: path(m.location_id),
                    user,
                    m,
                });
            }
            let category = match item.category_id {
                Some(cid) => categories::get(c, cid)?.map(|c| c.name),
                None => None,
            };
            Ok::<_, DbError>(Some(ShowPage {
                layout: Layout {
                    title: item.name.clone(),
                    ..layout
                },
                category,
                packs: items::packs(c, id)?,
                stock: stock_rows,
                on_hand,
                targets,
                suppliers: suppliers::for_item(c, id)?,
                movements,
                locations: locs
                    .into_iter()
                    .filter(|(l, _)| l.active)
                    .map(|(l, p)| (l.id, p))
                    .collect(),
                can_manage: role.may(Permission::ManageCatalog),
                can_move: role.may(Permission::MoveStock) && item.active,
                errors: FieldErrors::default(),
                typed: HashMap::new(),
                item,
            }))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    render_status(
        status,
        &ShowPage {
            errors,
            typed,
            ..page
        },
    )
}

/// The item form's fields as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ItemForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    category_id: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    lot_tracked: Option<String>,
    #[serde(default)]
    expiry_tracked: Option<String>,
    #[serde(default)]
    notes: String,
    /// New items only: a GTIN to give it (from an unknown scan).
    #[serde(default)]
    gtin: String,
    /// How many stocking units that GTIN stands for.
    #[serde(default)]
    gtin_quantity: String,
}

impl ItemForm {
    fn from_item(i: &Item) -> Self {
        ItemForm {
            code: i.code.clone(),
            name: i.name.clone(),
            category_id: i.category_id.map(|c| c.to_string()).unwrap_or_default(),
            unit: i.unit.clone(),
            lot_tracked: i.lot_tracked.then(|| "on".into()),
            expiry_tracked: i.expiry_tracked.then(|| "on".into()),
            notes: i.notes.clone(),
            ..Default::default()
        }
    }

    fn input(&self, errors: &mut FieldErrors) -> ItemInput {
        let category_id = match self.category_id.trim() {
            "" => None,
            t => errors.check(
                "category_id",
                t.parse::<i64>().map_err(|_| "is not one of the choices"),
            ),
        };
        ItemInput {
            code: self.code.clone(),
            name: self.name.clone(),
            category_id,
            unit: self.unit.clone(),
            lot_tracked: self.lot_tracked.is_some(),
            expiry_tracked: self.expiry_tracked.is_some(),
            notes: self.notes.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "items/form.html")]
struct FormPage {
    layout: Layout,
    action: String,
    heading: String,
    is_new: bool,
    form: ItemForm,
    categories: Vec<Category>,
    errors: FieldErrors,
}
crate::page!(FormPage);

async fn form_page(
    req: &HttpRequest,
    ctx: &Ctx,
    status: StatusCode,
    edit: Option<i64>,
    form: ItemForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let categories = ctx
        .state
        .db
        .read(|c| categories::list(c).map_err(DbError::from))
        .await?
        .into_iter()
        .filter(|c| c.active || Some(c.id.to_string()) == Some(form.category_id.clone()))
        .collect();
    let (action, heading) = match edit {
        Some(id) => (format!("/items/{id}"), format!("Edit {}", form.name)),
        None => ("/items".to_string(), "New item".to_string()),
    };
    render_status(
        status,
        &FormPage {
            layout: Layout::for_request(req, heading.clone()),
            action,
            heading,
            is_new: edit.is_none(),
            form,
            categories,
            errors,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    gtin: Option<String>,
}

pub async fn new_form(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    let form = ItemForm {
        gtin: q.gtin.clone().unwrap_or_default(),
        gtin_quantity: "1".into(),
        unit: "each".into(),
        ..Default::default()
    };
    form_page(
        &req,
        &ctx,
        StatusCode::OK,
        None,
        form,
        FieldErrors::default(),
    )
    .await
}

pub async fn create(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<ItemForm>,
) -> Result<HttpResponse, AppError> {
    let form = f.into_inner();
    let mut errors = FieldErrors::default();
    let input = form.input(&mut errors);
    let gtin = form.gtin.trim().to_string();
    let year = ctx.state.today().year();
    let quantity = if gtin.is_empty() {
        1
    } else {
        errors
            .check(
                "gtin_quantity",
                form.gtin_quantity
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|q| (1..=1_000_000).contains(q))
                    .ok_or("must be a whole number from 1 to 1000000"),
            )
            .unwrap_or(1)
    };
    let a = ctx.audit();
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            // Check the barcode with the other fields, so every problem
            // shows.
            let mut code = None;
            if !gtin.is_empty() {
                match PackCode::parse(&gtin, year) {
                    Ok(g) => {
                        if let Some(p) = items::find_by_pack_code(tx, &g)? {
                            let owner = items::get(tx, p.item_id)?
                                .map(|i| i.name)
                                .unwrap_or_default();
                            errors.add("gtin", format!("is already used by {owner}"));
                        }
                        code = Some(g);
                    }
                    Err(e) => errors.add("gtin", e),
                }
            }
            let item = match items::create(tx, &a, &input) {
                Ok(item) => item,
                Err(CatalogError::Invalid(mut e)) => {
                    e.0.extend(errors.0);
                    return Err(CatalogError::Invalid(e));
                }
                Err(e) => return Err(e),
            };
            errors.into_result()?;
            if let Some(code) = code {
                items::attach_code(tx, &a, item.id, &code, quantity)?;
            }
            Ok(item)
        })
        .await;
    match outcome {
        Ok(item) => Ok(redirect_with_flash(
            &format!("/items/{}", item.id),
            "success",
            &format!("Created {}.", item.name),
        )),
        Err(CatalogError::Invalid(errors)) => {
            form_page(
                &req,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                form,
                errors,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn edit_form(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let item = ctx
        .state
        .db
        .read(move |c| items::get(c, id).map_err(DbError::from))
        .await?
        .ok_or(AppError::NotFound)?;
    let form = ItemForm::from_item(&item);
    form_page(
        &req,
        &ctx,
        StatusCode::OK,
        Some(id),
        form,
        FieldErrors::default(),
    )
    .await
}

pub async fn update(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<ItemForm>,
) -> Result<HttpResponse, AppError> {
    let (id, form) = (id.into_inner(), f.into_inner());
    let mut errors = FieldErrors::default();
    let input = form.input(&mut errors);
    let a = ctx.audit();
    let outcome = ctx
        .state
        .db
        .write(move |tx| with_form_errors(errors, items::update(tx, &a, id, &input)))
        .await;
    match outcome {
        Ok(item) => Ok(redirect_with_flash(
            &format!("/items/{id}"),
            "success",
            &format!("Saved {}.", item.name),
        )),
        Err(CatalogError::Invalid(errors)) => {
            form_page(
                &req,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(id),
                form,
                errors,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn set_active(
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<ActiveForm>,
) -> Result<HttpResponse, AppError> {
    let (id, active, a) = (id.into_inner(), f.is_active(), ctx.audit());
    let item = ctx
        .state
        .db
        .write(move |tx| items::set_active(tx, &a, id, active))
        .await?;
    let verb = if active { "Reactivated" } else { "Deactivated" };
    Ok(redirect_with_flash(
        &format!("/items/{id}"),
        "success",
        &format!("{verb} {}.", item.name),
    ))
}

#[derive(Debug, Deserialize)]
pub struct PackForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    gtin: String,
}

pub async fn add_pack(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<PackForm>,
) -> Result<HttpResponse, AppError> {
    let (id, f, a) = (id.into_inner(), f.into_inner(), ctx.audit());
    let quantity = f.quantity.trim().parse::<i64>().unwrap_or(0);
    let typed = HashMap::from([
        ("pack_name", f.name.clone()),
        ("pack_quantity", f.quantity.clone()),
        ("pack_gtin", f.gtin.clone()),
    ]);
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            // One barcode field: a GTIN, or a HIBCC label (they start
            // with `+`).
            let code = f.gtin.trim();
            let codes = if hibcc::looks_like_hibcc(code) {
                items::PackCodes {
                    gtin: None,
                    hibcc: Some(code),
                }
            } else {
                items::PackCodes {
                    gtin: Some(code),
                    hibcc: None,
                }
            };
            items::add_pack(tx, &a, id, &f.name, quantity, codes)
        })
        .await
        .map_err(|e| match e {
            CatalogError::Invalid(f) => CatalogError::Invalid(f.renamed("hibcc", "gtin")),
            e => e,
        });
    match outcome {
        Ok(p) => Ok(redirect_with_flash(
            &format!("/items/{id}"),
            "success",
            &format!("Added the pack {} ({} units).", p.name, p.quantity),
        )),
        Err(CatalogError::Invalid(e)) => {
            show_page(
                &req,
                &ctx,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                prefix(e, "pack_"),
                typed,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Field names of a form that shares the item page with others.
fn prefix(e: FieldErrors, p: &str) -> FieldErrors {
    FieldErrors(
        e.0.into_iter()
            .map(|mut f| {
                f.field = format!("{p}{}", f.field);
                f
            })
            .collect(),
    )
}

#[derive(Debug, Deserialize)]
pub struct TargetForm {
    #[serde(default)]
    location_id: String,
    #[serde(default)]
    reorder_point: String,
    #[serde(default)]
    par_level: String,
}

pub async fn set_target(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<TargetForm>,
) -> Result<HttpResponse, AppError> {
    let (id, f, a) = (id.into_inner(), f.into_inner(), ctx.audit());
    let user = ctx.user()?.clone();
    let typed = HashMap::from([
        ("target_location_id", f.location_id.clone()),
        ("target_reorder_point", f.reorder_point.clone()),
        ("target_par_level", f.par_level.clone()),
    ]);
    let mut errors = FieldErrors::default();
    let number = |errors: &mut FieldErrors, field: &str, raw: &str| {
        errors.check(
            field,
            raw.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=1_000_000).contains(n))
                .ok_or("must be a whole number from 0 to 1000000"),
        )
    };
    let location = errors.check(
        "location_id",
        f.location_id
            .trim()
            .parse::<i64>()
            .map_err(|_| "choose a location"),
    );
    let reorder = number(&mut errors, "reorder_point", &f.reorder_point);
    let par = number(&mut errors, "par_level", &f.par_level);
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            if let Some(l) = location
                && !locations::may_use(tx, user.id, user.role, l)?
            {
                errors.add("location_id", "you may not use this location");
            }
            errors.into_result()?;
            items::set_target(
                tx,
                &a,
                id,
                location.expect("checked"),
                reorder.expect("checked"),
                par.expect("checked"),
            )
        })
        .await;
    match outcome {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/items/{id}"),
            "success",
            "Saved the reorder point.",
        )),
        Err(CatalogError::Invalid(e)) => {
            show_page(
                &req,
                &ctx,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                prefix(e, "target_"),
                typed,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "items/attach.html")]
struct AttachPage {
    layout: Layout,
    gtin: String,
    display: String,
    form: AttachForm,
    errors: FieldErrors,
}
crate::page!(AttachPage);

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AttachForm {
    #[serde(default)]
    gtin: String,
    /// The item's code.
    #[serde(default)]
    item: String,
    #[serde(default)]
    quantity: String,
}

async fn attach_page(
    req: &HttpRequest,
    status: StatusCode,
    form: AttachForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    // Any year will do: only the code's identity is shown.
    let display = PackCode::parse(&form.gtin, 2000)
        .map(|c| c.display())
        .unwrap_or_else(|_| form.gtin.clone());
    render_status(
        status,
        &AttachPage {
            layout: Layout::for_request(req, "Attach a barcode"),
            gtin: form.gtin.clone(),
            display,
            form,
            errors,
        },
    )
}

pub async fn attach_form(
    req: HttpRequest,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    let form = AttachForm {
        gtin: q.gtin.clone().unwrap_or_default(),
        quantity: "1".into(),
        ..Default::default()
    };
    attach_page(&req, StatusCode::OK, form, FieldErrors::default()).await
}

pub async fn attach(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<AttachForm>,
) -> Result<HttpResponse, AppError> {
    let form = f.into_inner();
    let year = ctx.state.today().year();
    let mut errors = FieldErrors::default();
    let quantity = errors.check(
        "quantity",
        form.quantity
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|q| (1..=1_000_000).contains(q))
            .ok_or("must be a whole number from 1 to 1000000"),
    );
    let a = ctx.audit();
    let f = form.clone();
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            let item = items::find_by_code(tx, &f.item)?;
            if item.is_none() {
                errors.add("item", "no active item has this code");
            }
            let code = errors.check("gtin", PackCode::parse(&f.gtin, year));
            errors.into_result()?;
            let item = item.expect("checked");
            let code = code.expect("checked");
            items::attach_code(tx, &a, item.id, &code, quantity.expect("checked"))?;
            Ok::<_, CatalogError>(item)
        })
        .await;
    match outcome {
        Ok(item) => Ok(redirect_with_flash(
            &format!("/items/{}", item.id),
            "success",
            &format!("The barcode now means {}.", item.name),
        )),
        Err(CatalogError::Invalid(e)) => {
            attach_page(&req, StatusCode::UNPROCESSABLE_ENTITY, form, e).await
        }
        Err(e) => Err(e.into()),
    }
}
