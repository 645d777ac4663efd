//! Supplier pages: the list, one supplier with what they sell us, and the
//! forms to keep both up to date.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::catalog::items;
use crate::catalog::suppliers::{self, Supplier, SupplierInput, SupplierItem, SupplierItemInput};
use crate::catalog::{CatalogError, with_form_errors};
use crate::db::DbError;
use crate::dispatch::{self, Channel, csv_folder, email, webhook, x12};
use crate::domain::Permission;
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::forms::ActiveForm;
use crate::web::forms::money;
use crate::web::render::{Layout, redirect_with_flash, render, render_status};

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

/// The supplier form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SupplierForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    account_number: String,
    #[serde(default)]
    lead_time_days: String,
    #[serde(default)]
    notes: String,
}

impl SupplierForm {
    fn from_supplier(s: &Supplier) -> Self {
        SupplierForm {
            name: s.name.clone(),
            contact_name: s.contact_name.clone(),
            email: s.email.clone(),
            phone: s.phone.clone(),
            account_number: s.account_number.clone(),
            lead_time_days: s.lead_time_days.to_string(),
            notes: s.notes.clone(),
        }
    }

    fn input(&self, errors: &mut FieldErrors) -> SupplierInput {
        let lead_time_days = match self.lead_time_days.trim() {
            "" => 0,
            t => errors
                .check(
                    "lead_time_days",
                    t.parse::<i64>()
                        .map_err(|_| "must be a whole number of days"),
                )
                .unwrap_or(0),
        };
        SupplierInput {
            name: self.name.clone(),
            contact_name: self.contact_name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            account_number: self.account_number.clone(),
            lead_time_days,
            notes: self.notes.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "suppliers/form.html")]
struct FormPage {
    layout: Layout,
    action: String,
    heading: String,
    form: SupplierForm,
    /// (name, label, value, input type) of the one-line fields.
    fields: Vec<(&'static str, &'static str, String, &'static str)>,
    errors: FieldErrors,
}
crate::page!(FormPage);

fn form_page(
    req: &HttpRequest,
    status: StatusCode,
    edit: Option<i64>,
    form: SupplierForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let (action, heading) = match edit {
        Some(id) => (format!("/suppliers/{id}"), format!("Edit {}", form.name)),
        None => ("/suppliers".to_string(), "New supplier".to_string()),
    };
    render_status(
        status,
        &FormPage {
            layout: Layout::for_request(req, heading.clone()),
            action,
            heading,
            fields: vec![
                ("name", "Name", form.name.clone(), "text"),
                (
                    "contact_name",
                    "Contact person",
                    form.contact_name.clone(),
                    "text",
                ),
                ("email", "Order e-mail", form.email.clone(), "email"),
                ("phone", "Phone", form.phone.clone(), "tel"),
                (
                    "account_number",
                    "Our account number",
                    form.account_number.clone(),
                    "text",
                ),
                (
                    "lead_time_days",
                    "Lead time (days)",
                    form.lead_time_days.clone(),
                    "number",
                ),
            ],
            form,
            errors,
        },
    )
}

pub async fn new_form(req: HttpRequest) -> Result<HttpResponse, AppError> {
    form_page(
        &req,
        StatusCode::OK,
        None,
        SupplierForm::default(),
        FieldErrors::default(),
    )
}

pub async fn create(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<SupplierForm>,
) -> Result<HttpResponse, AppError> {
    save(req, ctx, None, f.into_inner()).await
}

pub async fn edit_form(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let s = ctx
        .state
        .db
        .read(move |c| suppliers::get(c, id).map_err(DbError::from))
        .await?
        .ok_or(AppError::NotFound)?;
    form_page(
        &req,
        StatusCode::OK,
        Some(id),
        SupplierForm::from_supplier(&s),
        FieldErrors::default(),
    )
}

pub async fn update(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<SupplierForm>,
) -> Result<HttpResponse, AppError> {
    save(req, ctx, Some(id.into_inner()), f.into_inner()).await
}

async fn save(
    req: HttpRequest,
    ctx: Ctx,
    id: Option<i64>,
    form: SupplierForm,
) -> Result<HttpResponse, AppError> {
    let mut errors = FieldErrors::default();
    let input = form.input(&mut errors);
    let a = ctx.audit();
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            let saved = match id {
                Some(id) => suppliers::update(tx, &a, id, &input),
                None => suppliers::create(tx, &a, &input),
            };
            with_form_errors(errors, saved)
        })
        .await;
    match outcome {
        Ok(s) => Ok(redirect_with_flash(
            &format!("/suppliers/{}", s.id),
            "success",
            &format!("Saved {}.", s.name),
        )),
        Err(CatalogError::Invalid(e)) => {
            form_page(&req, StatusCode::UNPROCESSABLE_ENTITY, id, form, e)
        }
        Err(e) => Err(e.into()),
    }
}

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
}
crate::page!(ShowPage);

/// The "how orders are sent" form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DispatchForm {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    folder: String,
    /// Comma-separated column names; empty for the default layout.
    #[serde(default)]
    columns: String,
    /// Email: the order desk's addresses, and copies.
    #[serde(default)]
    email_to: String,
    #[serde(default)]
    email_cc: String,
    /// Webhook: the endpoint and the signing secret (blank keeps the stored one).
    #[serde(default)]
    url: String,
    #[serde(default)]
    secret: String,
    /// EDI (X12): the two parties' ids, the outbox (`folder`), the inbox, test mode.
    #[serde(default)]
    sender_qualifier: String,
    #[serde(default)]
    sender_id: String,
    #[serde(default)]
    receiver_qualifier: String,
    #[serde(default)]
    receiver_id: String,
    #[serde(default)]
    inbox: String,
    #[serde(default)]
    test: Option<String>,
    /// EDI by email instead of a folder: the supplier's EDI mailbox(es).
    #[serde(default)]
    edi_email_to: String,
}

impl DispatchForm {
    fn from_channel(channel: &Channel) -> Self {
        match channel {
            Channel::Manual => DispatchForm {
                channel: "manual".into(),
                ..DispatchForm::default()
            },
            Channel::CsvFolder(s) => DispatchForm {
                channel: "csv_folder".into(),
                folder: s.folder.clone(),
                columns: s.columns.join(", "),
                ..DispatchForm::default()
            },
            Channel::Email(s) => DispatchForm {
                channel: "email".into(),
                email_to: s.to.join(", "),
                email_cc: s.cc.join(", "),
                ..DispatchForm::default()
            },
            Channel::Webhook(s) => DispatchForm {
                channel: "webhook".into(),
                url: s.url.clone(),
                // Never shown again once saved.
                secret: String::new(),
                ..DispatchForm::default()
            },
            Channel::EdiX12(s) => DispatchForm {
                channel: "edi_x12".into(),
                folder: s.folder.clone(),
                sender_qualifier: s.sender_qualifier.clone(),
                sender_id: s.sender_id.clone(),
                receiver_qualifier: s.receiver_qualifier.clone(),
                receiver_id: s.receiver_id.clone(),
                inbox: s.inbox.clone(),
                test: s.test.then(|| "on".to_string()),
                edi_email_to: s.email_to.join(", "),
                ..DispatchForm::default()
            },
        }
    }

    fn channel(&self) -> Result<Channel, FieldErrors> {
        match self.channel.trim() {
            "manual" => Ok(Channel::Manual),
            "csv_folder" => Ok(Channel::CsvFolder(csv_folder::Settings {
                folder: self.folder.trim().to_string(),
                columns: self
                    .columns
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
            })),
            "email" => Ok(Channel::Email(email::Settings {
                to: email::Settings::split(&self.email_to),
                cc: email::Settings::split(&self.email_cc),
            })),
            "webhook" => Ok(Channel::Webhook(webhook::Settings {
                url: self.url.trim().to_string(),
                secret: self.secret.trim().to_string(),
            })),
            "edi_x12" => {
                let qualifier = |q: &str| match q.trim() {
                    "" => "ZZ".to_string(),
                    q => q.to_ascii_uppercase(),
                };
                Ok(Channel::EdiX12(x12::Settings {
                    sender_qualifier: qualifier(&self.sender_qualifier),
                    sender_id: self.sender_id.trim().to_string(),
                    receiver_qualifier: qualifier(&self.receiver_qualifier),
                    receiver_id: self.receiver_id.trim().to_string(),
                    folder: self.folder.trim().to_string(),
                    inbox: self.inbox.trim().to_string(),
                    test: self.test.is_some(),
                    email_to: email::Settings::split(&self.edi_email_to),
                }))
            }
            _ => Err(FieldErrors::single(
                "channel",
                "must be one of: by hand, CSV file into a folder, email, webhook, EDI (X12)",
            )),
        }
    }
}

/// How orders reach a supplier, as the supplier page says it.
fn channel_text(channel: &Channel) -> String {
    match channel {
        Channel::Manual => "Placed by phone or portal, marked as sent by hand".to_string(),
        Channel::CsvFolder(s) => {
            let columns = if s.columns.is_empty() {
                format!(
                    "the default layout: {}",
                    csv_folder::DEFAULT_COLUMNS.join(", ")
                )
            } else {
                s.columns.join(", ")
            };
            format!("CSV file into folder {} (columns {columns})", s.folder)
        }
        Channel::Email(s) => {
            let cc = if s.cc.is_empty() {
                String::new()
            } else {
                format!(", copy to {}", s.cc.join(", "))
            };
            format!(
                "Email to {}{cc}, with the order as PDF and CSV",
                s.to.join(", ")
            )
        }
        Channel::Webhook(s) => format!("Signed JSON posted to {}", s.url),
        Channel::EdiX12(s) => format!(
            "X12 850 purchase orders{} from {}:{} to {}:{} {}{}",
            if s.test { " (marked as test data)" } else { "" },
            s.sender_qualifier,
            s.sender_id,
            s.receiver_qualifier,
            s.receiver_id,
            if s.email_to.is_empty() {
                format!("into folder {}", s.folder)
            } else {
                format!("by email to {}", s.email_to.join(", "))
            },
            if s.inbox.is_empty() {
                String::new()
            } else {
                format!(
                    "; acknowledgments and ship notices read from folder {}",
                    s.inbox
                )
            }
        ),
    }
}

/// "12.50", "12,50", "12" → 1250 minor units; `None` when not a price.
pub fn parse_price(raw: &str) -> Option<i64> {
    let t = raw.trim().replace(',', ".");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty()
        || whole.len() > 9
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac = format!("{frac:0<2}");
    Some(whole.parse::<i64>().ok()? * 100 + frac.parse::<i64>().ok()?)
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
async fn supplier_page(
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
    let (supplier, lines, credits, channel, last_test) = ctx
        .state
        .db
        .read(move |c| {
            let Some(s) = suppliers::get(c, id)? else {
                return Ok(None);
            };
            Ok::<_, DbError>(Some((
                s,
                suppliers::for_supplier(c, id)?,
                crate::orders::returns::credits(c, Some(id), true)?,
                dispatch::channel_of(c, id)?,
                dispatch::last_test(c, id)?,
            )))
        })
        .await?
        .ok_or(AppError::NotFound)?;
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

/// "Send test": queues a test message through the supplier's channel.
pub async fn send_test(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let (id, a) = (id.into_inner(), ctx.audit());
    let outcome = ctx
        .state
        .db
        .write(move |tx| dispatch::enqueue_test(tx, &a, id))
        .await;
    match outcome {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/suppliers/{id}"),
            "success",
            "Test queued: it goes out through the channel in a moment; its result shows below the settings.",
        )),
        Err(CatalogError::Invalid(e)) => Ok(redirect_with_flash(
            &format!("/suppliers/{id}"),
            "error",
            &e.to_string(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Sets how orders reach the supplier.
pub async fn set_dispatch(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<DispatchForm>,
) -> Result<HttpResponse, AppError> {
    let (id, form, a) = (id.into_inner(), f.into_inner(), ctx.audit());
    let outcome = match form.channel() {
        Ok(channel) => {
            ctx.state
                .db
                .write(move |tx| {
                    let name = suppliers::get(tx, id)?
                        .ok_or(CatalogError::NoSuchSupplier)?
                        .name;
                    dispatch::set_channel(tx, &a, id, &channel).map(|c| (name, c))
                })
                .await
        }
        Err(e) => Err(CatalogError::Invalid(e)),
    };
    match outcome {
        Ok((name, channel)) => Ok(redirect_with_flash(
            &format!("/suppliers/{id}"),
            "success",
            &format!("Orders to {name}: {}.", channel_text(&channel)),
        )),
        Err(CatalogError::Invalid(e)) => {
            // The email fields' inputs are named for the form.
            let e = if form.channel.trim() == "edi_x12" {
                e.renamed("email_to", "edi_email_to")
            } else {
                e.renamed("to", "email_to").renamed("cc", "email_cc")
            };
            supplier_page(
                &req,
                &ctx,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                LineForm::default(),
                FieldErrors::default(),
                Some((form, e)),
            )
            .await
        }
        Err(e) => Err(e.into()),
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

pub async fn set_active(
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<ActiveForm>,
) -> Result<HttpResponse, AppError> {
    let (id, active, a) = (id.into_inner(), f.is_active(), ctx.audit());
    let s = ctx
        .state
        .db
        .write(move |tx| suppliers::set_active(tx, &a, id, active))
        .await?;
    let verb = if active { "Reactivated" } else { "Deactivated" };
    Ok(redirect_with_flash(
        &format!("/suppliers/{id}"),
        "success",
        &format!("{verb} {}.", s.name),
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_price;

    #[test]
    fn prices_take_a_decimal_point_or_comma() {
        assert_eq!(parse_price("12.50"), Some(1250));
        assert_eq!(parse_price("12,5"), Some(1250));
        assert_eq!(parse_price(" 7 "), Some(700));
        assert_eq!(parse_price("0,05"), Some(5));
        for bad in ["", "12.505", "-1", "1,2,3", "12.x", "€12", ".5"] {
            assert_eq!(parse_price(bad), None, "{bad}");
        }
    }
}
