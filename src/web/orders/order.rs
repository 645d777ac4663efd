//! Purchase order pages: the list, a new draft, the order page (draft
//! editing, approval, sending, confirmation, closing, cancelling), the
//! printable order, reorder suggestions and the approval queue. Every change
//! goes through the same `orders` service functions as the API, so a page
//! can never do what the state machine refuses.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::users::User;
use crate::catalog::suppliers::SupplierItem;
use crate::dispatch::{self, Channel, views::OrderView};
use crate::domain::Permission;
use crate::domain::order::{Action, OrderState};
use crate::orders::lifecycle::{self, ActInput};
use crate::orders::{self, Filter, Order, OrderDetail, rules};
use crate::validation::capitalised;
use crate::web::context::Ctx;
use crate::web::dispatch::edi_inbox::AnswerView;
use crate::web::error::AppError;
use crate::web::forms::money;
use crate::web::render::{Flash, Layout, redirect_with_flash, render_status};

use super::refusal::{Problems, Refusal, Typed, refused};
use super::sending::Sending;
use super::view::{LineView, when, when_opt};

// --------------------------------------------------------- the order page

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
    /// Lines for places the reader may not use, not shown.
    hidden_lines: u32,
    /// Could not be sent and the supplier's channel changed since: where
    /// it was queued for, and where a retry sends it.
    retry_to: Option<(String, String)>,
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

pub(super) async fn order_page(
    req: &HttpRequest,
    ctx: &Ctx,
    id: i64,
    refusal: Refusal,
) -> Result<HttpResponse, AppError> {
    let (actor, today) = (ctx.actor(), ctx.state.today());
    let OrderView {
        detail,
        catalogue,
        locations,
        channel,
        queued_for,
        job,
        answers,
    } = ctx
        .state
        .db
        .read(move |c| dispatch::views::order(c, &actor, id, today))
        .await?
        .ok_or(AppError::NotFound)?;
    let user = ctx.user()?;
    let OrderDetail {
        order,
        lines,
        approvals,
        events,
        receipts,
        hidden_lines,
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
    let csrf = layout.csrf.clone();
    render_status(
        refusal.status,
        &ShowPage {
            layout,
            total: money(order.total_minor),
            currency: order.currency.clone(),
            created_at: when(&order.created_at),
            lines: lines.into_iter().map(LineView::of).collect(),
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
            sending: job
                .as_ref()
                .map(|j| Sending::new(j, user.role.may(Permission::ManageOrders), &csrf)),
            hidden_lines,
            retry_to: queued_for.map(|was| (was.destination(), channel.destination())),
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
    /// Retry sending: "send it to the new destination" was ticked.
    #[serde(default)]
    confirm_destination: Option<String>,
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
        confirm_destination: form.confirm_destination.is_some(),
    };
    let (a, env) = ctx.for_orders()?;
    let outcome = ctx
        .state
        .db
        .write(move |tx| match action {
            // A retry may go to a destination other than the one it was queued for.
            Action::Retry => crate::dispatch::retry(tx, &a, &env, id, &input),
            _ => lifecycle::act(tx, &a, &env, id, action, &input),
        })
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
                "confirm_destination" => (
                    "confirm_destination".to_string(),
                    "New destination".to_string(),
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
/// For the dashboard: orders waiting for `user`'s approval and deliveries
/// overdue.
pub fn attention(
    conn: &rusqlite::Connection,
    user: &User,
    places: &crate::domain::actor::Places,
    today: time::Date,
) -> rusqlite::Result<(usize, i64)> {
    let waiting = if user.role.may(Permission::ApproveOrders) {
        rules::waiting_for(conn, user, places, today)?.len()
    } else {
        0
    };
    let overdue = orders::list(
        conn,
        &Filter {
            overdue: true,
            ..Filter::default()
        },
        places,
        today,
        1,
        0,
    )?
    .1;
    Ok((waiting, overdue))
}
