//! The application's own kinds of job, each with its payload as a typed
//! struct: what `orders`, `dispatch` and `notify` enqueue and what their
//! handlers read back. A payload here is plain data (ids and small
//! values), never a capability's types: the queue sits below the modules
//! that use it and must not learn about them.
//!
//! Underneath, the queue still stores a kind's name and its JSON payload,
//! and runs kinds by name, so that kinds it does not know — those tests
//! register, those `jobs.schedule` names — keep working. A known name is
//! held to its payload: [`JobKind::from_parts`] refuses a payload that
//! does not read as its struct, and that is how [`super::enqueue`] fills
//! the job's subject and how a handler's [`super::worker::JobContext::payload`]
//! turns a bad row into a permanent error rather than a default.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Send an order through its supplier's channel (`order.dispatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSend {
    pub order_id: i64,
}

/// Tell a supplier that an order it has is cancelled (`order.cancel_notice`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCancelNotice {
    pub order_id: i64,
}

/// Test a supplier's channel from its page (`supplier.dispatch_test`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierDispatchTest {
    pub supplier_id: i64,
}

/// Why a recurring job (the digest, a look into the EDI inboxes) runs.
/// Stored as before typed kinds existed — `{"scheduled_for": …}`,
/// `{"manual": true}`, `{"poll": true}` — so rows enqueued by an older
/// version read the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Occasion {
    /// An occurrence of its `jobs.schedule` entry, in practice-local time
    /// (`2026-11-30T07:00`).
    Scheduled { scheduled_for: String },
    /// Someone pressed "… now".
    Manual { manual: bool },
    /// The EDI inbox's own next look, queued by the previous one.
    Poll { poll: bool },
}

impl Occasion {
    pub fn manual() -> Occasion {
        Occasion::Manual { manual: true }
    }

    pub fn poll() -> Occasion {
        Occasion::Poll { poll: true }
    }
}

/// Every kind of job the application itself enqueues, with its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobKind {
    OrderSend(OrderSend),
    OrderCancelNotice(OrderCancelNotice),
    SupplierDispatchTest(SupplierDispatchTest),
    EdiInbox(Occasion),
    DigestDaily(Occasion),
}

/// What a job is about, stored beside it (indexed) so the jobs of one
/// order or supplier are found without reading payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    /// `order` or `supplier`.
    pub kind: &'static str,
    pub id: i64,
}

impl JobKind {
    pub const ORDER_SEND: &'static str = "order.dispatch";
    pub const ORDER_CANCEL_NOTICE: &'static str = "order.cancel_notice";
    pub const SUPPLIER_DISPATCH_TEST: &'static str = "supplier.dispatch_test";
    pub const EDI_INBOX: &'static str = "edi.inbox";
    pub const DIGEST_DAILY: &'static str = "digest.daily";

    /// The names of every known kind.
    pub const NAMES: [&'static str; 5] = [
        Self::ORDER_SEND,
        Self::ORDER_CANCEL_NOTICE,
        Self::SUPPLIER_DISPATCH_TEST,
        Self::EDI_INBOX,
        Self::DIGEST_DAILY,
    ];

    /// The name the queue stores and runs it by.
    pub fn name(&self) -> &'static str {
        match self {
            JobKind::OrderSend(_) => Self::ORDER_SEND,
            JobKind::OrderCancelNotice(_) => Self::ORDER_CANCEL_NOTICE,
            JobKind::SupplierDispatchTest(_) => Self::SUPPLIER_DISPATCH_TEST,
            JobKind::EdiInbox(_) => Self::EDI_INBOX,
            JobKind::DigestDaily(_) => Self::DIGEST_DAILY,
        }
    }

    /// The payload as stored.
    pub fn payload(&self) -> Value {
        let json = match self {
            JobKind::OrderSend(p) => serde_json::to_value(p),
            JobKind::OrderCancelNotice(p) => serde_json::to_value(p),
            JobKind::SupplierDispatchTest(p) => serde_json::to_value(p),
            JobKind::EdiInbox(p) | JobKind::DigestDaily(p) => serde_json::to_value(p),
        };
        json.expect("a payload of ids and strings always serialises")
    }

    pub fn subject(&self) -> Option<Subject> {
        match self {
            JobKind::OrderSend(OrderSend { order_id })
            | JobKind::OrderCancelNotice(OrderCancelNotice { order_id }) => Some(Subject {
                kind: "order",
                id: *order_id,
            }),
            JobKind::SupplierDispatchTest(SupplierDispatchTest { supplier_id }) => Some(Subject {
                kind: "supplier",
                id: *supplier_id,
            }),
            JobKind::EdiInbox(_) | JobKind::DigestDaily(_) => None,
        }
    }

    /// A stored name and payload read back: `Ok(None)` for a name this
    /// version does not know, an error naming the problem for a known name
    /// whose payload does not fit.
    pub fn from_parts(name: &str, payload: &Value) -> Result<Option<JobKind>, PayloadError> {
        let fail = |e: serde_json::Error| PayloadError {
            kind: name.to_string(),
            problem: e.to_string(),
        };
        let p = payload.clone();
        Ok(Some(match name {
            Self::ORDER_SEND => JobKind::OrderSend(serde_json::from_value(p).map_err(fail)?),
            Self::ORDER_CANCEL_NOTICE => {
                JobKind::OrderCancelNotice(serde_json::from_value(p).map_err(fail)?)
            }
            Self::SUPPLIER_DISPATCH_TEST => {
                JobKind::SupplierDispatchTest(serde_json::from_value(p).map_err(fail)?)
            }
            Self::EDI_INBOX => JobKind::EdiInbox(serde_json::from_value(p).map_err(fail)?),
            Self::DIGEST_DAILY => JobKind::DigestDaily(serde_json::from_value(p).map_err(fail)?),
            _ => return Ok(None),
        }))
    }

    /// The occurrence `scheduled_for` of a recurring kind named in
    /// `jobs.schedule`; `None` for a name that is not a known recurring
    /// kind (the scheduler enqueues those by name).
    pub fn scheduled(name: &str, scheduled_for: &str) -> Option<JobKind> {
        let occasion = Occasion::Scheduled {
            scheduled_for: scheduled_for.to_string(),
        };
        match name {
            Self::EDI_INBOX => Some(JobKind::EdiInbox(occasion)),
            Self::DIGEST_DAILY => Some(JobKind::DigestDaily(occasion)),
            _ => None,
        }
    }
}

/// A known kind's payload that does not read as its struct.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the payload of a {kind} job does not read: {problem}")]
pub struct PayloadError {
    pub kind: String,
    pub problem: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn payloads_are_stored_as_before_and_read_back() {
        let cases = [
            (
                JobKind::OrderSend(OrderSend { order_id: 7 }),
                json!({"order_id": 7}),
            ),
            (
                JobKind::OrderCancelNotice(OrderCancelNotice { order_id: 7 }),
                json!({"order_id": 7}),
            ),
            (
                JobKind::SupplierDispatchTest(SupplierDispatchTest { supplier_id: 3 }),
                json!({"supplier_id": 3}),
            ),
            (JobKind::EdiInbox(Occasion::poll()), json!({"poll": true})),
            (
                JobKind::EdiInbox(Occasion::manual()),
                json!({"manual": true}),
            ),
            (
                JobKind::scheduled("digest.daily", "2026-11-30T07:00").unwrap(),
                json!({"scheduled_for": "2026-11-30T07:00"}),
            ),
        ];
        for (kind, stored) in cases {
            assert_eq!(kind.payload(), stored, "{kind:?}");
            assert_eq!(
                JobKind::from_parts(kind.name(), &stored).unwrap(),
                Some(kind.clone())
            );
        }
        assert!(JobKind::NAMES.contains(&"order.dispatch"));
    }

    #[test]
    fn a_known_kind_with_a_payload_that_does_not_fit_is_an_error() {
        let err = JobKind::from_parts("order.dispatch", &json!({"order": 7})).unwrap_err();
        assert_eq!(err.kind, "order.dispatch");
        assert!(
            err.to_string().contains("missing field `order_id`"),
            "{err}"
        );
        assert!(JobKind::from_parts("digest.daily", &json!({})).is_err());
        assert_eq!(
            JobKind::from_parts("test.work", &json!({"anything": 1})).unwrap(),
            None,
            "unknown kinds are the queue's business"
        );
        assert_eq!(
            JobKind::scheduled("backup.verify", "2026-11-30T03:30"),
            None
        );
    }

    #[test]
    fn orders_and_supplier_tests_have_subjects() {
        let send = JobKind::OrderSend(OrderSend { order_id: 9 });
        assert_eq!(
            send.subject(),
            Some(Subject {
                kind: "order",
                id: 9
            })
        );
        assert_eq!(JobKind::DigestDaily(Occasion::manual()).subject(), None);
    }
}
