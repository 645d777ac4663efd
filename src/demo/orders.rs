//! The demo practice's purchasing: practice details for printed orders,
//! two approval rules, and orders in the states a manager meets in a
//! normal week — a draft, one waiting for approval, one sent and partly
//! delivered, one received and closed — all made from the reorder
//! suggestions through the same service functions the pages use.

use rusqlite::Transaction;
use time::Date;

use crate::accounts::users::User;
use crate::audit::Context;
use crate::domain::order::Action;
use crate::orders::lifecycle::{self, ActInput, LineInput, NewOrder};
use crate::orders::receiving::{self, ReceiptInput, ReceiptLineInput};
use crate::orders::rules::{self, RuleInput};
use crate::orders::{self, Env, OrdersError, suggest};
use crate::practice::{self, Practice};

/// Lines per demo order: enough to look real, few enough to read.
const LINES: usize = 8;

/// The people the orders involve.
pub struct Staff<'a> {
    pub admin: &'a User,
    pub manager: &'a User,
    pub nurse: &'a User,
}

fn fail(what: &str, e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("demo orders: {what}: {e}")
}

/// Writes the purchasing part; returns how many orders it made.
pub fn generate(
    tx: &Transaction,
    ctx: &Context,
    people: &Staff,
    currency: &str,
    today: Date,
) -> anyhow::Result<u64> {
    practice::set_practice(
        tx,
        ctx,
        &Practice {
            name: "Riverside Medical Practice".into(),
            address: "12 River Road\nRiverton RT1 4AB".into(),
            phone: "+44 1632 960 123".into(),
            email: "supplies@riverside-practice.example".into(),
        },
    )
    .map_err(|e| fail("practice details", e))?;
    for (amount, role) in [(50_000, "manager"), (200_000, "admin")] {
        rules::create(
            tx,
            ctx,
            currency,
            &RuleInput {
                kind: "amount_over".into(),
                amount_minor: Some(amount),
                category_id: None,
                role: role.into(),
            },
        )
        .map_err(|e| fail("approval rule", e))?;
    }
    let env = Env {
        currency: currency.into(),
        today,
    };
    let groups: Vec<_> = suggest::suggestions(tx, &crate::domain::actor::Places::All)?
        .into_iter()
        .filter(|g| g.supplier_id.is_some())
        .collect();
    let as_user = |u: &User| -> rusqlite::Result<_> {
        Ok(ctx.with_actor(crate::catalog::locations::actor_for(tx, u)?))
    };
    let mut made = 0;
    // Four orders, each from the supplier with the most suggestions not
    // yet ordered, each with its own lines.
    let mut taken = vec![0usize; groups.len()];
    for n in 0..4 {
        let Some(g) = (0..groups.len())
            .filter(|g| taken[*g] < groups[*g].lines.len())
            .max_by_key(|g| groups[*g].lines.len() - taken[*g])
        else {
            break;
        };
        let group = &groups[g];
        let left = group.lines.len() - taken[g];
        let per = if n == 3 { left } else { (left / 2).max(1) }.min(LINES);
        let start = taken[g];
        taken[g] += per;
        let author = if n < 2 { people.nurse } else { people.manager };
        let actx = as_user(author)?;
        let input = NewOrder {
            supplier_id: group.supplier_id.expect("filtered"),
            note: String::new(),
            lines: group
                .lines
                .iter()
                .skip(start)
                .take(per)
                .map(|s| LineInput {
                    supplier_item_id: s.supplier_item_id,
                    item_id: None,
                    location_id: s.location_id,
                    packs: s.packs,
                    note: String::new(),
                })
                .collect(),
        };
        let order = lifecycle::create(tx, &actx, &env, &input).map_err(|e| fail("draft", e))?;
        made += 1;
        if n == 0 {
            continue; // stays a draft
        }
        let act = |who: &User, action: Action| -> Result<orders::Order, OrdersError> {
            let c = as_user(who)?;
            lifecycle::act(tx, &c, &env, order.id, action, &ActInput::default())
        };
        let submitted = act(author, Action::Submit).map_err(|e| fail("submit", e))?;
        if n == 1 {
            continue; // waits for approval (or was approved at once)
        }
        // Approvals: the admin covers every step.
        if submitted.state == crate::domain::order::OrderState::Submitted {
            act(people.admin, Action::Approve).map_err(|e| fail("approve", e))?;
        }
        act(people.manager, Action::MarkSent).map_err(|e| fail("mark sent", e))?;
        // Deliveries: the third order gets part of its first line, the
        // fourth everything, and is closed.
        let lines = orders::lines(tx, order.id)?;
        let delivered: Vec<ReceiptLineInput> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| n == 3 || *i == 0)
            .map(|(i, l)| ReceiptLineInput {
                order_line_id: l.id,
                quantity: if n == 3 {
                    l.quantity
                } else {
                    (l.quantity / 2).max(1)
                },
                damaged: 0,
                lot: if l.lot_tracked {
                    format!("D{}{:03}", today.year() % 100, order.id * 10 + i as i64)
                } else {
                    String::new()
                },
                expiry: if l.expiry_tracked {
                    (today + time::Duration::days(400)).to_string()
                } else {
                    String::new()
                },
                location_id: None,
                substitute_item_id: None,
            })
            .collect();
        let rctx = as_user(people.nurse)?;
        receiving::receive(
            tx,
            &rctx,
            &env,
            order.id,
            &ReceiptInput {
                delivery_note: format!("DN-{}", 4100 + order.id),
                note: String::new(),
                confirm_over_delivery: false,
                lines: delivered,
            },
        )
        .map_err(|e| fail("receive", e))?;
        if n == 3 {
            act(people.manager, Action::Close).map_err(|e| fail("close", e))?;
        }
    }
    Ok(made)
}
