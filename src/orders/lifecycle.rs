//! Moving an order through its states. [`act`] is the one
//! entry point for every transition except receiving: it asks
//! `domain::order::transition`, applies what the action implies (prices
//! captured at submission, approval steps, expected delivery), writes the
//! timeline event and the audit row — or refuses and changes nothing.

use rusqlite::{Transaction, params};
use serde::Deserialize;
use serde_json::json;
use time::Date;

use super::{Env, Order, OrdersError, Step, add_event, for_change};
use crate::audit::{self, Context, Event};
use crate::db::Cached;
use crate::domain::actor::Actor;
use crate::domain::approval::{self, OrderFacts};
use crate::domain::order::{Action, Facts, OrderState, Refusal, transition};
use crate::validation::FieldErrors;

pub const MAX_LINES: usize = 1000;
pub const MAX_PACKS: i64 = 100_000;
pub const MAX_NOTE: usize = 1000;
pub const MAX_REASON: usize = 500;

// Drafting lives in its own module; its items are named here too, where
// callers have always found them.
pub use super::drafting::{
    HeaderChange, LineChange, LineInput, NewOrder, add_line, create, remove_line, update_header,
    update_line,
};

pub(super) fn check_note(errors: &mut FieldErrors, field: &str, note: &str, max: usize) {
    if note.chars().count() > max
        || note
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        errors.add(field, format!("must be at most {max} characters"));
    }
}

pub(super) fn audit_order(
    tx: &Transaction,
    ctx: &Context,
    action: &'static str,
    order: &Order,
    extra: serde_json::Value,
) -> rusqlite::Result<()> {
    audit::record(
        tx,
        ctx,
        Event::new(action, "purchase_order", order.id).after(json!({
            "number": order.number, "state": order.state, "supplier_id": order.supplier_id,
            "total_minor": order.total_minor, "detail": extra,
        })),
    )
    .map(|_| ())
}

pub fn parse_date(field: &str, raw: &str) -> Result<Option<Date>, FieldErrors> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw, format)
        .map(Some)
        .map_err(|_| FieldErrors::single(field, "must be a date in the form YYYY-MM-DD"))
}

/// What an action may carry.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ActInput {
    /// Required to reject, to close an order with lines still open, and to
    /// cancel an order the supplier may already have.
    #[serde(default)]
    pub reason: String,
    /// Acknowledge: the delivery date the supplier promised (YYYY-MM-DD).
    #[serde(default)]
    pub expected_on: String,
    /// Acknowledge: the supplier's order reference.
    #[serde(default)]
    pub supplier_reference: String,
    /// Retry sending: the caller has seen that the supplier's channel
    /// changed since the order was queued and sends it to the new one.
    #[serde(default)]
    pub confirm_destination: bool,
}

/// Applies `action` to the order (every action but receiving, which
/// `receiving::receive` does). Refused actions change nothing.
pub fn act(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    order_id: i64,
    action: Action,
    input: &ActInput,
) -> Result<Order, OrdersError> {
    let order = super::for_change_by(tx, &ctx.actor, order_id, env.today)?;
    let reason = input.reason.trim();
    let mut errors = FieldErrors::default();
    check_note(&mut errors, "reason", reason, MAX_REASON);
    let expected = parse_date("expected_on", &input.expected_on).unwrap_or_else(|e| {
        errors.0.extend(e.0);
        None
    });
    if input.supplier_reference.chars().count() > 100 {
        errors.add("supplier_reference", "must be at most 100 characters");
    }
    errors.into_result()?;
    check_who(&ctx.actor, &order, action)?;
    if matches!(action, Action::Approve | Action::Reject) {
        // Deciding an order needs sight of all of it.
        if !super::reach(tx, &ctx.actor.places(), order_id)?.sees_all() {
            return Err(OrdersError::refused(
                crate::stock::LOCATION_NOT_PERMITTED,
                format!(
                    "{} has lines for places you may not use: someone who may use them decides it.",
                    order.number
                ),
            ));
        }
    }
    let has_lines: bool = tx.row_cached(
        "SELECT EXISTS (SELECT 1 FROM order_lines WHERE order_id = ?1)",
        [order_id],
        |r| r.get(0),
    )?;
    let mut facts = Facts {
        has_lines,
        reason: !reason.is_empty(),
        steps_left: 0,
        all_received: false,
    };
    // Approval steps: computed on submission, taken on approval.
    let mut steps = Vec::new();
    let mut taken = Vec::new();
    match action {
        Action::Submit if has_lines => {
            steps = approval::steps(&super::rules::active(tx)?, &order_facts(tx, order_id)?);
            facts.steps_left = steps.len();
        }
        Action::Approve | Action::Reject if order.state == OrderState::Submitted => {
            let open = open_steps(tx, order_id)?;
            let own = ctx.actor.user_id().is_some()
                && (ctx.actor.user_id() == order.created_by
                    || ctx.actor.user_id() == order.submitted_by);
            let role = ctx.actor.role().ok_or_else(|| {
                OrdersError::refused(
                    super::refusals::NEEDS_A_PERSON,
                    "only a person can approve or reject an order",
                )
            })?;
            taken = approval::takes(&open, role, own).map_err(|e| {
                OrdersError::refused(super::refusals::of_approval(&e), capital(&e.to_string()))
            })?;
            facts.steps_left = open.len() - taken.len();
        }
        _ => {}
    }
    let outcome = transition(order.state, action, facts).map_err(|r| match r {
        // A missing reason is the form's to fix: a field error.
        Refusal::ReasonRequired { .. } => {
            OrdersError::Invalid(FieldErrors::single("reason", r.to_string()))
        }
        r => OrdersError::refused(
            super::refusals::of_transition(&r),
            format!("{}: {}", order.number, r),
        ),
    })?;
    let to = outcome.to;
    let at = ctx.at.to_db();
    match action {
        Action::Submit => {
            capture_prices(tx, order_id)?;
            tx.exec_cached(
                "UPDATE order_approvals SET superseded = 1 WHERE order_id = ?1 AND superseded = 0",
                [order_id],
            )?;
            let rules = super::rules::list(tx, &env.currency)?;
            for step in &steps {
                let text: Vec<String> = step
                    .rule_ids
                    .iter()
                    .filter_map(|id| rules.iter().find(|r| r.id == *id))
                    .map(|r| r.describe.clone())
                    .collect();
                tx.exec_cached(
                    "INSERT INTO order_approvals (order_id, role, rules) VALUES (?1, ?2, ?3)",
                    params![order_id, step.role.as_str(), text.join("; ")],
                )?;
            }
            tx.exec_cached(
                "UPDATE purchase_orders SET submitted_by = ?1, submitted_at = ?2,
                    approved_at = CASE WHEN ?3 = 'approved' THEN ?2 ELSE NULL END, reason = ''
                 WHERE id = ?4",
                params![ctx.actor.user_id(), at, to.as_str(), order_id],
            )?;
        }
        Action::Approve => {
            for role in &taken {
                tx.exec_cached(
                    "UPDATE order_approvals SET approver_id = ?1, decided_at = ?2
                     WHERE order_id = ?3 AND role = ?4 AND superseded = 0 AND approver_id IS NULL",
                    params![ctx.actor.user_id(), at, order_id, role.as_str()],
                )?;
            }
            if to == OrderState::Approved {
                tx.exec_cached(
                    "UPDATE purchase_orders SET approved_at = ?1 WHERE id = ?2",
                    params![at, order_id],
                )?;
            }
        }
        Action::Reject => {
            tx.exec_cached(
                "UPDATE order_approvals SET superseded = 1 WHERE order_id = ?1 AND superseded = 0",
                [order_id],
            )?;
        }
        Action::MarkSent | Action::DispatchSucceeded => {
            let lead: i64 = tx.row_cached(
                "SELECT lead_time_days FROM suppliers WHERE id = ?1",
                [order.supplier_id],
                |r| r.get(0),
            )?;
            let expected = if order.expected_on.is_empty() && lead > 0 {
                (env.today + time::Duration::days(lead)).to_string()
            } else {
                order.expected_on.clone()
            };
            let channel = if action == Action::MarkSent {
                "manual"
            } else {
                ""
            };
            tx.exec_cached(
                "UPDATE purchase_orders SET sent_at = ?1, expected_on = ?2,
                    channel = CASE WHEN ?3 = '' THEN channel ELSE ?3 END WHERE id = ?4",
                params![at, expected, channel, order_id],
            )?;
        }
        Action::Acknowledge => {
            tx.exec_cached(
                "UPDATE purchase_orders SET acknowledged_at = ?1,
                    expected_on = coalesce(?2, expected_on),
                    supplier_reference = CASE WHEN ?3 = '' THEN supplier_reference ELSE ?3 END
                 WHERE id = ?4",
                params![
                    at,
                    expected.map(|d| d.to_string()),
                    input.supplier_reference.trim(),
                    order_id
                ],
            )?;
        }
        Action::Close => {
            tx.exec_cached(
                "UPDATE purchase_orders SET closed_at = ?1 WHERE id = ?2",
                params![at, order_id],
            )?;
        }
        Action::Cancel => {
            tx.exec_cached(
                "UPDATE purchase_orders SET cancelled_at = ?1 WHERE id = ?2",
                params![at, order_id],
            )?;
            // The supplier has it through a channel: tell it the same way.
            // (Still queued: the dispatch job will not send it; one caught
            // mid-send is told by that job. Placed by hand: by hand.)
            if outcome.notify_supplier
                && order.sent_at.is_some()
                && !matches!(order.channel.as_str(), "" | "manual")
            {
                super::jobs::enqueue_cancel_notice(tx, ctx, order_id)?;
            }
        }
        Action::Queue | Action::Retry => {
            super::jobs::enqueue_send(tx, ctx, order_id, &order.supplier_name, order.supplier_id)?;
        }
        Action::Reopen | Action::DispatchFailed | Action::Receive => {}
    }
    if !reason.is_empty() {
        tx.exec_cached(
            "UPDATE purchase_orders SET reason = ?1 WHERE id = ?2",
            params![reason, order_id],
        )?;
    }
    tx.exec_cached(
        "UPDATE purchase_orders SET state = ?1, updated_at = ?2 WHERE id = ?3",
        params![to.as_str(), at, order_id],
    )?;
    add_event(
        tx,
        ctx,
        order_id,
        Step {
            action: action.as_str(),
            from: order.state,
            to,
            reason,
            receipt_id: None,
        },
    )?;
    let after = for_change(tx, order_id, env.today)?;
    audit::record(
        tx,
        ctx,
        Event::new("order.transition", "purchase_order", order_id)
            .before(json!({"state": order.state}))
            .after(json!({
                "number": after.number, "action": action, "state": to, "reason": reason,
                "total_minor": after.total_minor, "approval_steps_taken": taken,
                "notify_supplier": outcome.notify_supplier,
            })),
    )?;
    Ok(after)
}

fn capital(s: &str) -> String {
    crate::validation::capitalised(s)
}

/// Role rules beyond the route's permission: staff draft, submit, reopen
/// and cancel what has not been approved; everything after approval is for
/// managers and admins; dispatch outcomes are the system's.
fn check_who(actor: &Actor, order: &Order, action: Action) -> Result<(), OrdersError> {
    let person = actor.person().is_some();
    let allowed = match (actor, action) {
        (Actor::System, Action::DispatchSucceeded | Action::DispatchFailed) => true,
        (Actor::Supplier { .. }, Action::Acknowledge) => true,
        _ if !person => false,
        (_, Action::DispatchSucceeded | Action::DispatchFailed) => false,
        (_, Action::Submit | Action::Reopen) => true,
        (_, Action::Approve | Action::Reject) => true, // decided by the steps
        (_, Action::Cancel)
            if matches!(
                order.state,
                OrderState::Draft | OrderState::Submitted | OrderState::Rejected
            ) =>
        {
            true
        }
        _ => actor.manages(),
    };
    if allowed {
        Ok(())
    } else {
        Err(OrdersError::refused(
            super::refusals::NEEDS_A_MANAGER,
            format!(
                "Only a practice manager or an administrator may {} an order that is {}",
                action.verb(),
                order.state.label().to_lowercase()
            ),
        ))
    }
}

/// The total and categories the approval rules look at, at today's prices.
fn order_facts(tx: &Transaction, order_id: i64) -> rusqlite::Result<OrderFacts> {
    let total: i64 = tx.row_cached(
        "SELECT coalesce(sum(l.packs * si.price_minor), 0) FROM order_lines l
         JOIN supplier_items si ON si.id = l.supplier_item_id WHERE l.order_id = ?1",
        [order_id],
        |r| r.get(0),
    )?;
    let mut stmt = tx.prepare_cached(
        "SELECT DISTINCT i.category_id FROM order_lines l JOIN items i ON i.id = l.item_id
         WHERE l.order_id = ?1 AND i.category_id IS NOT NULL",
    )?;
    let category_ids = stmt
        .query_map([order_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(OrderFacts {
        total_minor: total,
        category_ids,
    })
}

/// Copies today's catalog prices onto the lines and the total onto the
/// order: from now on catalog changes do not touch it.
fn capture_prices(tx: &Transaction, order_id: i64) -> rusqlite::Result<()> {
    tx.exec_cached(
        "UPDATE order_lines SET
            unit_price_minor = (SELECT price_minor FROM supplier_items WHERE id = supplier_item_id),
            line_total_minor = packs * (SELECT price_minor FROM supplier_items WHERE id = supplier_item_id)
         WHERE order_id = ?1",
        [order_id],
    )?;
    tx.exec_cached(
        "UPDATE purchase_orders SET total_minor =
            (SELECT coalesce(sum(line_total_minor), 0) FROM order_lines WHERE order_id = ?1)
         WHERE id = ?1",
        [order_id],
    )?;
    Ok(())
}

/// Roles of the steps still waiting in the current submission.
fn open_steps(tx: &Transaction, order_id: i64) -> rusqlite::Result<Vec<crate::domain::Role>> {
    let mut stmt = tx.prepare_cached(
        "SELECT role FROM order_approvals
         WHERE order_id = ?1 AND superseded = 0 AND approver_id IS NULL ORDER BY id",
    )?;
    let roles: Vec<String> = stmt
        .query_map([order_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(roles.iter().filter_map(|r| r.parse().ok()).collect())
}
