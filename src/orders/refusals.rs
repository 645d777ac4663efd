//! The stable codes orders refuses with (see `docs/errors.md`): each names
//! one reason an action on an order, a return or a credit was turned down,
//! so API clients can tell "not now" from "not you" without reading the
//! sentence. The sentence itself is made where the refusal happens.

use crate::domain::refusal::Code;

/// The action is not allowed in the order's state.
pub const ACTION_NOT_ALLOWED: Code = Code::conflict(
    "order-action-not-allowed",
    "The order's state does not allow this action now (e.g. approving a draft, receiving a cancelled order).",
);
/// Submitting an order without lines.
pub const NO_LINES: Code = Code::conflict(
    "order-has-no-lines",
    "An order needs at least one line to be submitted.",
);
/// Only a draft can be edited.
pub const NOT_A_DRAFT: Code = Code::conflict(
    "order-not-a-draft",
    "Only a draft order's lines and details can be changed.",
);
/// Approving or rejecting an order one created or submitted.
pub const NOT_APPROVABLE_BY_SUBMITTER: Code = Code::conflict(
    "order-not-approvable-by-submitter",
    "Nobody approves or rejects an order they created or submitted.",
);
/// The approver's role covers none of the open approval steps.
pub const APPROVAL_NOT_FOR_ROLE: Code = Code::conflict(
    "order-approval-not-for-role",
    "The order waits for approval by another role (e.g. an administrator above the amount set in the rules).",
);
/// Approving or rejecting an order no approval step waits on.
pub const NOT_WAITING_FOR_APPROVAL: Code = Code::conflict(
    "order-not-waiting-for-approval",
    "No approval step of the order is open.",
);
/// Approving, receiving or returning is done by a signed-in person.
pub const NEEDS_A_PERSON: Code = Code::conflict(
    "order-action-needs-a-person",
    "Approving, receiving and returning goods are done by a signed-in person, not by the system or a supplier.",
);
/// The action on an order in this state is for managers.
pub const NEEDS_A_MANAGER: Code = Code::conflict(
    "order-action-needs-a-manager",
    "Only a practice manager or an administrator may take this action on an order in its current state.",
);
/// Sending an order to a supplier with no sending channel.
pub const SUPPLIER_HAS_NO_CHANNEL: Code = Code::conflict(
    "supplier-has-no-channel",
    "The supplier has no sending channel: choose one on its page, or place the order by hand and mark it as sent.",
);
/// Marking a credit as received twice.
pub const CREDIT_ALREADY_RECEIVED: Code = Code::conflict(
    "credit-already-received",
    "The supplier's credit was already recorded as received.",
);
/// Drafting an order from suggestions when nothing is to be ordered.
pub const NOTHING_TO_ORDER: Code = Code::conflict(
    "nothing-to-order",
    "No item the supplier sells is at or below its reorder point without enough already on order.",
);
/// A record the order names (an item, a location, a supplier line) does not exist.
pub const RECORD_MISSING: Code = Code::conflict(
    "order-names-a-missing-record",
    "The order names an item, location, supplier or supplier line that does not exist (or is inactive).",
);

/// Every code orders refuses with.
pub const REFUSALS: &[Code] = &[
    ACTION_NOT_ALLOWED,
    NO_LINES,
    NOT_A_DRAFT,
    NOT_APPROVABLE_BY_SUBMITTER,
    APPROVAL_NOT_FOR_ROLE,
    NOT_WAITING_FOR_APPROVAL,
    NEEDS_A_PERSON,
    NEEDS_A_MANAGER,
    SUPPLIER_HAS_NO_CHANNEL,
    CREDIT_ALREADY_RECEIVED,
    NOTHING_TO_ORDER,
    RECORD_MISSING,
];

/// The code of the order state machine's refusal.
pub fn of_transition(r: &crate::domain::order::Refusal) -> Code {
    use crate::domain::order::Refusal as R;
    match r {
        R::NoLines => NO_LINES,
        R::NotNow { .. } | R::ReasonRequired { .. } => ACTION_NOT_ALLOWED,
    }
}

/// The code of an approval the rules do not allow.
pub fn of_approval(r: &crate::domain::approval::NotAllowed) -> Code {
    use crate::domain::approval::NotAllowed as N;
    match r {
        N::OwnOrder => NOT_APPROVABLE_BY_SUBMITTER,
        N::Role { .. } => APPROVAL_NOT_FOR_ROLE,
        N::NothingOpen => NOT_WAITING_FOR_APPROVAL,
    }
}
