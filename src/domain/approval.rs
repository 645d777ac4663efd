//! Approval rules, without I/O: which approval steps an order needs, and
//! who may take one.
//!
//! A rule names a role (manager or admin) and a condition: the order's
//! total is above an amount, or it contains an item of a category. The
//! rules that apply to an order are grouped by role into steps, lowest
//! role first: an order over both the manager's and the admin's amount
//! waits for a manager, then for an admin. An approval by a user takes
//! every open step their role covers (an admin covers a manager's step),
//! so one admin may approve at once what would take a manager and an
//! admin otherwise. Nobody approves an order they created or submitted.

use super::Role;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// The order's total (minor units) is above this amount.
    AmountOver { minor: i64 },
    /// The order contains an item of this category.
    Category { category_id: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: i64,
    pub condition: Condition,
    /// Manager or admin.
    pub role: Role,
}

/// The order as the rules see it.
#[derive(Debug, Clone, Default)]
pub struct OrderFacts {
    pub total_minor: i64,
    pub category_ids: Vec<i64>,
}

/// One approval an order waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub role: Role,
    /// The rules that asked for it.
    pub rule_ids: Vec<i64>,
}

/// Rank for "covers": an admin may take a manager's step.
fn rank(role: Role) -> u8 {
    match role {
        Role::Admin => 2,
        Role::Manager => 1,
        Role::Staff | Role::Viewer => 0,
    }
}

pub fn applies(rule: &Rule, order: &OrderFacts) -> bool {
    match rule.condition {
        Condition::AmountOver { minor } => order.total_minor > minor,
        Condition::Category { category_id } => order.category_ids.contains(&category_id),
    }
}

/// The steps `order` needs under `rules`, lowest role first; none when no
/// rule applies (the order is approved on submission).
pub fn steps(rules: &[Rule], order: &OrderFacts) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    for rule in rules.iter().filter(|r| applies(r, order)) {
        match steps.iter_mut().find(|s| s.role == rule.role) {
            Some(s) => s.rule_ids.push(rule.id),
            None => steps.push(Step {
                role: rule.role,
                rule_ids: vec![rule.id],
            }),
        }
    }
    steps.sort_by_key(|s| rank(s.role));
    steps
}

/// Why someone may not approve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAllowed {
    /// They created or submitted the order.
    OwnOrder,
    /// Their role covers none of the open steps.
    Role { needed: Role },
    /// Nothing is waiting.
    NothingOpen,
}

impl std::fmt::Display for NotAllowed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotAllowed::OwnOrder => {
                f.write_str("you cannot approve an order you created or submitted")
            }
            NotAllowed::Role { needed } => {
                let who = needed.label().to_lowercase();
                let article = if who.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                write!(f, "this order is waiting for approval by {article} {who}")
            }
            NotAllowed::NothingOpen => f.write_str("this order is not waiting for an approval"),
        }
    }
}

/// Which of the `open` steps (by role) `approver` takes, or why none.
/// `own` is true when the approver created or submitted the order.
pub fn takes(open: &[Role], approver: Role, own: bool) -> Result<Vec<Role>, NotAllowed> {
    let Some(lowest) = open.iter().copied().min_by_key(|r| rank(*r)) else {
        return Err(NotAllowed::NothingOpen);
    };
    if own {
        return Err(NotAllowed::OwnOrder);
    }
    let taken: Vec<Role> = open
        .iter()
        .copied()
        .filter(|r| rank(approver) >= rank(*r) && rank(approver) > 0)
        .collect();
    if taken.is_empty() {
        return Err(NotAllowed::Role { needed: lowest });
    }
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Vec<Rule> {
        vec![
            Rule {
                id: 1,
                condition: Condition::AmountOver { minor: 50_000 },
                role: Role::Manager,
            },
            Rule {
                id: 2,
                condition: Condition::AmountOver { minor: 200_000 },
                role: Role::Admin,
            },
            Rule {
                id: 3,
                condition: Condition::Category { category_id: 7 },
                role: Role::Manager,
            },
        ]
    }

    fn order(total_minor: i64, category_ids: &[i64]) -> OrderFacts {
        OrderFacts {
            total_minor,
            category_ids: category_ids.to_vec(),
        }
    }

    #[test]
    fn steps_follow_the_rules_that_apply() {
        assert!(
            steps(&rules(), &order(50_000, &[1])).is_empty(),
            "at the amount is not above it"
        );
        assert_eq!(
            steps(&rules(), &order(50_001, &[])),
            vec![Step {
                role: Role::Manager,
                rule_ids: vec![1]
            }]
        );
        // Category and amount for the same role make one step.
        assert_eq!(
            steps(&rules(), &order(60_000, &[7])),
            vec![Step {
                role: Role::Manager,
                rule_ids: vec![1, 3]
            }]
        );
        // Two roles: two steps, the manager first.
        let s = steps(&rules(), &order(250_000, &[]));
        assert_eq!(
            s.iter().map(|s| s.role).collect::<Vec<_>>(),
            [Role::Manager, Role::Admin]
        );
        assert_eq!(
            steps(&rules(), &order(10, &[7])),
            vec![Step {
                role: Role::Manager,
                rule_ids: vec![3]
            }]
        );
    }

    #[test]
    fn who_may_take_a_step() {
        use Role::*;
        assert_eq!(takes(&[Manager, Admin], Manager, false), Ok(vec![Manager]));
        assert_eq!(
            takes(&[Manager, Admin], Admin, false),
            Ok(vec![Manager, Admin])
        );
        assert_eq!(takes(&[Admin], Admin, false), Ok(vec![Admin]));
        assert_eq!(
            takes(&[Admin], Manager, false),
            Err(NotAllowed::Role { needed: Admin })
        );
        assert_eq!(
            takes(&[Manager], Staff, false),
            Err(NotAllowed::Role { needed: Manager })
        );
        assert_eq!(
            takes(&[Manager], Viewer, false),
            Err(NotAllowed::Role { needed: Manager })
        );
        assert_eq!(takes(&[Manager], Admin, true), Err(NotAllowed::OwnOrder));
        assert_eq!(takes(&[], Admin, false), Err(NotAllowed::NothingOpen));
        assert_eq!(
            NotAllowed::Role { needed: Admin }.to_string(),
            "this order is waiting for approval by an administrator"
        );
    }
}
