//! Approval rules as the practice configures them, and the queue of orders
//! waiting for a given approver.

use rusqlite::{Connection, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::Date;

use super::{Order, OrdersError};
use crate::accounts::users::User;
use crate::audit::{self, Context, Event};
use crate::catalog::categories;
use crate::db::Cached;
use crate::domain::Role;
use crate::domain::approval::{Condition, Rule};
use crate::validation::FieldErrors;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ApprovalRule {
    pub id: i64,
    /// `amount_over` or `category`.
    pub kind: String,
    /// For `amount_over`: the total (minor units) above which it applies.
    pub amount_minor: Option<i64>,
    /// For `category`: orders with an item of this category.
    pub category_id: Option<i64>,
    pub category_name: String,
    /// Who must approve: manager or admin.
    pub role: Role,
    pub active: bool,
    /// The rule in words, e.g. "total above 500.00 EUR → practice manager".
    pub describe: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RuleInput {
    /// `amount_over` or `category`.
    pub kind: String,
    #[serde(default)]
    pub amount_minor: Option<i64>,
    #[serde(default)]
    pub category_id: Option<i64>,
    /// `manager` or `admin`.
    pub role: String,
}

fn describe(kind: &str, amount: Option<i64>, category: &str, role: Role, currency: &str) -> String {
    let what = match kind {
        "amount_over" => format!(
            "total above {} {currency}",
            crate::domain::money::format_minor(amount.unwrap_or(0))
        ),
        _ => format!("contains {category}"),
    };
    format!("{what} → {}", role.label().to_lowercase())
}

/// Every rule, active first; amounts described in `currency`.
pub fn list(conn: &Connection, currency: &str) -> rusqlite::Result<Vec<ApprovalRule>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.kind, r.amount_minor, r.category_id, coalesce(c.name, ''), r.role, r.active
         FROM approval_rules r LEFT JOIN categories c ON c.id = r.category_id
         ORDER BY r.active DESC, r.role = 'admin', r.amount_minor, c.name, r.id",
    )?;
    let rows = stmt.query_map([], |r| {
        let kind: String = r.get(1)?;
        let amount: Option<i64> = r.get(2)?;
        let category: String = r.get(4)?;
        let role: String = r.get(5)?;
        let role: Role = role.parse().unwrap_or(Role::Admin);
        Ok(ApprovalRule {
            id: r.get(0)?,
            describe: describe(&kind, amount, &category, role, currency),
            kind,
            amount_minor: amount,
            category_id: r.get(3)?,
            category_name: category,
            role,
            active: r.get(6)?,
        })
    })?;
    rows.collect()
}

/// The active rules as `domain::approval` reads them.
pub fn active(conn: &Connection) -> rusqlite::Result<Vec<Rule>> {
    Ok(list(conn, "")?
        .into_iter()
        .filter(|r| r.active)
        .map(|r| Rule {
            id: r.id,
            condition: match r.kind.as_str() {
                "amount_over" => Condition::AmountOver {
                    minor: r.amount_minor.unwrap_or(0),
                },
                _ => Condition::Category {
                    category_id: r.category_id.unwrap_or(0),
                },
            },
            role: r.role,
        })
        .collect())
}

/// Adds a rule (admins: the route asks for it).
pub fn create(
    tx: &Transaction,
    ctx: &Context,
    currency: &str,
    input: &RuleInput,
) -> Result<ApprovalRule, OrdersError> {
    let mut errors = FieldErrors::default();
    let role = match input.role.trim() {
        "manager" => Some(Role::Manager),
        "admin" => Some(Role::Admin),
        _ => {
            errors.add("role", "must be manager or admin");
            None
        }
    };
    let (amount, category) = match input.kind.trim() {
        "amount_over" => match input.amount_minor {
            Some(a) if (0..=100_000_000_000).contains(&a) => (Some(a), None),
            _ => {
                errors.add("amount_minor", "is required: an amount of at least 0");
                (None, None)
            }
        },
        "category" => match input.category_id {
            Some(id) if categories::get(tx, id)?.is_some() => (None, Some(id)),
            _ => {
                errors.add("category_id", "no such category");
                (None, None)
            }
        },
        _ => {
            errors.add("kind", "must be amount_over or category");
            (None, None)
        }
    };
    errors.into_result()?;
    let exists: bool = tx.row_cached(
        "SELECT EXISTS (SELECT 1 FROM approval_rules WHERE active = 1 AND kind = ?1
            AND amount_minor IS ?2 AND category_id IS ?3 AND role = ?4)",
        params![input.kind.trim(), amount, category, input.role.trim()],
        |r| r.get(0),
    )?;
    if exists {
        return Err(FieldErrors::single("kind", "the same rule exists already").into());
    }
    tx.exec_cached(
        "INSERT INTO approval_rules (kind, amount_minor, category_id, role, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![
            input.kind.trim(),
            amount,
            category,
            role.map(Role::as_str),
            ctx.at.to_db()
        ],
    )?;
    let id = tx.last_insert_rowid();
    audit::record(
        tx,
        ctx,
        Event::new("approval_rule.create", "approval_rule", id).after(json!({
            "kind": input.kind.trim(), "amount_minor": amount, "category_id": category,
            "role": input.role.trim(),
        })),
    )?;
    Ok(list(tx, currency)?
        .into_iter()
        .find(|r| r.id == id)
        .expect("just written"))
}

/// Switches a rule off (or on again); rules are kept for the record.
pub fn set_active(
    tx: &Transaction,
    ctx: &Context,
    currency: &str,
    id: i64,
    active: bool,
) -> Result<ApprovalRule, OrdersError> {
    let n = tx.exec_cached(
        "UPDATE approval_rules SET active = ?1, updated_at = ?2 WHERE id = ?3",
        params![active, ctx.at.to_db(), id],
    )?;
    if n == 0 {
        return Err(OrdersError::Missing("approval rule"));
    }
    audit::record(
        tx,
        ctx,
        Event::new("approval_rule.set_active", "approval_rule", id)
            .after(json!({"active": active})),
    )?;
    Ok(list(tx, currency)?
        .into_iter()
        .find(|r| r.id == id)
        .expect("exists"))
}

/// Orders waiting for an approval `user` may give: an open step their role
/// covers, on an order they neither created nor submitted, whose every
/// line is at a place they may use (`places`; see [`super::Reach`]).
/// Oldest first.
pub fn waiting_for(
    conn: &Connection,
    user: &User,
    places: &crate::domain::actor::Places,
    today: Date,
) -> rusqlite::Result<Vec<Order>> {
    let roles: &[&str] = match user.role {
        Role::Admin => &["manager", "admin"],
        Role::Manager => &["manager"],
        Role::Staff | Role::Viewer => return Ok(Vec::new()),
    };
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT o.id FROM order_approvals a JOIN purchase_orders o ON o.id = a.order_id
         WHERE a.approver_id IS NULL AND a.superseded = 0 AND o.state = 'submitted'
           AND a.role IN (?1, ?2)
           AND o.created_by IS NOT ?3 AND o.submitted_by IS NOT ?3
         ORDER BY o.submitted_at, o.id",
    )?;
    let ids: Vec<i64> = stmt
        .query_map(params![roles[0], roles[roles.len() - 1], user.id], |r| {
            r.get(0)
        })?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if !super::reach(conn, places, id)?.sees_all() {
            continue;
        }
        if let Some(o) = super::get(conn, id, today)? {
            out.push(o);
        }
    }
    Ok(out)
}
