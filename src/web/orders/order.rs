//! Purchase order pages: the list, a new draft, the order page (draft
//! editing, approval, sending, confirmation, closing, cancelling), the
//! printable order, reorder suggestions and the approval queue. Every change
//! goes through the same `orders` service functions as the API, so a page
//! can never do what the state machine refuses.

use std::collections::HashSet;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::users::User;
use crate::catalog::locations;
use crate::catalog::suppliers::{self, Supplier, SupplierItem};
use crate::db::DbError;
use crate::dispatch::{self, Channel};
use crate::domain::order::{Action, OrderState};
use crate::domain::{Permission, Timestamp};
use crate::jobs::{Job, JobState};
use crate::orders::lifecycle::{self, ActInput, LineChange, LineInput, NewOrder};
use crate::orders::suggest::{self, SupplierGroup};
use crate::orders::{self, Filter, Order, OrderDetail, OrdersError, Who, rules};
use crate::practice::{self, Practice};
use crate::validation::{FieldErrors, capitalised};
use crate::web::context::Ctx;
use crate::web::dispatch::edi_inbox::AnswerView;
use crate::web::error::AppError;
use crate::web::forms::money;
use crate::web::render::{Flash, Layout, redirect_with_flash, render, render_status};

pub const PER_PAGE: u32 = 50;

/// A stored instant as pages show it; the raw text if it does not parse.
fn when(at: &str) -> String {
    Timestamp::parse(at).map_or_else(|_| at.to_string(), Timestamp::human)
}

/// An optional stored instant as pages show it; empty when absent.
fn when_opt(at: &Option<String>) -> String {
    at.as_deref().map(when).unwrap_or_default()
}

/// A form field holding an id: `None` when empty, an error when not a number.
fn parse_id(errors: &mut FieldErrors, field: &str, raw: &str, what: &str) -> Option<i64> {
    match raw.trim() {
        "" => None,
        t => errors.check(field, t.parse::<i64>().map_err(|_| what.to_string())),
    }
}

// ---------------------------------------------------------------- the list

/// The list's query string, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub supplier: String,
    #[serde(default)]
    pub overdue: String,
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub page: String,
}

impl ListQuery {
    fn parse(&self) -> Result<(Filter, u32), FieldErrors> {
        let mut errors = FieldErrors::default();
        let states = match self.state.trim() {
            "" => Vec::new(),
            t => match OrderState::parse(t) {
                Some(s) => vec![s],
                None => {
                    errors.add("state", "is not one of the choices");
                    Vec::new()
                }
            },
        };
        let supplier_id = parse_id(
            &mut errors,
            "supplier",
            &self.supplier,
            "is not one of the choices",
        );
        let page = crate::web::forms::page_number(&mut errors, &self.page);
        if self.number.chars().count() > 100 {
            errors.add("number", "must be at most 100 characters");
        }
        errors.into_result()?;
        Ok((
            Filter {
                states,
                supplier_id,
                overdue: !self.overdue.is_empty(),
                number: self.number.trim().to_string(),
            },
            page,
        ))
    }

    /// This query on another page.
    fn with_page(&self, page: u32) -> String {
        let page = if page == 1 {
            String::new()
        } else {
            page.to_string()
        };
        crate::web::forms::query_link(
            "/orders",
            &[
                ("state", self.state.as_str()),
                ("supplier", &self.supplier),
                ("overdue", &self.overdue),
                ("number", &self.number),
                ("page", &page),
            ],
        )
    }
}

struct OrderRow {
    order: Order,
    total: String,
}

impl OrderRow {
    fn of(order: Order) -> Self {
        OrderRow {
            total: money(order.total_minor),
            order,
        }
    }
}

#[derive(Template)]
#[template(path = "orders/list.html")]
struct ListPage {
    layout: Layout,
    query: ListQuery,
    rows: Vec<OrderRow>,
    total: i64,
    page: u32,
    pages: u32,
    prev: Option<String>,
    next: Option<String>,
    suppliers: Vec<Supplier>,
    states: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
    currency: String,
    can_request: bool,
    can_approve: bool,
    waiting: usize,
}
crate::page!(ListPage);

pub async fn list(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = q.into_inner();
    let user = ctx.user()?.clone();
    let today = ctx.state.today();
    let (filter, page, errors) = match query.parse() {
        Ok((f, p)) => (f, p, FieldErrors::default()),
        Err(e) => (Filter::default(), 1, e),
    };
    let offset = (page - 1) * PER_PAGE;
    let can_approve = user.role.may(Permission::ApproveOrders);
    let (rows, total, suppliers, waiting) = ctx
        .state
        .db
        .read(move |c| {
            let (rows, total) = orders::list(c, &filter, today, PER_PAGE, offset)?;
            let waiting = if can_approve {
                rules::waiting_for(c, &user, today)?.len()
            } else {
                0
            };
            Ok::<_, DbError>((rows, total, suppliers::list(c)?, waiting))
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
            layout: Layout::for_request(&req, "Orders"),
            prev: (page > 1).then(|| query.with_page(page - 1)),
            next: (page < pages).then(|| query.with_page(page + 1)),
            query,
            rows: rows.into_iter().map(OrderRow::of).collect(),
            total,
            page,
            pages,
            suppliers,
            states: OrderState::ALL
                .iter()
                .map(|s| (s.as_str(), s.label()))
                .collect(),
            errors,
            currency: ctx.state.config.practice.currency.clone(),
            can_request: ctx.user()?.role.may(Permission::RequestOrders),
            can_approve,
            waiting,
        },
    )
}

// ------------------------------------------------------------ a new draft

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewForm {
    #[serde(default)]
    supplier: String,
    #[serde(default)]
    note: String,
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    supplier: String,
}

#[derive(Template)]
#[template(path = "orders/new.html")]
struct NewPage {
    layout: Layout,
    suppliers: Vec<Supplier>,
    form: NewForm,
    errors: FieldErrors,
}
crate::page!(NewPage);

async fn new_page(
    req: &HttpRequest,
    ctx: &Ctx,
    status: StatusCode,
    form: NewForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let suppliers = ctx
        .state
        .db
        .read(|c| suppliers::list(c).map_err(DbError::from))
        .await?
        .into_iter()
        .filter(|s| s.active)
        .collect();
    render_status(
        status,
        &NewPage {
            layout: Layout::for_request(req, "New order"),
            suppliers,
            form,
            errors,
        },
    )
}

pub async fn new_form(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    let form = NewForm {
        supplier: q.into_inner().supplier,
        note: String::new(),
    };
    new_page(&req, &ctx, StatusCode::OK, form, FieldErrors::default()).await
}

pub async fn create(
    req: HttpRequest,
    ctx: Ctx,
    f: web::Form<NewForm>,
) -> Result<HttpResponse, AppError> {
    let form = f.into_inner();
    let mut errors = FieldErrors::default();
    let supplier_id = parse_id(
        &mut errors,
        "supplier",
        &form.supplier,
        "is not one of the choices",
    );
    if supplier_id.is_none() && errors.is_empty() {
        errors.add("supplier", "is required: choose who to order from");
    }
    if !errors.is_empty() {
        return new_page(&req, &ctx, StatusCode::UNPROCESSABLE_ENTITY, form, errors).await;
    }
    let input = NewOrder {
        supplier_id: supplier_id.unwrap_or(0),
        note: form.note.clone(),
        lines: Vec::new(),
    };
    let (a, env, user) = ctx.for_orders()?;
    let outcome = ctx
        .state
        .db
        .write(move |tx| lifecycle::create(tx, &a, Who::User(&user), &env, &input))
        .await;
    match outcome {
        Ok(order) => Ok(redirect_with_flash(
            &format!("/orders/{}", order.id),
            "success",
            &format!(
                "Created draft {} for {}. Add what you need below.",
                order.number, order.supplier_name
            ),
        )),
        Err(OrdersError::Invalid(e)) => {
            let e = e.renamed("supplier_id", "supplier");
            new_page(&req, &ctx, StatusCode::UNPROCESSABLE_ENTITY, form, e).await
        }
        Err(e) => Err(e.into()),
    }
}

// --------------------------------------------------------- the order page

/// A problem with something typed on the order page: the input it belongs
/// to (its id), how the form labels it, and what is wrong.
struct Problem {
    anchor: String,
    label: String,
    message: String,
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, anchor: impl Into<String>, label: impl Into<String>, message: &str) {
        self.0.push(Problem {
            anchor: anchor.into(),
            label: label.into(),
            message: message.to_string(),
        });
    }

    fn get(&self, anchor: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|p| p.anchor == anchor)
            .map(|p| p.message.as_str())
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What was typed into a refused form, so the page shows it again.
#[derive(Default)]
struct Typed {
    /// The form it was typed into: "add", "line-{id}", or an action.
    form: String,
    line_product: String,
    line_location: String,
    packs: String,
    reason: String,
    expected_on: String,
    supplier_reference: String,
    note: String,
}

struct LineView {
    line: orders::OrderLine,
    unit_price: String,
    line_total: String,
}

struct ReceiptView {
    receipt: orders::receiving::Receipt,
    at: String,
}

struct EventView {
    event: orders::Event,
    action: String,
    from: &'static str,
    to: &'static str,
    at: String,
}

struct ApprovalView {
    approval: orders::Approval,
    role: &'static str,
    at: String,
}

/// The buttons the order page offers, for this state and this user.
#[derive(Default)]
struct Buttons {
    submit: bool,
    approve: bool,
    reject: bool,
    reopen: bool,
    mark_sent: bool,
    /// Send through the supplier's channel (not by hand).
    send: bool,
    retry_send: bool,
    acknowledge: bool,
    close: bool,
    close_needs_reason: bool,
    cancel: bool,
    cancel_needs_reason: bool,
    receive: bool,
    /// The user created or submitted the order: another person approves.
    own: bool,
}

impl Buttons {
    fn for_order(order: &Order, user: &User, channel: &Channel) -> Self {
        use OrderState as S;
        let may = |p| user.role.may(p);
        let (request, approve, manage) = (
            may(Permission::RequestOrders),
            may(Permission::ApproveOrders),
            may(Permission::ManageOrders),
        );
        let state = order.state;
        Buttons {
            submit: request && state == S::Draft,
            approve: approve && state == S::Submitted,
            reject: approve && state == S::Submitted,
            reopen: request && state == S::Rejected,
            mark_sent: manage && matches!(state, S::Approved | S::DispatchFailed),
            send: manage && state == S::Approved && *channel != Channel::Manual,
            retry_send: manage && state == S::DispatchFailed,
            acknowledge: manage && state == S::Sent,
            close: manage && matches!(state, S::Received | S::PartiallyReceived),
            close_needs_reason: state == S::PartiallyReceived,
            cancel: match state {
                S::Draft | S::Submitted | S::Rejected => request,
                S::Approved | S::DispatchFailed | S::Queued | S::Sent | S::Acknowledged => manage,
                _ => false,
            },
            cancel_needs_reason: matches!(state, S::Queued | S::Sent | S::Acknowledged),
            receive: state.receivable() && may(Permission::MoveStock),
            own: Some(user.id) == order.created_by || Some(user.id) == order.submitted_by,
        }
    }

    fn any(&self) -> bool {
        self.submit
            || self.approve
            || self.reject
            || self.reopen
            || self.mark_sent
            || self.send
            || self.retry_send
            || self.acknowledge
            || self.close
            || self.cancel
    }
}

#[derive(Template)]
#[template(path = "orders/show.html")]
struct ShowPage {
    layout: Layout,
    order: Order,
    total: String,
    currency: String,
    created_at: String,
    lines: Vec<LineView>,
    approvals: Vec<ApprovalView>,
    events: Vec<EventView>,
    receipts: Vec<ReceiptView>,
    /// Draft editing: the supplier's active catalogue lines and the
    /// locations the user may use (empty when the order is not editable
    /// or the user may not change it).
    catalogue: Vec<SupplierItem>,
    locations: Vec<(i64, String)>,
    can_edit: bool,
    /// May change the expected delivery date of an order on its way.
    can_change_date: bool,
    buttons: Buttons,
    /// The latest try at sending, while queued or failed.
    sending: Option<Sending>,
    /// What the supplier answered through EDI.
    answer: Option<AnswerView>,
    problems: Problems,
    typed: Typed,
}
crate::page!(ShowPage);

impl ShowPage {
    fn err(&self, anchor: &str) -> Option<&str> {
        self.problems.get(anchor)
    }

    /// What was typed into `form`'s field, when that form was refused.
    fn typed_in(&self, form: &str, value: &str) -> String {
        if self.typed.form == form {
            value.to_string()
        } else {
            String::new()
        }
    }
}

/// How the order page is shown again after a refused form.
struct Refusal {
    status: StatusCode,
    flash: Option<String>,
    problems: Problems,
    typed: Typed,
}

impl Refusal {
    fn none() -> Self {
        Refusal {
            status: StatusCode::OK,
            flash: None,
            problems: Problems::default(),
            typed: Typed::default(),
        }
    }
}

/// An order with, while it is a draft the user may change, the supplier's
/// active catalogue lines and the locations to choose from; the supplier's
/// sending channel and the latest job sending the order.
type Loaded = (
    OrderDetail,
    Vec<SupplierItem>,
    Vec<(i64, String)>,
    Channel,
    Option<Job>,
    dispatch::inbox::Answers,
);

/// The "Sending" block of a queued or failed order.
pub(crate) struct Sending {
    state: &'static str,
    attempt: String,
    /// When the next try is due, while waiting to retry.
    next_try: String,
    last_error: String,
}

impl Sending {
    fn new(job: &Job) -> Self {
        let state = match job.state {
            JobState::Queued if job.attempts > 0 => "waiting to try again",
            JobState::Queued => "waiting to be sent",
            JobState::Running => "sending now",
            JobState::Succeeded => "sent",
            JobState::Failed => "failed, waiting to try again",
            JobState::Dead => "gave up",
            JobState::Cancelled => "cancelled",
        };
        let waiting = matches!(job.state, JobState::Failed)
            || (job.state == JobState::Queued && job.attempts > 0);
        Sending {
            state,
            attempt: format!("attempt {} of {}", job.attempts, job.max_attempts),
            next_try: if waiting {
                when(&job.run_at)
            } else {
                String::new()
            },
            last_error: job.last_error.clone(),
        }
    }
}

async fn load(ctx: &Ctx, id: i64) -> Result<Loaded, AppError> {
    let today = ctx.state.today();
    let user = ctx.user()?.clone();
    ctx.state
        .db
        .read(move |c| {
            let Some(d) = orders::detail(c, id, today)? else {
                return Ok(None);
            };
            let (catalogue, locs) = if d.order.state.editable()
                && user.role.may(Permission::RequestOrders)
            {
                let catalogue = suppliers::for_supplier(c, d.order.supplier_id)?
                    .into_iter()
                    .filter(|l| l.active)
                    .collect();
                let mut locs: Vec<(i64, String)> =
                    locations::list_accessible_with_paths(c, user.id, user.role)?
                        .into_iter()
                        .filter(|(l, _)| l.active)
                        .map(|(l, p)| (l.id, p))
                        .collect();
                // A line's current location stays choosable even when the
                // user may not pick it for new lines.
                for line in &d.lines {
                    if !locs.iter().any(|(id, _)| *id == line.location_id) {
                        locs.push((line.location_id, locations::path_name(c, line.location_id)?));
                    }
                }
                (catalogue, locs)
            } else {
                (Vec::new(), Vec::new())
            };
            let channel = dispatch::channel_of(c, d.order.supplier_id)?;
            let job = if matches!(
                d.order.state,
                OrderState::Queued | OrderState::DispatchFailed
            ) {
                crate::orders::jobs::latest_send(c, id)?
            } else {
                None
            };
            let answers = dispatch::inbox::answers(c, id)?;
            Ok::<_, DbError>(Some((d, catalogue, locs, channel, job, answers)))
        })
        .await?
        .ok_or(AppError::NotFound)
}

async fn order_page(
    req: &HttpRequest,
    ctx: &Ctx,
    id: i64,
    refusal: Refusal,
) -> Result<HttpResponse, AppError> {
    let (detail, catalogue, locations, channel, job, answers) = load(ctx, id).await?;
    let user = ctx.user()?;
    let OrderDetail {
        order,
        lines,
        approvals,
        events,
        receipts,
    } = detail;
    let mut layout = Layout::for_request(req, order.number.clone());
    if let Some(message) = refusal.flash {
        layout.flash = Some(Flash {
            kind: "error",
            message,
        });
    }
    let label = |raw: &str| OrderState::parse(raw).map_or("", OrderState::label);
    let answer = AnswerView::of(&answers, &lines);
    render_status(
        refusal.status,
        &ShowPage {
            layout,
            total: money(order.total_minor),
            currency: order.currency.clone(),
            created_at: when(&order.created_at),
            lines: lines
                .into_iter()
                .map(|l| LineView {
                    unit_price: money(l.unit_price_minor),
                    line_total: money(l.line_total_minor),
                    line: l,
                })
                .collect(),
            approvals: approvals
                .into_iter()
                .map(|a| ApprovalView {
                    role: a.role.label(),
                    at: when_opt(&a.decided_at),
                    approval: a,
                })
                .collect(),
            events: events
                .into_iter()
                .map(|e| EventView {
                    action: capitalised(&e.action.replace('_', " ")),
                    from: label(&e.from_state),
                    to: label(&e.to_state),
                    at: when(&e.at),
                    event: e,
                })
                .collect(),
            receipts: receipts
                .into_iter()
                .map(|r| ReceiptView {
                    at: when(&r.at),
                    receipt: r,
                })
                .collect(),
            can_edit: order.state.editable() && user.role.may(Permission::RequestOrders),
            can_change_date: user.role.may(Permission::RequestOrders),
            buttons: Buttons::for_order(&order, user, &channel),
            sending: job.as_ref().map(Sending::new),
            answer,
            catalogue,
            locations,
            problems: refusal.problems,
            typed: refusal.typed,
            order,
        },
    )
}

pub async fn show(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    order_page(&req, &ctx, id.into_inner(), Refusal::none()).await
}

#[derive(Template)]
#[template(path = "orders/sending.html")]
struct SendingBlock {
    order: orders::Order,
    sending: Option<Sending>,
}

/// The "Sending" block alone, which the order page asks for every few
/// seconds while the order is queued. Once it is not, `HX-Refresh` makes
/// the browser load the whole page again.
pub async fn sending(ctx: Ctx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let (id, today) = (id.into_inner(), ctx.state.today());
    let (order, job) = ctx
        .state
        .db
        .read(move |c| {
            Ok::<_, DbError>(match orders::get(c, id, today)? {
                Some(o) => Some((o, crate::orders::jobs::latest_send(c, id)?)),
                None => None,
            })
        })
        .await?
        .ok_or(AppError::NotFound)?;
    if order.state != OrderState::Queued {
        return Ok(HttpResponse::Ok()
            .insert_header(("HX-Refresh", "true"))
            .finish());
    }
    let html = SendingBlock {
        sending: job.as_ref().map(Sending::new),
        order,
    }
    .render()
    .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// Turns a refused change into the order page shown again: a refusal
/// (409) as an error message at the top, bad input (422) beside the
/// fields, named by `place` (field → input id and label).
async fn refused(
    req: &HttpRequest,
    ctx: &Ctx,
    id: i64,
    err: OrdersError,
    typed: Typed,
    place: impl Fn(&str) -> (String, String),
) -> Result<HttpResponse, AppError> {
    match err {
        OrdersError::Refused(m) => {
            order_page(
                req,
                ctx,
                id,
                Refusal {
                    status: StatusCode::CONFLICT,
                    flash: Some(capitalised(&m)),
                    problems: Problems::default(),
                    typed,
                },
            )
            .await
        }
        OrdersError::Invalid(e) => {
            let mut problems = Problems::default();
            for f in &e.0 {
                let (anchor, label) = place(&f.field);
                problems.add(anchor, label, &f.message);
            }
            order_page(
                req,
                ctx,
                id,
                Refusal {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    flash: None,
                    problems,
                    typed,
                },
            )
            .await
        }
        e => Err(e.into()),
    }
}

/// Whether the user may put goods for `location_id` on an order.
fn check_location(
    conn: &rusqlite::Connection,
    user: &User,
    location_id: i64,
    errors: &mut FieldErrors,
) -> rusqlite::Result<()> {
    if location_id != 0 && !locations::may_use(conn, user.id, user.role, location_id)? {
        errors.add("location_id", "is not a location you may use");
    }
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AddLineForm {
    #[serde(default)]
    supplier_item_id: String,
    #[serde(default)]
    location_id: String,
    #[serde(default)]
    packs: String,
}

fn add_line_place(field: &str) -> (String, String) {
    let (anchor, label) = match field {
        "location_id" => ("line_location", "For location"),
        "packs" => ("line_packs", "Packs"),
        _ => ("line_product", "Product"),
    };
    (anchor.to_string(), label.to_string())
}

fn parse_packs(errors: &mut FieldErrors, raw: &str) -> i64 {
    errors
        .check(
            "packs",
            raw.trim()
                .parse::<i64>()
                .map_err(|_| "must be a whole number of packs"),
        )
        .unwrap_or(0)
}

pub async fn add_line(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<AddLineForm>,
) -> Result<HttpResponse, AppError> {
    let (id, form) = (id.into_inner(), f.into_inner());
    let mut errors = FieldErrors::default();
    let supplier_item_id = parse_id(
        &mut errors,
        "supplier_item_id",
        &form.supplier_item_id,
        "is not one of the choices",
    );
    if supplier_item_id.is_none() && errors.get("supplier_item_id").is_none() {
        errors.add("supplier_item_id", "is required: choose what to order");
    }
    let location_id = parse_id(
        &mut errors,
        "location_id",
        &form.location_id,
        "is not one of the choices",
    );
    if location_id.is_none() && errors.get("location_id").is_none() {
        errors.add("location_id", "is required: choose where the goods go");
    }
    let packs = parse_packs(&mut errors, &form.packs);
    let input = LineInput {
        supplier_item_id,
        item_id: None,
        location_id: location_id.unwrap_or(0),
        packs,
        note: String::new(),
    };
    let (a, env, user) = ctx.for_orders()?;
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            check_location(tx, &user, input.location_id, &mut errors)?;
            // The service's own checks first (state, supplier line), then
            // ours, so a refusal is not hidden behind a field problem.
            if !errors.is_empty() {
                let order = orders::get(tx, id, env.today)?.ok_or(OrdersError::NoSuchOrder)?;
                if !order.state.editable() {
                    return lifecycle::add_line(tx, &a, Who::User(&user), &env, id, &input);
                }
                return Err(OrdersError::Invalid(errors));
            }
            lifecycle::add_line(tx, &a, Who::User(&user), &env, id, &input)
        })
        .await;
    let typed = Typed {
        form: "add".into(),
        line_product: form.supplier_item_id.clone(),
        line_location: form.location_id.clone(),
        packs: form.packs.clone(),
        ..Typed::default()
    };
    match outcome {
        Ok(order) => Ok(redirect_with_flash(
            &format!("/orders/{id}"),
            "success",
            &format!("Added to {}.", order.number),
        )),
        Err(e) => refused(&req, &ctx, id, e, typed, add_line_place).await,
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LineForm {
    #[serde(default)]
    location_id: String,
    #[serde(default)]
    packs: String,
}

pub async fn update_line(
    req: HttpRequest,
    ctx: Ctx,
    path: web::Path<(i64, i64)>,
    f: web::Form<LineForm>,
) -> Result<HttpResponse, AppError> {
    let ((id, line_id), form) = (path.into_inner(), f.into_inner());
    let mut errors = FieldErrors::default();
    let packs = parse_packs(&mut errors, &form.packs);
    let location_id = parse_id(
        &mut errors,
        "location_id",
        &form.location_id,
        "is not one of the choices",
    );
    let (a, env, user) = ctx.for_orders()?;
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            let order = orders::get(tx, id, env.today)?.ok_or(OrdersError::NoSuchOrder)?;
            let line = orders::lines(tx, id)?
                .into_iter()
                .find(|l| l.id == line_id)
                .ok_or(OrdersError::Missing("order line"))?;
            let location_id = location_id.unwrap_or(line.location_id);
            // Moving a line to another location needs that location.
            if location_id != line.location_id {
                check_location(tx, &user, location_id, &mut errors)?;
            }
            if !errors.is_empty() && order.state.editable() {
                return Err(OrdersError::Invalid(errors));
            }
            let change = LineChange {
                packs,
                location_id,
                note: line.note.clone(),
            };
            lifecycle::update_line(tx, &a, Who::User(&user), &env, id, line_id, &change)
        })
        .await;
    let typed = Typed {
        form: format!("line-{line_id}"),
        packs: form.packs.clone(),
        line_location: form.location_id.clone(),
        ..Typed::default()
    };
    match outcome {
        Ok(order) => Ok(redirect_with_flash(
            &format!("/orders/{id}"),
            "success",
            &format!("Changed a line of {}.", order.number),
        )),
        Err(e) => {
            refused(&req, &ctx, id, e, typed, |field| match field {
                "location_id" => (
                    format!("location-{line_id}"),
                    "Location of the line".to_string(),
                ),
                _ => (format!("packs-{line_id}"), "Packs of the line".to_string()),
            })
            .await
        }
    }
}

pub async fn remove_line(
    req: HttpRequest,
    ctx: Ctx,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (id, line_id) = path.into_inner();
    let (a, env, user) = ctx.for_orders()?;
    let outcome = ctx
        .state
        .db
        .write(move |tx| lifecycle::remove_line(tx, &a, Who::User(&user), &env, id, line_id))
        .await;
    match outcome {
        Ok(order) => Ok(redirect_with_flash(
            &format!("/orders/{id}"),
            "success",
            &format!("Removed a line from {}.", order.number),
        )),
        Err(OrdersError::Invalid(e)) => {
            // The only field problem here: the line is not on this order.
            refused(
                &req,
                &ctx,
                id,
                OrdersError::Refused(format!(
                    "The line {}",
                    e.get("line_id").unwrap_or("cannot be removed")
                )),
                Typed::default(),
                |f| (f.to_string(), f.to_string()),
            )
            .await
        }
        Err(e) => {
            refused(&req, &ctx, id, e, Typed::default(), |f| {
                (f.to_string(), f.to_string())
            })
            .await
        }
    }
}

// ------------------------------------------------------------- actions

/// Every action form: a reason, or the supplier's confirmation.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    expected_on: String,
    #[serde(default)]
    supplier_reference: String,
}

/// The form name of an action on the order page (the prefix of its ids).
fn form_name(action: Action) -> &'static str {
    match action {
        Action::Reject => "reject",
        Action::Close => "close",
        Action::Cancel => "cancel",
        Action::Acknowledge => "acknowledge",
        _ => "other",
    }
}

/// What the success message says happened.
fn done(action: Action, order: &Order) -> String {
    let n = &order.number;
    match action {
        Action::Submit if order.state == OrderState::Approved => {
            format!("Submitted {n}: no approval was needed, it is approved.")
        }
        Action::Submit => format!("Submitted {n} for approval."),
        Action::Approve if order.state == OrderState::Approved => format!("Approved {n}."),
        Action::Approve => format!("Approved your step of {n}; it waits for another approval."),
        Action::Reject => format!("Rejected {n}."),
        Action::Reopen => format!("{n} is a draft again."),
        Action::MarkSent => format!("Marked {n} as sent."),
        Action::Queue => format!("Queued {n} to be sent to {}.", order.supplier_name),
        Action::Retry => format!("Sending {n} again."),
        Action::Acknowledge => format!("Recorded the supplier's confirmation of {n}."),
        Action::Close => format!("Closed {n}."),
        Action::Cancel if order.sent_at.is_some() => {
            format!("Cancelled {n}. It had already been placed: tell the supplier it is cancelled.")
        }
        Action::Cancel => format!("Cancelled {n}."),
        other => format!("{} {n}.", capitalised(other.verb())),
    }
}

async fn act(
    req: HttpRequest,
    ctx: Ctx,
    id: i64,
    action: Action,
    form: ActForm,
) -> Result<HttpResponse, AppError> {
    let input = ActInput {
        reason: form.reason.clone(),
        expected_on: form.expected_on.clone(),
        supplier_reference: form.supplier_reference.clone(),
    };
    let (a, env, user) = ctx.for_orders()?;
    let outcome = ctx
        .state
        .db
        .write(move |tx| lifecycle::act(tx, &a, Who::User(&user), &env, id, action, &input))
        .await;
    match outcome {
        Ok(order) => Ok(redirect_with_flash(
            &format!("/orders/{id}"),
            "success",
            &done(action, &order),
        )),
        Err(e) => {
            let name = form_name(action);
            let typed = Typed {
                form: name.to_string(),
                reason: form.reason,
                expected_on: form.expected_on,
                supplier_reference: form.supplier_reference,
                ..Typed::default()
            };
            refused(&req, &ctx, id, e, typed, |field| match field {
                "expected_on" => ("expected_on".to_string(), "Expected delivery".to_string()),
                "supplier_reference" => (
                    "supplier_reference".to_string(),
                    "Supplier's reference".to_string(),
                ),
                _ => (format!("{name}_reason"), "Reason".to_string()),
            })
            .await
        }
    }
}

macro_rules! action_page {
    ($name:ident, $action:expr) => {
        pub async fn $name(
            req: HttpRequest,
            ctx: Ctx,
            id: web::Path<i64>,
            f: web::Form<ActForm>,
        ) -> Result<HttpResponse, AppError> {
            act(req, ctx, id.into_inner(), $action, f.into_inner()).await
        }
    };
}

action_page!(submit, Action::Submit);
action_page!(approve, Action::Approve);
action_page!(reject, Action::Reject);
action_page!(reopen, Action::Reopen);
action_page!(mark_sent, Action::MarkSent);
action_page!(send, Action::Queue);
action_page!(retry_send, Action::Retry);
action_page!(acknowledge, Action::Acknowledge);
action_page!(close, Action::Close);
action_page!(cancel, Action::Cancel);

/// The order's note (drafts) or expected delivery date (open orders).
#[derive(Debug, Default, Deserialize)]
pub struct DetailsForm {
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    expected_on: Option<String>,
}

pub async fn update_details(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
    f: web::Form<DetailsForm>,
) -> Result<HttpResponse, AppError> {
    let (id, form) = (id.into_inner(), f.into_inner());
    let change = lifecycle::HeaderChange {
        note: form.note.clone(),
        expected_on: form.expected_on.clone(),
    };
    let (a, env, user) = ctx.for_orders()?;
    let outcome = ctx
        .state
        .db
        .write(move |tx| lifecycle::update_header(tx, &a, Who::User(&user), &env, id, &change))
        .await;
    match outcome {
        Ok(order) => Ok(redirect_with_flash(
            &format!("/orders/{id}"),
            "success",
            &format!("Saved the details of {}.", order.number),
        )),
        Err(e) => {
            let typed = Typed {
                form: "details".to_string(),
                note: form.note.unwrap_or_default(),
                expected_on: form.expected_on.unwrap_or_default(),
                ..Typed::default()
            };
            refused(&req, &ctx, id, e, typed, |field| match field {
                "note" => (
                    "details_note".to_string(),
                    "Note for the supplier".to_string(),
                ),
                _ => (
                    "details_expected_on".to_string(),
                    "Expected delivery".to_string(),
                ),
            })
            .await
        }
    }
}

// ----------------------------------------------------------- the print

#[derive(Template)]
#[template(path = "orders/print.html")]
struct PrintPage {
    layout: Layout,
    practice: Practice,
    address_lines: Vec<String>,
    order: Order,
    date: String,
    supplier: Supplier,
    lines: Vec<LineView>,
    total: String,
}
crate::page!(PrintPage);

pub async fn print(
    req: HttpRequest,
    ctx: Ctx,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (id, today) = (id.into_inner(), ctx.state.today());
    let (detail, supplier, practice) = ctx
        .state
        .db
        .read(move |c| {
            let Some(d) = orders::detail(c, id, today)? else {
                return Ok(None);
            };
            let Some(s) = suppliers::get(c, d.order.supplier_id)? else {
                return Ok(None);
            };
            Ok::<_, DbError>(Some((d, s, practice::practice(c)?)))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    let order = detail.order;
    // The order's date: when it was submitted (prices are fixed then),
    // else when it was drafted.
    let date = order
        .submitted_at
        .as_deref()
        .unwrap_or(&order.created_at)
        .chars()
        .take(10)
        .collect();
    render(&PrintPage {
        layout: Layout::for_request(&req, format!("Order {}", order.number)),
        address_lines: practice
            .address
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
        practice,
        date,
        supplier,
        total: money(order.total_minor),
        lines: detail
            .lines
            .into_iter()
            .map(|l| LineView {
                unit_price: money(l.unit_price_minor),
                line_total: money(l.line_total_minor),
                line: l,
            })
            .collect(),
        order,
    })
}

// ------------------------------------------------------ the suggestions

struct GroupView {
    group: SupplierGroup,
    total: String,
    /// (suggestion, price, line total)
    lines: Vec<(suggest::Suggestion, String, String)>,
}

#[derive(Template)]
#[template(path = "orders/suggestions.html")]
struct SuggestionsPage {
    layout: Layout,
    groups: Vec<GroupView>,
    currency: String,
    can_request: bool,
}
crate::page!(SuggestionsPage);

pub async fn suggestions(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let user = ctx.user()?.clone();
    let can_request = user.role.may(Permission::RequestOrders);
    let groups = ctx
        .state
        .db
        .read(move |c| {
            let allowed: HashSet<i64> = locations::accessible(c, user.id, user.role)?;
            suggest::suggestions(c, &allowed).map_err(DbError::from)
        })
        .await?;
    render(&SuggestionsPage {
        layout: Layout::for_request(&req, "Reorder suggestions"),
        groups: groups
            .into_iter()
            .map(|mut g| GroupView {
                total: money(g.total_minor),
                lines: std::mem::take(&mut g.lines)
                    .into_iter()
                    .map(|s| {
                        let (p, t) = (money(s.price_minor), money(s.line_total_minor));
                        (s, p, t)
                    })
                    .collect(),
                group: g,
            })
            .collect(),
        currency: ctx.state.config.practice.currency.clone(),
        can_request,
    })
}

pub async fn draft_from_suggestions(
    ctx: Ctx,
    supplier_id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let supplier_id = supplier_id.into_inner();
    let (a, env, user) = ctx.for_orders()?;
    let outcome = ctx
        .state
        .db
        .write(move |tx| {
            let allowed = locations::accessible(tx, user.id, user.role)?;
            suggest::draft_from(tx, &a, Who::User(&user), &env, supplier_id, &allowed)
        })
        .await;
    match outcome {
        Ok(order) => Ok(redirect_with_flash(
            &format!("/orders/{}", order.id),
            "success",
            &format!(
                "Created draft {} for {} from the suggestions. Check it, then submit it.",
                order.number, order.supplier_name
            ),
        )),
        Err(OrdersError::Refused(m)) => Ok(redirect_with_flash(
            "/orders/suggestions",
            "error",
            &capitalised(&m),
        )),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------- approvals

#[derive(Template)]
#[template(path = "orders/approvals.html")]
struct ApprovalsPage {
    layout: Layout,
    rows: Vec<(OrderRow, String)>,
    currency: String,
}
crate::page!(ApprovalsPage);

pub async fn approvals(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let (user, today) = (ctx.user()?.clone(), ctx.state.today());
    let list = ctx
        .state
        .db
        .read(move |c| rules::waiting_for(c, &user, today).map_err(DbError::from))
        .await?;
    render(&ApprovalsPage {
        layout: Layout::for_request(&req, "Waiting for my approval"),
        rows: list
            .into_iter()
            .map(|o| {
                let at = when_opt(&o.submitted_at);
                (OrderRow::of(o), at)
            })
            .collect(),
        currency: ctx.state.config.practice.currency.clone(),
    })
}

/// For the dashboard: orders waiting for `user`'s approval and deliveries
/// overdue.
pub fn attention(
    conn: &rusqlite::Connection,
    user: &User,
    today: time::Date,
) -> rusqlite::Result<(usize, i64)> {
    let waiting = if user.role.may(Permission::ApproveOrders) {
        rules::waiting_for(conn, user, today)?.len()
    } else {
        0
    };
    let overdue = orders::list(
        conn,
        &Filter {
            overdue: true,
            ..Filter::default()
        },
        today,
        1,
        0,
    )?
    .1;
    Ok((waiting, overdue))
}
