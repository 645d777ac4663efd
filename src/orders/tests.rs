use std::collections::HashSet;

use proptest::prelude::*;

use super::lifecycle::{self, ActInput, LineInput, NewOrder};
use super::receiving::{self, ReceiptInput, ReceiptLineInput};
use super::*;
use crate::accounts::users::User;
use crate::audit::Context;
use crate::db::Db;
use crate::domain::Role;
use crate::domain::actor::Places;
use crate::domain::order::Action;
use crate::domain::{Clock, SystemClock};
use crate::stock;
use rusqlite::Connection;

/// Users: 1 admin Ada, 2 manager Max, 3 manager Mia, 4 staff Sam, 5 viewer Vic.
/// Items: 1 gloves (each, no lot), 2 lidocaine (lot + expiry, category 1
/// "Drugs"), 3 swabs. Locations 1 store, 2 fridge. Supplier 1 "MedSupply":
/// gloves in boxes of 100 at 8.00, lidocaine in packs of 10 at 25.00,
/// swabs in packs of 50 at 4.00 (code SW-50).
fn setup() -> (tempfile::TempDir, Db) {
    let (dir, db) = crate::db::testing::migrated_db();
    db.write_blocking(|tx| {
        tx.execute_batch(
            "INSERT INTO users (id, username, display_name, role, password_hash, created_at, updated_at) VALUES
               (1, 'ada', 'Ada', 'admin', 'x', 'now', 'now'),
               (2, 'max', 'Max', 'manager', 'x', 'now', 'now'),
               (3, 'mia', 'Mia', 'manager', 'x', 'now', 'now'),
               (4, 'sam', 'Sam', 'staff', 'x', 'now', 'now'),
               (5, 'vic', 'Vic', 'viewer', 'x', 'now', 'now');
             INSERT INTO categories (id, name, created_at, updated_at) VALUES (1, 'Drugs', 'now', 'now');
             INSERT INTO items (id, code, name, category_id, unit, lot_tracked, expiry_tracked, created_at, updated_at) VALUES
               (1, 'GLV-M', 'Nitrile gloves M', NULL, 'each', 0, 0, 'now', 'now'),
               (2, 'LID-1', 'Lidocaine 1%', 1, 'ampoule', 1, 1, 'now', 'now'),
               (3, 'SWB', 'Swabs', NULL, 'each', 0, 0, 'now', 'now');
             INSERT INTO locations (id, parent_id, name, kind, created_at, updated_at) VALUES
               (1, NULL, 'Store', 'room', 'now', 'now'),
               (2, NULL, 'Fridge', 'fridge', 'now', 'now');
             INSERT INTO suppliers (id, name, lead_time_days, created_at, updated_at) VALUES
               (1, 'MedSupply', 3, 'now', 'now'),
               (2, 'CareCo', 5, 'now', 'now');
             INSERT INTO supplier_items (id, supplier_id, item_id, supplier_code, pack_size, price_minor, currency, preferred, created_at, updated_at) VALUES
               (1, 1, 1, 'GL-100', 100, 800, 'EUR', 1, 'now', 'now'),
               (2, 1, 2, 'LD-10', 10, 2500, 'EUR', 1, 'now', 'now'),
               (3, 1, 3, 'SW-50', 50, 400, 'EUR', 0, 'now', 'now'),
               (4, 2, 3, 'C-SW-20', 20, 100, 'EUR', 0, 'now', 'now');",
        )
        .map_err(DbError::from)
    })
    .unwrap();
    (dir, db)
}

fn user(id: i64) -> User {
    let (name, role) = match id {
        1 => ("Ada", Role::Admin),
        2 => ("Max", Role::Manager),
        3 => ("Mia", Role::Manager),
        4 => ("Sam", Role::Staff),
        _ => ("Vic", Role::Viewer),
    };
    User {
        id,
        username: name.to_lowercase(),
        display_name: name.into(),
        role,
        must_change_password: false,
        disabled: false,
        created_at: "now".into(),
    }
}

/// `u`'s audit context, now, with the locations they may use as the
/// database has them (as a request reads them).
fn ctx(c: &Connection, u: &User) -> Context {
    Context {
        actor: crate::catalog::locations::actor_for(c, u).unwrap(),
        ip: None,
        request_id: Some("test".into()),
        at: SystemClock.now(),
    }
}

fn env() -> Env {
    Env {
        currency: "EUR".into(),
        today: time::macros::date!(2026 - 11 - 30),
    }
}

fn line(si: i64, location: i64, packs: i64) -> LineInput {
    LineInput {
        supplier_item_id: Some(si),
        item_id: None,
        location_id: location,
        packs,
        note: String::new(),
    }
}

/// A draft by `by` with the given lines (supplier 1).
fn draft(db: &Db, by: i64, lines: Vec<LineInput>) -> Order {
    let u = user(by);
    db.write_blocking(|tx| {
        lifecycle::create(
            tx,
            &ctx(tx, &u),
            &env(),
            &NewOrder {
                supplier_id: 1,
                note: String::new(),
                lines,
            },
        )
    })
    .unwrap()
}

fn act(db: &Db, by: i64, id: i64, action: Action, reason: &str) -> Result<Order, OrdersError> {
    let u = user(by);
    db.write_blocking(|tx| {
        lifecycle::act(
            tx,
            &ctx(tx, &u),
            &env(),
            id,
            action,
            &ActInput {
                reason: reason.into(),
                ..ActInput::default()
            },
        )
    })
}

fn receive(
    db: &Db,
    by: i64,
    id: i64,
    input: ReceiptInput,
) -> Result<receiving::Receipt, OrdersError> {
    let u = user(by);
    db.write_blocking(|tx| receiving::receive(tx, &ctx(tx, &u), &env(), id, &input))
}

fn rl(order_line_id: i64, quantity: i64) -> ReceiptLineInput {
    ReceiptLineInput {
        order_line_id,
        quantity,
        ..ReceiptLineInput::default()
    }
}

fn receipt(lines: Vec<ReceiptLineInput>) -> ReceiptInput {
    ReceiptInput {
        lines,
        ..ReceiptInput::default()
    }
}

fn detail_of(db: &Db, id: i64) -> OrderDetail {
    db.read_blocking(|c| detail(c, id, env().today).map_err(DbError::from))
        .unwrap()
        .unwrap()
}

fn count(db: &Db, sql: &'static str) -> i64 {
    db.read_blocking(|c| c.query_row(sql, [], |r| r.get(0)).map_err(DbError::from))
        .unwrap()
}

fn level(db: &Db, item: i64, location: i64) -> i64 {
    db.read_blocking(|c| {
        c.query_row(
            "SELECT coalesce(sum(quantity), 0) FROM stock_levels WHERE item_id = ?1 AND location_id = ?2",
            [item, location],
            |r| r.get(0),
        )
        .map_err(DbError::from)
    })
    .unwrap()
}

fn add_rule(db: &Db, kind: &str, amount: Option<i64>, category: Option<i64>, role: &str) {
    let u = user(1);
    db.write_blocking(|tx| {
        rules::create(
            tx,
            &ctx(tx, &u),
            "EUR",
            &rules::RuleInput {
                kind: kind.into(),
                amount_minor: amount,
                category_id: category,
                role: role.into(),
            },
        )
    })
    .unwrap();
}

/// The message of a missing-reason refusal (a field error on `reason`).
fn reason_missing(r: Result<Order, OrdersError>) -> String {
    match r {
        Err(OrdersError::Invalid(e)) => e.get("reason").expect("on the reason").to_string(),
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn refused(r: Result<Order, OrdersError>) -> String {
    match r {
        Err(OrdersError::Refused(r)) => r.message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_draft_gets_a_yearly_number_and_merges_repeated_lines() {
    let (_d, db) = setup();
    let a = draft(&db, 4, vec![line(1, 1, 2), line(1, 1, 3), line(3, 1, 1)]);
    let b = draft(&db, 4, vec![]);
    assert_eq!(a.number, "PO-2026-00001");
    assert_eq!(b.number, "PO-2026-00002");
    let d = detail_of(&db, a.id);
    assert_eq!(d.lines.len(), 2, "same supplier line and location merged");
    assert_eq!((d.lines[0].packs, d.lines[0].quantity), (5, 500));
    // A draft's total follows today's catalog price.
    assert_eq!(d.order.total_minor, 5 * 800 + 400);
    assert_eq!(d.order.state, OrderState::Draft);
    assert_eq!(d.events[0].action, "create");
}

#[test]
fn bad_lines_are_refused_with_their_field_and_write_nothing() {
    let (_d, db) = setup();
    let u = user(4);
    let err = db
        .write_blocking(|tx| {
            lifecycle::create(
                tx,
                &ctx(tx, &u),
                &env(),
                &NewOrder {
                    supplier_id: 1,
                    note: String::new(),
                    lines: vec![line(4, 1, 1), line(1, 9, 0)],
                },
            )
        })
        .unwrap_err();
    let OrdersError::Invalid(e) = err else {
        panic!("{err:?}")
    };
    assert!(
        e.get("lines[0].supplier_item_id")
            .unwrap()
            .contains("this order's supplier")
    );
    assert!(e.get("lines[1].location_id").is_some());
    assert!(e.get("lines[1].packs").is_some());
    assert_eq!(count(&db, "SELECT count(*) FROM purchase_orders"), 0);
    assert_eq!(count(&db, "SELECT count(*) FROM number_sequences"), 0);
}

#[test]
fn without_rules_submission_approves_and_prices_are_captured() {
    let (_d, db) = setup();
    let o = draft(&db, 4, vec![line(1, 1, 2)]);
    let o = act(&db, 4, o.id, Action::Submit, "").unwrap();
    assert_eq!(o.state, OrderState::Approved);
    assert_eq!(o.total_minor, 1600);
    // A later catalog price change leaves the submitted order alone.
    db.write_blocking(|tx| {
        tx.execute(
            "UPDATE supplier_items SET price_minor = 9999 WHERE id = 1",
            [],
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let d = detail_of(&db, o.id);
    assert_eq!(d.order.total_minor, 1600);
    assert_eq!(
        (d.lines[0].unit_price_minor, d.lines[0].line_total_minor),
        (800, 1600)
    );
    let actions: Vec<_> = d.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["create", "submit"]);
    assert_eq!(d.events[1].to_state, "approved");
}

#[test]
fn illegal_actions_are_refused_and_change_nothing() {
    let (_d, db) = setup();
    let o = draft(&db, 2, vec![line(1, 1, 1)]);
    let audit_before = count(&db, "SELECT count(*) FROM audit_log");
    let m = refused(act(&db, 2, o.id, Action::MarkSent, ""));
    assert_eq!(
        m,
        "PO-2026-00001: cannot mark as sent an order that is draft"
    );
    let m = refused(act(&db, 2, o.id, Action::Close, ""));
    assert!(m.contains("cannot close"), "{m}");
    let r = receive(&db, 2, o.id, receipt(vec![rl(1, 1)])).unwrap_err();
    assert!(
        matches!(r, OrdersError::Refused(r) if r.message.contains("cannot receive goods") && r.code == super::refusals::ACTION_NOT_ALLOWED)
    );
    // An empty draft cannot be submitted.
    let empty = draft(&db, 2, vec![]);
    let m = refused(act(&db, 2, empty.id, Action::Submit, ""));
    assert!(m.contains("at least one line"), "{m}");
    assert_eq!(
        count(&db, "SELECT count(*) FROM audit_log"),
        audit_before + 1,
        "only the second draft"
    );
    assert_eq!(detail_of(&db, o.id).order.state, OrderState::Draft);
    assert_eq!(count(&db, "SELECT count(*) FROM stock_movements"), 0);
}

#[test]
fn staff_draft_and_submit_but_only_managers_send() {
    let (_d, db) = setup();
    let o = draft(&db, 4, vec![line(1, 1, 1)]);
    act(&db, 4, o.id, Action::Submit, "").unwrap();
    let m = refused(act(&db, 4, o.id, Action::MarkSent, ""));
    assert!(m.starts_with("Only a practice manager"), "{m}");
    let o = act(&db, 2, o.id, Action::MarkSent, "").unwrap();
    assert_eq!(o.state, OrderState::Sent);
    assert_eq!(o.channel, "manual");
    // Lead time 3 days from "today".
    assert_eq!(o.expected_on, "2026-12-03");
    // Staff may not cancel what the supplier has.
    let m = refused(act(&db, 4, o.id, Action::Cancel, "not needed"));
    assert!(m.starts_with("Only a practice manager"), "{m}");
    let m = reason_missing(act(&db, 2, o.id, Action::Cancel, " "));
    assert!(m.contains("a reason is required"), "{m}");
    let o = act(&db, 2, o.id, Action::Cancel, "ordered twice").unwrap();
    assert_eq!(
        (o.state, o.reason.as_str()),
        (OrderState::Cancelled, "ordered twice")
    );
}

#[test]
fn approval_rules_make_steps_and_nobody_approves_their_own_order() {
    let (_d, db) = setup();
    add_rule(&db, "amount_over", Some(5000), None, "manager");
    add_rule(&db, "amount_over", Some(10_000), None, "admin");
    add_rule(&db, "category", None, Some(1), "manager");
    // Small and without drugs: no approval.
    let small = draft(&db, 2, vec![line(3, 1, 1)]);
    assert_eq!(
        act(&db, 2, small.id, Action::Submit, "").unwrap().state,
        OrderState::Approved
    );
    // Category rule alone: one manager step.
    let drugs = draft(&db, 4, vec![line(2, 2, 1)]);
    let drugs = act(&db, 4, drugs.id, Action::Submit, "").unwrap();
    assert_eq!(drugs.state, OrderState::Submitted);
    let d = detail_of(&db, drugs.id);
    assert_eq!(d.approvals.len(), 1);
    assert_eq!(d.approvals[0].rules, "contains Drugs → practice manager");
    // Above both amounts: a manager step then an admin step.
    let big = draft(&db, 2, vec![line(1, 1, 20)]); // 160.00
    let big = act(&db, 2, big.id, Action::Submit, "").unwrap();
    let steps: Vec<Role> = detail_of(&db, big.id)
        .approvals
        .iter()
        .map(|a| a.role)
        .collect();
    assert_eq!(steps, [Role::Manager, Role::Admin]);
    // Max created it: he may not approve it.
    let m = refused(act(&db, 2, big.id, Action::Approve, ""));
    assert_eq!(m, "You cannot approve an order you created or submitted");
    // Staff and viewers never approve.
    let m = refused(act(&db, 4, big.id, Action::Approve, ""));
    assert!(
        m.contains("waiting for approval by a practice manager"),
        "{m}"
    );
    // The approval queue: Mia sees it, Max (its author) does not.
    let queue = |id| {
        db.read_blocking(|c| {
            rules::waiting_for(c, &user(id), &Places::All, env().today).map_err(DbError::from)
        })
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect::<Vec<_>>()
    };
    assert_eq!(queue(3), [drugs.id, big.id]);
    assert_eq!(queue(2), [drugs.id]);
    assert!(queue(4).is_empty());
    // Mia takes the manager step; the admin step is still open.
    let after = act(&db, 3, big.id, Action::Approve, "").unwrap();
    assert_eq!(after.state, OrderState::Submitted);
    let m = refused(act(&db, 3, big.id, Action::Approve, ""));
    assert!(m.contains("by an administrator"), "{m}");
    assert_eq!(queue(3), [drugs.id]);
    assert_eq!(queue(1), [drugs.id, big.id]);
    let after = act(&db, 1, big.id, Action::Approve, "").unwrap();
    assert_eq!(after.state, OrderState::Approved);
    let d = detail_of(&db, big.id);
    assert_eq!(
        d.approvals
            .iter()
            .map(|a| a.approver_name.as_str())
            .collect::<Vec<_>>(),
        ["Mia", "Ada"]
    );
    // An admin takes every step at once.
    let big2 = draft(&db, 4, vec![line(1, 1, 20), line(2, 2, 1)]);
    act(&db, 4, big2.id, Action::Submit, "").unwrap();
    assert_eq!(
        act(&db, 1, big2.id, Action::Approve, "").unwrap().state,
        OrderState::Approved
    );
}

#[test]
fn a_rejected_order_goes_back_to_draft_and_is_approved_again_from_scratch() {
    let (_d, db) = setup();
    add_rule(&db, "amount_over", Some(0), None, "manager");
    let o = draft(&db, 4, vec![line(1, 1, 1)]);
    act(&db, 4, o.id, Action::Submit, "").unwrap();
    let m = reason_missing(act(&db, 2, o.id, Action::Reject, ""));
    assert!(m.contains("a reason is required to reject"), "{m}");
    // The author cannot reject (nor approve) their own order.
    assert!(refused(act(&db, 4, o.id, Action::Reject, "x")).contains("you created"));
    let r = act(&db, 2, o.id, Action::Reject, "too many boxes").unwrap();
    assert_eq!(
        (r.state, r.reason.as_str()),
        (OrderState::Rejected, "too many boxes")
    );
    assert!(refused(act(&db, 3, o.id, Action::Approve, "")).contains("cannot approve"));
    assert_eq!(
        act(&db, 4, o.id, Action::Reopen, "").unwrap().state,
        OrderState::Draft
    );
    let o2 = act(&db, 4, o.id, Action::Submit, "").unwrap();
    assert_eq!(o2.state, OrderState::Submitted);
    let d = detail_of(&db, o.id);
    assert_eq!(d.approvals.len(), 1, "earlier steps are superseded");
    assert!(d.approvals[0].approver_id.is_none());
}

/// Draft → approved → sent, by Max: returns the order and its line ids.
fn sent_order(db: &Db, lines: Vec<LineInput>) -> (Order, Vec<i64>) {
    let o = draft(db, 2, lines);
    act(db, 2, o.id, Action::Submit, "").unwrap();
    let o = act(db, 2, o.id, Action::MarkSent, "").unwrap();
    let ids = detail_of(db, o.id).lines.iter().map(|l| l.id).collect();
    (o, ids)
}

#[test]
fn partial_receipts_then_the_rest_make_it_received() {
    let (_d, db) = setup();
    let (o, l) = sent_order(&db, vec![line(1, 1, 2), line(2, 2, 1)]);
    // First delivery: 150 gloves and 4 lidocaine of lot A.
    let first = receipt(vec![
        rl(l[0], 150),
        ReceiptLineInput {
            lot: "A1".into(),
            expiry: "2027-05-31".into(),
            ..rl(l[1], 4)
        },
    ]);
    let r = receive(&db, 4, o.id, first).unwrap();
    assert_eq!(r.lines.len(), 2);
    assert_eq!(
        (r.lines[1].lot.as_str(), r.lines[1].expiry.as_str()),
        ("A1", "2027-05-31")
    );
    let d = detail_of(&db, o.id);
    assert_eq!(d.order.state, OrderState::PartiallyReceived);
    assert_eq!((d.lines[0].received, d.lines[0].outstanding), (150, 50));
    assert_eq!(level(&db, 1, 1), 150);
    // Lidocaine without a lot is refused, naming the line's field.
    let err = receive(&db, 4, o.id, receipt(vec![rl(l[1], 6)])).unwrap_err();
    let OrdersError::Invalid(e) = err else {
        panic!("{err:?}")
    };
    assert!(e.get("lines[0].lot").unwrap().contains("tracked by lot"));
    // The rest, the lidocaine as a second lot into the store.
    let rest = receipt(vec![
        rl(l[0], 50),
        ReceiptLineInput {
            lot: "B2".into(),
            expiry: "2027-08-31".into(),
            location_id: Some(1),
            ..rl(l[1], 6)
        },
    ]);
    receive(&db, 4, o.id, rest).unwrap();
    let d = detail_of(&db, o.id);
    assert_eq!(d.order.state, OrderState::Received);
    assert!(d.order.received_at.is_some());
    assert_eq!(d.receipts.len(), 2);
    assert_eq!((level(&db, 2, 2), level(&db, 2, 1)), (4, 6));
    let check = db
        .read_blocking(|c| stock::check(c).map_err(DbError::from))
        .unwrap();
    assert!(check.is_empty(), "{check:?}");
    // Received → closed.
    assert_eq!(
        act(&db, 2, o.id, Action::Close, "").unwrap().state,
        OrderState::Closed
    );
}

#[test]
fn over_delivery_needs_confirmation() {
    let (_d, db) = setup();
    let (o, l) = sent_order(&db, vec![line(1, 1, 1)]);
    let err = receive(&db, 4, o.id, receipt(vec![rl(l[0], 80), rl(l[0], 40)])).unwrap_err();
    let OrdersError::Invalid(e) = err else {
        panic!("{err:?}")
    };
    // The message is on the row that goes past the order.
    assert!(e.get("lines[0].quantity").is_none(), "{e:?}");
    assert!(
        e.get("lines[1].quantity")
            .unwrap()
            .contains("100 each ordered, 0 received so far; 120 more"),
        "{e:?}"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM receipts"), 0);
    assert_eq!(level(&db, 1, 1), 0);
    let confirmed = ReceiptInput {
        confirm_over_delivery: true,
        ..receipt(vec![rl(l[0], 120)])
    };
    receive(&db, 4, o.id, confirmed).unwrap();
    let d = detail_of(&db, o.id);
    assert_eq!(
        (d.order.state, d.lines[0].received, d.lines[0].outstanding),
        (OrderState::Received, 120, 0)
    );
    // A line already over what was ordered needs confirming again for more,
    // while the order waits for its other line.
    let (o2, l2) = sent_order(&db, vec![line(1, 1, 1), line(3, 1, 1)]);
    let over = ReceiptInput {
        confirm_over_delivery: true,
        ..receipt(vec![rl(l2[0], 110)])
    };
    receive(&db, 4, o2.id, over).unwrap();
    let err = receive(&db, 4, o2.id, receipt(vec![rl(l2[0], 1)])).unwrap_err();
    let OrdersError::Invalid(e) = err else {
        panic!("{err:?}")
    };
    assert!(
        e.get("lines[0].quantity")
            .unwrap()
            .contains("110 received so far"),
        "{e:?}"
    );
}

#[test]
fn damaged_goods_are_not_stocked_and_keep_the_line_open() {
    let (_d, db) = setup();
    let (o, l) = sent_order(&db, vec![line(1, 1, 1)]);
    let input = receipt(vec![ReceiptLineInput {
        damaged: 20,
        ..rl(l[0], 80)
    }]);
    let r = receive(&db, 4, o.id, input).unwrap();
    assert_eq!(r.lines[0].damaged, 20);
    let d = detail_of(&db, o.id);
    assert_eq!(
        (
            d.lines[0].received,
            d.lines[0].damaged,
            d.lines[0].outstanding
        ),
        (80, 20, 20)
    );
    assert_eq!(d.order.state, OrderState::PartiallyReceived);
    assert_eq!(level(&db, 1, 1), 80);
    // Only damaged: a receipt line without a movement.
    let r = receive(
        &db,
        4,
        o.id,
        receipt(vec![ReceiptLineInput {
            damaged: 5,
            ..rl(l[0], 0)
        }]),
    )
    .unwrap();
    assert_eq!(r.lines[0].movement_id, None);
    // The rest will not come: closing short needs a reason.
    assert!(reason_missing(act(&db, 2, o.id, Action::Close, "")).contains("reason"));
    let c = act(
        &db,
        2,
        o.id,
        Action::Close,
        "supplier credits the damaged gloves",
    )
    .unwrap();
    assert_eq!(c.state, OrderState::Closed);
}

#[test]
fn a_substitute_is_stocked_as_itself_and_fills_the_line() {
    let (_d, db) = setup();
    let (o, l) = sent_order(&db, vec![line(3, 1, 2)]); // 100 swabs
    let input = receipt(vec![ReceiptLineInput {
        substitute_item_id: Some(1),
        ..rl(l[0], 100)
    }]);
    let r = receive(&db, 4, o.id, input).unwrap();
    assert!(r.lines[0].substitute);
    assert_eq!(r.lines[0].item_name, "Nitrile gloves M");
    let d = detail_of(&db, o.id);
    assert_eq!((d.lines[0].received, d.lines[0].substituted), (0, 100));
    assert_eq!(d.order.state, OrderState::Received);
    assert_eq!((level(&db, 1, 1), level(&db, 3, 1)), (100, 0));
}

#[test]
fn receiving_into_a_location_the_user_may_not_use_is_refused() {
    let (_d, db) = setup();
    db.write_blocking(|tx| {
        tx.execute(
            "INSERT INTO location_access (location_id, user_id) VALUES (2, 2)",
            [],
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let (o, l) = sent_order(&db, vec![line(1, 1, 1)]);
    let input = receipt(vec![ReceiptLineInput {
        location_id: Some(2),
        ..rl(l[0], 10)
    }]);
    let err = receive(&db, 4, o.id, input).unwrap_err();
    let OrdersError::Invalid(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        e.get("lines[0].location_id"),
        Some("you may not use this location")
    );
    assert_eq!(count(&db, "SELECT count(*) FROM stock_movements"), 0);
}

#[test]
fn suggestions_bring_stock_to_par_in_whole_packs_net_of_open_orders() {
    let (_d, db) = setup();
    db.write_blocking(|tx| {
        tx.execute_batch(
            "INSERT INTO item_locations (item_id, location_id, reorder_point, par_level) VALUES
               (1, 1, 100, 450), (3, 1, 10, 30), (2, 2, 5, 20), (1, 2, 10, 20);
             INSERT INTO stock_levels (item_id, location_id, quantity) VALUES (1, 1, 100), (1, 2, 50);",
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let all: HashSet<i64> = [1, 2].into();
    let groups = || {
        db.read_blocking(|c| {
            suggest::suggestions(c, &Places::only(all.iter().copied())).map_err(DbError::from)
        })
        .unwrap()
    };
    let g = groups();
    // Swabs have no preferred line: CareCo's 0.05 per unit beats 0.08.
    let names: Vec<_> = g.iter().map(|g| g.supplier_name.as_str()).collect();
    assert_eq!(names, ["CareCo", "MedSupply"], "{g:?}");
    let care: Vec<_> = g[0]
        .lines
        .iter()
        .map(|s| (s.item_id, s.need, s.packs, s.units))
        .collect();
    assert_eq!(care, [(3, 30, 2, 40)]);
    let med = &g[1];
    let by_item: Vec<_> = med
        .lines
        .iter()
        .map(|s| (s.item_id, s.location_id, s.need, s.packs, s.units))
        .collect();
    // Lidocaine 20 → 2 packs of 10; gloves 450 − 100 = 350 → 4 boxes of 100.
    assert!(by_item.contains(&(2, 2, 20, 2, 20)), "{by_item:?}");
    assert!(by_item.contains(&(1, 1, 350, 4, 400)), "{by_item:?}");
    // Gloves in the fridge are above their reorder point: not suggested.
    assert_eq!(by_item.len(), 2);
    assert_eq!(med.total_minor, 2 * 2500 + 4 * 800);
    // Only the locations one may use.
    let fridge: HashSet<i64> = [2].into();
    let g2 = db
        .read_blocking(|c| {
            suggest::suggestions(c, &Places::only(fridge.iter().copied())).map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(g2.iter().flat_map(|g| &g.lines).count(), 1);
    // One action drafts the order; then nothing is left to suggest for it.
    let u = user(2);
    let o = db
        .write_blocking(|tx| {
            suggest::draft_from(
                tx,
                &ctx(tx, &u),
                &env(),
                1,
                &Places::only(all.iter().copied()),
            )
        })
        .unwrap();
    assert_eq!(o.state, OrderState::Draft);
    assert_eq!(detail_of(&db, o.id).lines.len(), 2);
    let after = groups();
    assert!(after.iter().all(|g| g.supplier_id != Some(1)), "{after:?}");
    assert_eq!(after.len(), 1, "CareCo's swabs are still to order");
    let again = db.write_blocking(|tx| {
        suggest::draft_from(
            tx,
            &ctx(tx, &u),
            &env(),
            1,
            &Places::only(all.iter().copied()),
        )
    });
    assert!(matches!(again, Err(OrdersError::Refused(_))));
}

#[test]
fn returns_take_stock_out_and_credits_are_tracked() {
    let (_d, db) = setup();
    let (o, l) = sent_order(&db, vec![line(1, 1, 1)]);
    receive(&db, 4, o.id, receipt(vec![rl(l[0], 100)])).unwrap();
    let u = user(2);
    let input = returns::ReturnInput {
        supplier_id: 1,
        order_id: Some(o.id),
        reason: "wrong size".into(),
        note: String::new(),
        lines: vec![returns::ReturnLineInput {
            item_id: 1,
            location_id: 1,
            lot: String::new(),
            expiry: String::new(),
            quantity: 30,
        }],
        expected_credit_minor: Some(240),
    };
    let ret = db
        .write_blocking(|tx| returns::create_return(tx, &ctx(tx, &u), &env(), &input))
        .unwrap();
    assert_eq!(ret.number, "RET-2026-0001");
    assert_eq!(level(&db, 1, 1), 70);
    let open = db
        .read_blocking(|c| returns::credits(c, Some(1), true).map_err(DbError::from))
        .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].expected_minor, open[0].return_number.as_str()),
        (240, "RET-2026-0001")
    );
    // Returning more than is there is refused and writes nothing.
    let too_many = returns::ReturnInput {
        lines: vec![returns::ReturnLineInput {
            quantity: 71,
            ..input.lines[0].clone()
        }],
        ..input.clone()
    };
    let err = db
        .write_blocking(|tx| returns::create_return(tx, &ctx(tx, &u), &env(), &too_many))
        .unwrap_err();
    assert!(matches!(err, OrdersError::Stock(_)), "{err:?}");
    assert_eq!(count(&db, "SELECT count(*) FROM supplier_returns"), 1);
    // The credit note arrives.
    let got = db
        .write_blocking(|tx| {
            returns::receive_credit(
                tx,
                &ctx(tx, &u),
                &env(),
                open[0].id,
                &returns::CreditReceived {
                    credit_note: "CN-77".into(),
                    received_minor: 240,
                    received_on: String::new(),
                },
            )
        })
        .unwrap();
    assert_eq!(
        (got.credit_note.as_str(), got.received_on.as_str()),
        ("CN-77", "2026-11-30")
    );
    assert!(
        db.read_blocking(|c| returns::credits(c, Some(1), true).map_err(DbError::from))
            .unwrap()
            .is_empty()
    );
    let twice = db.write_blocking(|tx| {
        returns::receive_credit(
            tx,
            &ctx(tx, &u),
            &env(),
            open[0].id,
            &returns::CreditReceived {
                credit_note: "CN-78".into(),
                received_minor: 1,
                received_on: String::new(),
            },
        )
    });
    assert!(matches!(twice, Err(OrdersError::Refused(_))));
}

#[derive(Debug, Clone)]
struct Delivery {
    line: usize,
    quantity: i64,
    damaged: i64,
    substitute: bool,
    confirm: bool,
}

fn delivery() -> impl Strategy<Value = Delivery> {
    (
        0usize..3,
        0i64..160,
        0i64..3,
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(line, quantity, damaged, substitute, confirm)| Delivery {
            line,
            quantity,
            damaged,
            substitute,
            confirm,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any sequence of receipts keeps the ledger equal to the levels, the
    /// lines equal to the sum of their receipt lines, the order's state in
    /// step with its lines, and never more than ordered without a
    /// confirmation.
    #[test]
    fn random_receipts_keep_order_and_ledger_consistent(deliveries in prop::collection::vec(delivery(), 1..12)) {
        let (_d, db) = setup();
        let (o, ids) = sent_order(&db, vec![line(1, 1, 1), line(3, 1, 2), line(1, 2, 1)]);
        for d in &deliveries {
            let before = detail_of(&db, o.id);
            let target = &before.lines[d.line];
            let input = ReceiptInput {
                confirm_over_delivery: d.confirm,
                ..receipt(vec![ReceiptLineInput {
                    damaged: d.damaged,
                    substitute_item_id: d.substitute.then_some(3).filter(|_| target.item_id != 3),
                    ..rl(ids[d.line], d.quantity)
                }])
            };
            let result = receive(&db, 4, o.id, input);
            let after = detail_of(&db, o.id);
            let filled = target.received + target.substituted + d.quantity;
            if !before.order.state.receivable() {
                prop_assert!(result.is_err());
            } else if d.quantity == 0 && d.damaged == 0 {
                prop_assert!(matches!(result, Err(OrdersError::Invalid(_))));
            } else if filled > target.quantity && !d.confirm && d.quantity > 0 {
                prop_assert!(matches!(result, Err(OrdersError::Invalid(_))), "{result:?}");
            } else {
                prop_assert!(result.is_ok(), "{result:?}");
            }
            if result.is_err() {
                prop_assert_eq!(&after.lines, &before.lines);
                prop_assert_eq!(after.order.state, before.order.state);
            }
            let drift = db.read_blocking(|c| stock::check(c).map_err(DbError::from)).unwrap();
            prop_assert!(drift.is_empty(), "{:?}", drift);
            let orders = db.read_blocking(|c| check::check(c).map_err(DbError::from)).unwrap();
            prop_assert!(orders.is_empty(), "{:?}", orders);
            // Lines equal the sum of their receipt lines.
            for l in &after.lines {
                let (mut got, mut sub, mut dmg) = (0, 0, 0);
                for r in after.receipts.iter().flat_map(|r| &r.lines).filter(|r| r.order_line_id == l.id) {
                    if r.substitute { sub += r.quantity } else { got += r.quantity }
                    dmg += r.damaged;
                }
                prop_assert_eq!((l.received, l.substituted, l.damaged), (got, sub, dmg));
            }
            let all = after.lines.iter().all(|l| l.outstanding == 0);
            let any = after.receipts.iter().any(|r| !r.lines.is_empty());
            let expected = if all { OrderState::Received } else if any { OrderState::PartiallyReceived } else { OrderState::Sent };
            prop_assert_eq!(after.order.state, expected);
        }
        // Stock on hand equals what the receipts put there.
        let stocked: i64 = detail_of(&db, o.id).receipts.iter().flat_map(|r| &r.lines).map(|l| l.quantity).sum();
        prop_assert_eq!(stocked, count(&db, "SELECT coalesce(sum(quantity), 0) FROM stock_levels"));
    }
}

#[test]
fn check_names_what_disagrees_with_the_receipts() {
    let (_d, db) = setup();
    let (o, l) = sent_order(&db, vec![line(1, 1, 2), line(3, 1, 1)]);
    receive(&db, 4, o.id, receipt(vec![rl(l[0], 50)])).unwrap();
    let problems = || {
        db.read_blocking(|c| check::check(c).map_err(DbError::from))
            .unwrap()
    };
    assert!(problems().is_empty(), "{:?}", problems());
    db.write_blocking(|tx| {
        tx.execute_batch(
            "UPDATE order_lines SET received = 60 WHERE id = 1;
             UPDATE purchase_orders SET total_minor = total_minor + 1, state = 'received';
             UPDATE receipt_lines SET lot = 'X';",
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let p = problems();
    assert_eq!(p.len(), 4, "{p:?}");
    assert!(p[0].starts_with("order PO-2026-00001 line 1: received/substituted/damaged 60/0/0 but its receipts add up to 50/0/0"), "{p:?}");
    assert!(p[1].starts_with("receipt line 1 does not match"), "{p:?}");
    assert!(
        p[2].contains("total 2001 but its lines add up to 2000"),
        "{p:?}"
    );
    assert!(
        p[3].contains("is received but its deliveries say otherwise"),
        "{p:?}"
    );
}

#[test]
fn lines_only_for_usable_locations_and_never_twice() {
    let (_d, db) = setup();
    // The fridge is Mia's only.
    db.write_blocking(|tx| {
        tx.execute(
            "INSERT INTO location_access (location_id, user_id) VALUES (2, 3)",
            [],
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let o = draft(&db, 4, vec![line(1, 1, 1), line(3, 1, 1)]);
    let sam = user(4);
    let add = db
        .write_blocking(|tx| lifecycle::add_line(tx, &ctx(tx, &sam), &env(), o.id, &line(2, 2, 1)));
    let Err(OrdersError::Invalid(e)) = add else {
        panic!("{add:?}")
    };
    assert_eq!(e.get("location_id"), Some("you may not use this location"));
    let lines = detail_of(&db, o.id).lines;
    let change = |location_id| {
        db.write_blocking(|tx| {
            lifecycle::update_line(
                tx,
                &ctx(tx, &sam),
                &env(),
                o.id,
                lines[0].id,
                &lifecycle::LineChange {
                    packs: 1,
                    location_id,
                    note: String::new(),
                },
            )
        })
    };
    assert!(
        matches!(change(2), Err(OrdersError::Invalid(e)) if e.get("location_id") == Some("you may not use this location"))
    );
    // Moving gloves where the order already has gloves would make two
    // lines of one thing; swabs are another supplier line, so that is fine.
    db.write_blocking(|tx| {
        tx.execute("DELETE FROM location_access", [])
            .map_err(DbError::from)
    })
    .unwrap();
    let o2 = draft(&db, 4, vec![line(1, 1, 1), line(1, 2, 1)]);
    let l2 = detail_of(&db, o2.id).lines;
    let twin = db.write_blocking(|tx| {
        lifecycle::update_line(
            tx,
            &ctx(tx, &sam),
            &env(),
            o2.id,
            l2[1].id,
            &lifecycle::LineChange {
                packs: 3,
                location_id: 1,
                note: String::new(),
            },
        )
    });
    assert!(
        matches!(twin, Err(OrdersError::Invalid(e)) if e.get("location_id").unwrap().contains("change its packs instead"))
    );
    assert!(change(2).is_ok());
}
