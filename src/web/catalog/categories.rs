//! The categories page: the list, adding one, and renaming or closing a
//! category in its own row (a refused rename shows on that row, not in
//! the new-category form).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::catalog::CatalogError;
use crate::catalog::categories::{self, Category};
use crate::db::DbError;
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render_status};

#[derive(Template)]
#[template(path = "locations/categories.html")]
struct CategoriesPage {
    layout: Layout,
    categories: Vec<Category>,
    name: String,
    /// A rename that was refused: the category and the name typed.
    editing: Option<(i64, String)>,
    errors: FieldErrors,
}

impl CategoriesPage {
    /// What a row's name field shows: the refused name on its row.
    fn row_name<'a>(&'a self, c: &'a Category) -> &'a str {
        match &self.editing {
            Some((id, typed)) if *id == c.id => typed,
            _ => &c.name,
        }
    }
}

/// A category row's name field (and its errors' key).
pub(crate) fn category_field(id: i64) -> String {
    format!("cat-name-{id}")
}
crate::page!(CategoriesPage);

async fn categories_page(
    req: &HttpRequest,
    ctx: &Ctx,
    status: StatusCode,
    name: String,
    editing: Option<(i64, String)>,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let list = ctx
        .state
        .db
        .read(|c| categories::list(c).map_err(DbError::from))
        .await?;
    render_status(
        status,
        &CategoriesPage {
            layout: Layout::for_request(req, "Categories"),
            categories: list,
            name,
            editing,
            errors,
        },
    )
}

pub async fn list(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    categories_page(
        &req,
        &ctx,
        StatusCode::OK,
        String::new(),
        None,
        FieldErrors::default(),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    active: Option<String>,
}

pub async fn create(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<CategoryForm>,
) -> Result<HttpResponse, AppError> {
    let (name, a) = (f.name.clone(), ctx.audit());
    let n2 = name.clone();
    match ctx
        .state
        .db
        .write(move |tx| categories::create(tx, &a, &n2))
        .await
    {
        Ok(c) => Ok(redirect_with_flash(
            "/categories",
            "success",
            &format!("Created {}.", c.name),
        )),
        Err(CatalogError::Invalid(e)) => {
            categories_page(&req, &ctx, StatusCode::UNPROCESSABLE_ENTITY, name, None, e).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn update(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<CategoryForm>,
) -> Result<HttpResponse, AppError> {
    let (id, a) = (id.into_inner(), ctx.audit());
    let (name, active) = (f.name.clone(), f.active.is_some());
    let typed = name.clone();
    match ctx
        .state
        .db
        .write(move |tx| categories::update(tx, &a, id, &name, active))
        .await
    {
        Ok(c) => Ok(redirect_with_flash(
            "/categories",
            "success",
            &format!("Saved {}.", c.name),
        )),
        Err(CatalogError::Invalid(e)) => {
            // The row's own field, not the new-category form's `name`.
            categories_page(
                &req,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                String::new(),
                Some((id, typed)),
                e.renamed("name", &category_field(id)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
