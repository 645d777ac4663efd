//! One supplier's page: what they sell us at which price (with the form
//! adding a line), the credits they still owe, and how orders reach them
//! (its form lives in `web::dispatch::channel`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::catalog::items;
use crate::catalog::suppliers::{self, Supplier, SupplierItem, SupplierItemInput};
use crate::catalog::{CatalogError, with_form_errors};
use crate::dispatch::views::SupplierView;
use crate::dispatch::{self, Channel, csv_folder};
use crate::domain::Permission;
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::dispatch::channel::{DispatchForm, channel_text};
use crate::web::error::AppError;
use crate::web::forms::money;
use crate::web::render::{Layout, redirect_with_flash, render_status};

pub use crate::web::forms::parse_price;

/// A catalogue line as shown, with its price formatted.
struct Line {
    line: SupplierItem,
    price: String,
}

/// The add-a-line form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LineForm {
    /// Our item's code.
    #[serde(default)]
    item: String,
    #[serde(default)]
    supplier_code: String,
    #[serde(default)]
    pack_size: String,
    /// In the practice's currency, "12.50" or "12,50".
    #[serde(default)]
    price: String,
    #[serde(default)]
    preferred: Option<String>,
}

#[derive(Template)]
#[template(path = "suppliers/show.html")]
struct ShowPage {
    layout: Layout,
    supplier: Supplier,
    lines: Vec<Line>,
    currency: String,
    can_manage: bool,
    /// Changing where orders go is an administrator's action.
    can_set_channel: bool,
    form: LineForm,
    errors: FieldErrors,
    /// Credits this supplier still owes, and their total.
    open_credits: Vec<crate::web::purchasing::returns::CreditRow>,
    open_total: String,
    /// May record a return to them.
    can_return: bool,
    /// How orders reach them, in words.
    channel_text: String,
    /// The sending form, as saved or as typed.
    dispatch: DispatchForm,
    dispatch_errors: FieldErrors,
    /// The columns a CSV file may have, and the default layout.
    all_columns: String,
    default_columns: String,
    /// The newest "send test" of the channel, in words, and whether it failed.
    last_test: Option<(String, bool)>,
    /// A webhook secret is stored (it is never shown).
    secret_stored: bool,
    /// The saved channel can be tested (not by hand).
    can_test: bool,
    /// What is wrong with the channel's folders (a link, a file), in words.
    folder_problems: Vec<String>,
}
crate::page!(ShowPage);

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
        LineForm::default(),
        FieldErrors::default(),
    )
    .await
}

async fn show_page(
    req: &HttpRequest,
    ctx: &Ctx,
    id: i64,
    status: StatusCode,
    form: LineForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    supplier_page(req, ctx, id, status, form, errors, None).await
}

/// The supplier page; `dispatch` is the sending form as typed, with its
/// errors, when it was refused.
pub(crate) async fn supplier_page(
    req: &HttpRequest,
    ctx: &Ctx,
    id: i64,
    status: StatusCode,
    form: LineForm,
    errors: FieldErrors,
    dispatch: Option<(DispatchForm, FieldErrors)>,
) -> Result<HttpResponse, AppError> {
    let can_manage = ctx.user()?.role.may(Permission::ManageCatalog);
    let can_return = ctx.user()?.role.may(Permission::ManageOrders);
    let can_set_channel = ctx.user()?.role.may(Permission::ManageSettings);
    let SupplierView {
        supplier,
        lines,
        open_credits: credits,
        channel,
        last_test,
    } = ctx
        .state
        .db
        .read(move |c| dispatch::views::supplier(c, id))
        .await?
        .ok_or(AppError::NotFound)?;
    // The folder root may be a network share: looked at off the request thread.
    let (c, root) = (
        channel.clone(),
        ctx.state.config.dispatch.folder_root.clone(),
    );
    let folder_problems =
        crate::db::run_blocking(move || dispatch::channel_folder_problems(&c, &root)).await;
    render_status(
        status,
        &ShowPage {
            layout: Layout::for_request(req, supplier.name.clone()),
            supplier,
            lines: lines
                .into_iter()
                .map(|l| Line {
                    price: money(l.price_minor),
                    line: l,
                })
                .collect(),
            currency: ctx.state.config.practice.currency.clone(),
            can_manage,
            can_set_channel,
            form,
            errors,
            open_total: money(credits.iter().map(|c| c.expected_minor).sum::<i64>()),
            open_credits: credits
                .into_iter()
                .map(crate::web::purchasing::returns::CreditRow::new)
                .collect(),
            can_return,
            channel_text: channel_text(&channel),
            dispatch: dispatch
                .as_ref()
                .map_or_else(|| DispatchForm::from_channel(&channel), |(f, _)| f.clone()),
            dispatch_errors: dispatch.map(|(_, e)| e).unwrap_or_default(),
            all_columns: csv_folder::COLUMNS.join(", "),
            default_columns: csv_folder::DEFAULT_COLUMNS.join(", "),
            last_test: last_test.map(|job| test_text(&job)),
            secret_stored: matches!(channel, Channel::Webhook(_)),
            can_test: channel != Channel::Manual,
            folder_problems,
        },
    )
}

/// The newest test in words: (text, failed).
fn test_text(job: &crate::jobs::Job) -> (String, bool) {
    use crate::jobs::JobState as S;
    let at = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| crate::domain::Timestamp::parse(t).ok())
            .map(|t| t.human())
            .unwrap_or_default()
    };
    match job.state {
        S::Queued | S::Failed | S::Running => (
            "Test being sent… reload the page in a moment to see how it went.".into(),
            false,
        ),
        S::Succeeded => (
            format!("Last test sent successfully {}.", at(&job.finished_at)),
            false,
        ),
        S::Dead | S::Cancelled => (
            format!(
                "Last test failed {}: {}",
                at(&job.finished_at),
                if job.last_error.is_empty() {
                    "no reason recorded"
                } else {
                    &job.last_error
                }
            ),
            true,
        ),
    }
}

pub async fn add_line(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<LineForm>,
) -> Result<HttpResponse, AppError> {
    let (id, form) = (id.into_inner(), f.into_inner());
    let mut errors = FieldErrors::default();
    let pack_size = errors
        .check(
            "pack_size",
            form.pack_size
                .trim()
                .parse::<i64>()
                .map_err(|_| "must be a whole number of stocking units"),
        )
        .unwrap_or(1);
    let price_minor = errors
        .check(
            "price",
            parse_price(&form.price).ok_or("must be an amount such as 12.50 or 12,50"),
        )
        .unwrap_or(0);
    let currency = ctx.state.config.practice.currency.clone();
    let (a, f) = (ctx.audit(), form.clone());
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            let item = items::find_by_code(tx, &f.item)?;
            if item.is_none() {
                errors.add("item", "no active item has this code");
            }
            let input = SupplierItemInput {
                supplier_id: id,
                item_id: item.map(|i| i.id).unwrap_or(0),
                supplier_code: f.supplier_code.clone(),
                pack_size,
                price_minor,
                currency: String::new(),
                preferred: f.preferred.is_some(),
            };
            // Everything at once: ours, then the service's own checks (its
            // "item_id" is our "item").
            let mut created = suppliers::create_item(tx, &a, &input, &currency);
            if let Err(CatalogError::Invalid(e)) = &mut created {
                e.0.retain(|x| x.field != "item_id");
                // The service counts cents; the form shows an amount.
                for x in e.0.iter_mut().filter(|x| x.field == "price_minor") {
                    x.field = "price".into();
                    x.message = "must be at most 1000000.00".into();
                }
            }
            with_form_errors(errors, created)
        })
        .await;
    match outcome {
        Ok(line) => Ok(redirect_with_flash(
            &format!("/suppliers/{id}"),
            "success",
            &format!("Added {} ({}).", line.item_name, line.supplier_code),
        )),
        Err(CatalogError::Invalid(e)) => {
            show_page(&req, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, form, e).await
        }
        Err(e) => Err(e.into()),
    }
}
