//! The purchase order's life, without I/O: every state, every action, and
//! the one function ([`transition`]) that decides whether an action is
//! allowed in a state and where it leads. Pages, the API and (later) the
//! dispatch worker all go through it, so a rule changes in one place.
//!
//! ```text
//! draft → submitted → approved → queued → sent → acknowledged → partially_received → received → closed
//!           │   ▲                  │  ▲      │                        │
//!           ▼   │(more steps)      ▼  │      └─── (no confirmation) ──┘
//!        rejected → draft   dispatch_failed
//! cancelled: from draft, submitted, approved, rejected, dispatch_failed;
//!            from queued or sent only with a reason (the supplier is told)
//! ```
//!
//! Facts the rule needs but cannot know by itself (are more approval steps
//! pending? is every line filled?) are passed in as [`Facts`].

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    Draft,
    Submitted,
    Approved,
    Rejected,
    Queued,
    DispatchFailed,
    Sent,
    Acknowledged,
    PartiallyReceived,
    Received,
    Closed,
    Cancelled,
}

impl OrderState {
    pub const ALL: [OrderState; 12] = [
        OrderState::Draft,
        OrderState::Submitted,
        OrderState::Approved,
        OrderState::Rejected,
        OrderState::Queued,
        OrderState::DispatchFailed,
        OrderState::Sent,
        OrderState::Acknowledged,
        OrderState::PartiallyReceived,
        OrderState::Received,
        OrderState::Closed,
        OrderState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Draft => "draft",
            OrderState::Submitted => "submitted",
            OrderState::Approved => "approved",
            OrderState::Rejected => "rejected",
            OrderState::Queued => "queued",
            OrderState::DispatchFailed => "dispatch_failed",
            OrderState::Sent => "sent",
            OrderState::Acknowledged => "acknowledged",
            OrderState::PartiallyReceived => "partially_received",
            OrderState::Received => "received",
            OrderState::Closed => "closed",
            OrderState::Cancelled => "cancelled",
        }
    }

    /// How people read it.
    pub fn label(self) -> &'static str {
        match self {
            OrderState::Draft => "Draft",
            OrderState::Submitted => "Waiting for approval",
            OrderState::Approved => "Approved",
            OrderState::Rejected => "Rejected",
            OrderState::Queued => "Queued to send",
            OrderState::DispatchFailed => "Sending failed",
            OrderState::Sent => "Sent",
            OrderState::Acknowledged => "Confirmed by supplier",
            OrderState::PartiallyReceived => "Partially received",
            OrderState::Received => "Received",
            OrderState::Closed => "Closed",
            OrderState::Cancelled => "Cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<OrderState> {
        OrderState::ALL
            .into_iter()
            .find(|s| s.as_str() == raw.trim())
    }

    /// Lines may be added, changed and removed.
    pub fn editable(self) -> bool {
        self == OrderState::Draft
    }

    /// The supplier has (or is about to have) the order: goods may arrive.
    pub fn receivable(self) -> bool {
        matches!(
            self,
            OrderState::Sent | OrderState::Acknowledged | OrderState::PartiallyReceived
        )
    }

    /// Still expected to bring stock: what it has not delivered yet counts
    /// as "on order" for reorder suggestions.
    pub fn open(self) -> bool {
        !matches!(
            self,
            OrderState::Received | OrderState::Closed | OrderState::Cancelled
        )
    }

    /// Prices are captured: the order's total no longer follows the catalog.
    pub fn priced(self) -> bool {
        !matches!(self, OrderState::Draft | OrderState::Rejected)
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Ask for approval (or, when no rule applies, approve at once).
    Submit,
    /// One approval step; the order is approved when none is left.
    Approve,
    /// Send the order back, with a reason.
    Reject,
    /// A rejected order becomes a draft again, to be changed.
    Reopen,
    /// Hand the order to stockroom's dispatch to send.
    Queue,
    /// Dispatch reported success.
    DispatchSucceeded,
    /// Dispatch gave up (permanent failure).
    DispatchFailed,
    /// Try dispatch again (after fixing the channel).
    Retry,
    /// The order was placed outside stockroom (phone, supplier portal).
    MarkSent,
    /// The supplier confirmed the order.
    Acknowledge,
    /// Goods arrived (part or all).
    Receive,
    /// Nothing more is expected.
    Close,
    Cancel,
}

impl Action {
    pub const ALL: [Action; 13] = [
        Action::Submit,
        Action::Approve,
        Action::Reject,
        Action::Reopen,
        Action::Queue,
        Action::DispatchSucceeded,
        Action::DispatchFailed,
        Action::Retry,
        Action::MarkSent,
        Action::Acknowledge,
        Action::Receive,
        Action::Close,
        Action::Cancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Reopen => "reopen",
            Action::Queue => "queue",
            Action::DispatchSucceeded => "dispatch_succeeded",
            Action::DispatchFailed => "dispatch_failed",
            Action::Retry => "retry",
            Action::MarkSent => "mark_sent",
            Action::Acknowledge => "acknowledge",
            Action::Receive => "receive",
            Action::Close => "close",
            Action::Cancel => "cancel",
        }
    }

    /// A verb for messages: "cannot {verb} an order that is …".
    pub fn verb(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Reopen => "reopen",
            Action::Queue => "send",
            Action::DispatchSucceeded => "mark as delivered to the supplier",
            Action::DispatchFailed => "mark as failed to send",
            Action::Retry => "retry sending",
            Action::MarkSent => "mark as sent",
            Action::Acknowledge => "record the supplier's confirmation of",
            Action::Receive => "receive goods against",
            Action::Close => "close",
            Action::Cancel => "cancel",
        }
    }

    pub fn parse(raw: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == raw.trim())
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the caller knows about the order at the moment of the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Facts {
    /// The order has at least one line.
    pub has_lines: bool,
    /// A non-blank reason was given.
    pub reason: bool,
    /// Approval steps still open once this action is applied (for
    /// `Submit`: how many steps the rules require; for `Approve`: how many
    /// remain after this approval).
    pub steps_left: usize,
    /// After this receipt every line is filled.
    pub all_received: bool,
}

/// Why an action was refused: the message names the order's state and
/// what would be needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The action is never allowed in this state.
    NotNow { action: Action, state: OrderState },
    /// Allowed in this state only with a reason.
    ReasonRequired { action: Action, state: OrderState },
    /// An order without lines cannot be submitted.
    NoLines,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotNow { action, state } => write!(
                f,
                "cannot {} an order that is {}",
                action.verb(),
                state.label().to_lowercase()
            ),
            Refusal::ReasonRequired { action, state } => write!(
                f,
                "a reason is required to {} an order that is {}",
                action.verb(),
                state.label().to_lowercase()
            ),
            Refusal::NoLines => f.write_str("an order needs at least one line to be submitted"),
        }
    }
}

/// Where an allowed action leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub to: OrderState,
    /// The supplier already has the order (or may have it): it must be
    /// told about the cancellation through the same channel.
    pub notify_supplier: bool,
}

impl Outcome {
    fn to(to: OrderState) -> Self {
        Outcome {
            to,
            notify_supplier: false,
        }
    }
}

/// The one rule for every (state, action) pair.
pub fn transition(state: OrderState, action: Action, facts: Facts) -> Result<Outcome, Refusal> {
    use Action as A;
    use OrderState as S;
    let not_now = Err(Refusal::NotNow { action, state });
    let needs_reason = Err(Refusal::ReasonRequired { action, state });
    Ok(match (state, action) {
        (S::Draft, A::Submit) if !facts.has_lines => return Err(Refusal::NoLines),
        (S::Draft, A::Submit) if facts.steps_left == 0 => Outcome::to(S::Approved),
        (S::Draft, A::Submit) => Outcome::to(S::Submitted),
        (S::Submitted, A::Approve) if facts.steps_left == 0 => Outcome::to(S::Approved),
        (S::Submitted, A::Approve) => Outcome::to(S::Submitted),
        (S::Submitted, A::Reject) if !facts.reason => return needs_reason,
        (S::Submitted, A::Reject) => Outcome::to(S::Rejected),
        (S::Rejected, A::Reopen) => Outcome::to(S::Draft),
        (S::Approved, A::Queue) | (S::DispatchFailed, A::Retry) => Outcome::to(S::Queued),
        (S::Queued, A::DispatchSucceeded) => Outcome::to(S::Sent),
        (S::Queued, A::DispatchFailed) => Outcome::to(S::DispatchFailed),
        (S::Approved | S::DispatchFailed, A::MarkSent) => Outcome::to(S::Sent),
        (S::Sent, A::Acknowledge) => Outcome::to(S::Acknowledged),
        (S::Sent | S::Acknowledged | S::PartiallyReceived, A::Receive) => {
            Outcome::to(if facts.all_received {
                S::Received
            } else {
                S::PartiallyReceived
            })
        }
        (S::Received, A::Close) => Outcome::to(S::Closed),
        // Closing with lines still open: the rest will not come.
        (S::PartiallyReceived, A::Close) if !facts.reason => return needs_reason,
        (S::PartiallyReceived, A::Close) => Outcome::to(S::Closed),
        (S::Draft | S::Submitted | S::Approved | S::Rejected | S::DispatchFailed, A::Cancel) => {
            Outcome::to(S::Cancelled)
        }
        (S::Queued | S::Sent | S::Acknowledged, A::Cancel) if !facts.reason => {
            return needs_reason;
        }
        (S::Queued | S::Sent | S::Acknowledged, A::Cancel) => Outcome {
            to: S::Cancelled,
            notify_supplier: true,
        },
        _ => return not_now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use OrderState as S;

    /// What each (state, action) pair must do, given `Facts` with lines, a
    /// reason, no steps left and all lines received. `None` = refused.
    fn expected(state: OrderState, action: Action) -> Option<OrderState> {
        match (state, action) {
            (S::Draft, A::Submit) => Some(S::Approved),
            (S::Submitted, A::Approve) => Some(S::Approved),
            (S::Submitted, A::Reject) => Some(S::Rejected),
            (S::Rejected, A::Reopen) => Some(S::Draft),
            (S::Approved, A::Queue) => Some(S::Queued),
            (S::DispatchFailed, A::Retry) => Some(S::Queued),
            (S::Queued, A::DispatchSucceeded) => Some(S::Sent),
            (S::Queued, A::DispatchFailed) => Some(S::DispatchFailed),
            (S::Approved, A::MarkSent) => Some(S::Sent),
            (S::DispatchFailed, A::MarkSent) => Some(S::Sent),
            (S::Sent, A::Acknowledge) => Some(S::Acknowledged),
            (S::Sent, A::Receive) => Some(S::Received),
            (S::Acknowledged, A::Receive) => Some(S::Received),
            (S::PartiallyReceived, A::Receive) => Some(S::Received),
            (S::Received, A::Close) => Some(S::Closed),
            (S::PartiallyReceived, A::Close) => Some(S::Closed),
            (
                S::Draft
                | S::Submitted
                | S::Approved
                | S::Rejected
                | S::DispatchFailed
                | S::Queued
                | S::Sent
                | S::Acknowledged,
                A::Cancel,
            ) => Some(S::Cancelled),
            _ => None,
        }
    }

    fn all_facts() -> Facts {
        Facts {
            has_lines: true,
            reason: true,
            steps_left: 0,
            all_received: true,
        }
    }

    #[test]
    fn every_state_action_pair_is_decided_by_the_table() {
        let mut allowed = 0;
        for state in OrderState::ALL {
            for action in Action::ALL {
                let got = transition(state, action, all_facts());
                match expected(state, action) {
                    Some(to) => {
                        allowed += 1;
                        assert_eq!(got.map(|o| o.to), Ok(to), "{state} + {action}");
                    }
                    None => assert_eq!(
                        got,
                        Err(Refusal::NotNow { action, state }),
                        "{state} + {action} must be refused"
                    ),
                }
            }
        }
        assert_eq!(allowed, 24, "allowed pairs");
    }

    #[test]
    fn facts_steer_the_allowed_pairs() {
        let f = all_facts();
        // Submitting needs lines; with approval steps it waits for them.
        assert_eq!(
            transition(
                S::Draft,
                A::Submit,
                Facts {
                    has_lines: false,
                    ..f
                }
            ),
            Err(Refusal::NoLines)
        );
        let steps = Facts { steps_left: 2, ..f };
        assert_eq!(
            transition(S::Draft, A::Submit, steps).unwrap().to,
            S::Submitted
        );
        assert_eq!(
            transition(S::Submitted, A::Approve, steps).unwrap().to,
            S::Submitted
        );
        // A partial receipt.
        let partial = Facts {
            all_received: false,
            ..f
        };
        for s in [S::Sent, S::Acknowledged, S::PartiallyReceived] {
            assert_eq!(
                transition(s, A::Receive, partial).unwrap().to,
                S::PartiallyReceived
            );
        }
        // Reasons: rejecting, short-closing, cancelling what the supplier has.
        let bare = Facts { reason: false, ..f };
        for (s, a) in [
            (S::Submitted, A::Reject),
            (S::PartiallyReceived, A::Close),
            (S::Queued, A::Cancel),
            (S::Sent, A::Cancel),
            (S::Acknowledged, A::Cancel),
        ] {
            assert_eq!(
                transition(s, a, bare),
                Err(Refusal::ReasonRequired {
                    action: a,
                    state: s
                }),
                "{s} + {a}"
            );
        }
        for s in [
            S::Draft,
            S::Submitted,
            S::Approved,
            S::Rejected,
            S::DispatchFailed,
        ] {
            assert_eq!(
                transition(s, A::Cancel, bare).unwrap().to,
                S::Cancelled,
                "{s}"
            );
            assert!(!transition(s, A::Cancel, bare).unwrap().notify_supplier);
        }
        assert_eq!(
            transition(S::Received, A::Close, bare).unwrap().to,
            S::Closed
        );
        // The supplier is told only when it may already have the order.
        for s in [S::Queued, S::Sent, S::Acknowledged] {
            assert!(transition(s, A::Cancel, f).unwrap().notify_supplier, "{s}");
        }
    }

    #[test]
    fn refusals_read_as_sentences() {
        let r = transition(S::Closed, A::Receive, all_facts()).unwrap_err();
        assert_eq!(
            r.to_string(),
            "cannot receive goods against an order that is closed"
        );
        let r = transition(S::Sent, A::Cancel, Facts::default()).unwrap_err();
        assert_eq!(
            r.to_string(),
            "a reason is required to cancel an order that is sent"
        );
    }

    #[test]
    fn names_round_trip() {
        for s in OrderState::ALL {
            assert_eq!(OrderState::parse(s.as_str()), Some(s));
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(OrderState::parse("shipped"), None);
    }
}
