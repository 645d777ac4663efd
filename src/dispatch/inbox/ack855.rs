//! An 855 acknowledgment applied to its order: each answer matched to an
//! order line and stored, the order acknowledged as the supplier (or, for
//! an order acknowledged before, the new answers noted on its timeline).

use rusqlite::{Transaction, params};

use super::apply::{Incoming, Problem, awaited, describe_part, expect, order_of, same};
use crate::audit::Context;
use crate::db::Cached;
use crate::dispatch::x12::{Ack855, AckLine, LineStatus};
use crate::domain::order::{Action, OrderState};
use crate::orders::lifecycle::{self, ActInput};
use crate::orders::{self, Env, OrderLine, Step, add_event};

/// The order line an acknowledgment line answers: by line number (1 for
/// the first line sent) when its codes agree, else by the supplier's code,
/// else by stockroom's item code.
fn line_for<'a>(lines: &'a [OrderLine], l: &AckLine) -> Option<&'a OrderLine> {
    let numbered = l
        .line
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| lines.get(i))
        .filter(|c| {
            (l.vendor_part.trim().is_empty() && l.buyer_part.trim().is_empty())
                || same(&c.supplier_code, &l.vendor_part)
                || same(&c.item_code, &l.buyer_part)
        });
    numbered
        .or_else(|| {
            lines
                .iter()
                .find(|c| same(&c.supplier_code, &l.vendor_part))
        })
        .or_else(|| lines.iter().find(|c| same(&c.item_code, &l.buyer_part)))
}

fn status_columns(status: &LineStatus) -> (&'static str, &str) {
    match status {
        LineStatus::Accepted => ("accepted", ""),
        LineStatus::Backordered => ("backordered", ""),
        LineStatus::Rejected => ("rejected", ""),
        LineStatus::Changed => ("changed", ""),
        LineStatus::Substituted { vendor_part } => ("substituted", vendor_part.as_str()),
    }
}

/// An 855: each line's answer recorded; a sent order acknowledged with the
/// latest date the supplier gave; an order acknowledged before gets the
/// new answers (and date). A rejection of the whole order (BAK02 RJ/RD)
/// acknowledges nothing: the order stays as it is, its lines marked
/// rejected, for the practice to cancel or order elsewhere.
pub(super) fn apply(
    tx: &Transaction,
    ctx: &Context,
    env: &Env,
    file_id: i64,
    file: &Incoming,
    ack: &Ack855,
) -> Result<String, Problem> {
    let what = "acknowledgment";
    let order = order_of(tx, env, file, &ack.po_number, what)?;
    awaited(&order, what)?;
    let lines = orders::lines(tx, order.id)?;
    let refused = matches!(ack.ack_type.as_str(), "RJ" | "RD");
    let mut answers: Vec<(&OrderLine, &str, Option<i64>, String, &str)> = Vec::new();
    for l in &ack.lines {
        let Some(line) = line_for(&lines, l) else {
            return Err(Problem::Reject(format!(
                "the acknowledgment answers line {} ({}), which is not on order {}",
                l.line.trim(),
                describe_part(&l.vendor_part, &l.buyer_part),
                order.number
            )));
        };
        if l.quantity.is_some_and(|q| q < 0) {
            return Err(Problem::Reject(format!(
                "the acknowledgment gives line {} a negative quantity",
                l.line.trim()
            )));
        }
        let (status, substitute) = status_columns(&l.status);
        let date = l.date.map(|d| d.to_string()).unwrap_or_default();
        answers.push((line, status, l.quantity, date, substitute));
    }
    if answers.is_empty() && refused {
        // Rejected without detail: every line is.
        for line in &lines {
            answers.push((line, "rejected", Some(line.packs), String::new(), ""));
        }
    }
    for (line, status, quantity, date, substitute) in &answers {
        tx.exec_cached(
            "INSERT INTO edi_line_acks (inbound_file_id, order_line_id, status, quantity, date,
                substitute_part)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![file_id, line.id, status, quantity, date, substitute],
        )?;
    }
    let latest = ack.lines.iter().filter_map(|l| l.date).max();
    let mut said = Vec::new();
    if refused {
        add_event(
            tx,
            ctx,
            order.id,
            Step {
                reason: "the supplier rejected the order (EDI 855)",
                ..Step::within("supplier_rejected", order.state)
            },
        )?;
        said.push(format!(
            "{}: the supplier rejected the order; it stays {} for the practice to cancel or order elsewhere",
            order.number,
            order.state.label().to_lowercase()
        ));
    } else if order.state == OrderState::Sent {
        lifecycle::act(
            tx,
            ctx,
            env,
            order.id,
            Action::Acknowledge,
            &ActInput {
                expected_on: latest.map(|d| d.to_string()).unwrap_or_default(),
                ..ActInput::default()
            },
        )?;
        said.push(format!("{} acknowledged", order.number));
    } else {
        if let Some(d) = latest.map(|d| d.to_string())
            && d != order.expected_on
        {
            expect(tx, ctx, env, &order, d)?;
        }
        add_event(
            tx,
            ctx,
            order.id,
            Step {
                reason: "new line answers from the supplier (EDI 855)",
                ..Step::within("acknowledgment", order.state)
            },
        )?;
        said.push(format!("{}: new answers", order.number));
    }
    if let Some(d) = latest.filter(|_| !refused) {
        said.push(format!("delivery expected {d}"));
    }
    said.push(count_statuses(&answers));
    Ok(said.join(", "))
}

/// "7 lines answered: 4 accepted, 1 back-ordered …".
fn count_statuses(answers: &[(&OrderLine, &str, Option<i64>, String, &str)]) -> String {
    let names = [
        ("accepted", "accepted"),
        ("backordered", "back-ordered"),
        ("substituted", "substituted"),
        ("changed", "changed"),
        ("rejected", "rejected"),
    ];
    let parts: Vec<String> = names
        .iter()
        .filter_map(|(status, word)| {
            let n = answers.iter().filter(|a| a.1 == *status).count();
            (n > 0).then(|| format!("{n} {word}"))
        })
        .collect();
    if parts.is_empty() {
        "no line answers".into()
    } else {
        format!("line answers: {}", parts.join(", "))
    }
}
