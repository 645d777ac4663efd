use proptest::prelude::*;
use rusqlite::Connection;

use super::*;
use crate::db::Db;
use crate::domain::actor::Actor;
use crate::domain::{Clock, SystemClock};

/// A migrated database on disk with two items and three locations:
/// item 1 "Nitrile gloves M" (no lot), item 2 "Lidocaine 1%" (lot + expiry);
/// locations 1 "Treatment room", 2 "Cabinet A" (inside 1), 3 "Fridge".
fn setup() -> (tempfile::TempDir, Db) {
    let (dir, db) = crate::db::testing::migrated_db();
    db.write_blocking(|tx| {
        tx.execute_batch(
            "INSERT INTO items (id, code, name, unit, lot_tracked, expiry_tracked, created_at, updated_at) VALUES
               (1, 'GLV-M', 'Nitrile gloves M', 'each', 0, 0, 'now', 'now'),
               (2, 'LID-1', 'Lidocaine 1%', 'ampoule', 1, 1, 'now', 'now'),
               (3, 'OLD-1', 'Discontinued', 'each', 0, 0, 'now', 'now');
             UPDATE items SET active = 0 WHERE id = 3;
             INSERT INTO locations (id, parent_id, name, kind, created_at, updated_at) VALUES
               (1, NULL, 'Treatment room', 'room', 'now', 'now'),
               (2, 1, 'Cabinet A', 'cabinet', 'now', 'now'),
               (3, 1, 'Fridge', 'fridge', 'now', 'now');",
        )
        .map_err(DbError::from)
    })
    .unwrap();
    (dir, db)
}

fn ctx() -> Context {
    Context {
        actor: Actor::System,
        ip: None,
        request_id: Some("test".into()),
        at: SystemClock.now(),
    }
}

fn mv(kind: MovementKind, item: i64, location: i64, quantity: i64) -> NewMovement {
    NewMovement {
        kind,
        item_id: item,
        location_id: location,
        lot: String::new(),
        expiry: None,
        quantity,
        reason: String::new(),
        note: String::new(),
    }
}

fn lidocaine(kind: MovementKind, location: i64, lot: &str, quantity: i64) -> NewMovement {
    NewMovement {
        lot: lot.into(),
        expiry: Some(time::macros::date!(2027 - 03 - 31)),
        ..mv(kind, 2, location, quantity)
    }
}

fn run(db: &Db, m: &NewMovement) -> Result<i64, StockError> {
    db.write_blocking(|tx| record(tx, &ctx(), m))
}

fn count(db: &Db, sql: &'static str) -> i64 {
    db.read_blocking(|c| c.query_row(sql, [], |r| r.get(0)).map_err(DbError::from))
        .unwrap()
}

fn qty(db: &Db, item: i64, location: i64) -> i64 {
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

#[test]
fn receipts_and_consumption_update_the_level_and_the_audit_log() {
    let (_dir, db) = setup();
    run(&db, &mv(MovementKind::Receipt, 1, 2, 100)).unwrap();
    run(&db, &mv(MovementKind::Consumption, 1, 2, -30)).unwrap();
    assert_eq!(qty(&db, 1, 2), 70);
    assert_eq!(count(&db, "SELECT count(*) FROM stock_movements"), 2);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM audit_log WHERE action = 'stock.movement'"
        ),
        2
    );
    assert!(
        db.read_blocking(|c| check(c).map_err(DbError::from))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn stock_never_goes_negative_and_the_refusal_names_item_place_and_amount() {
    let (_dir, db) = setup();
    run(&db, &mv(MovementKind::Receipt, 1, 2, 5)).unwrap();
    let err = run(&db, &mv(MovementKind::Consumption, 1, 2, -6)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not enough stock: Nitrile gloves M at Treatment room › Cabinet A has 5 each available"
    );
    let err = run(&db, &lidocaine(MovementKind::Consumption, 3, "L123", -1)).unwrap_err();
    assert!(
        err.to_string()
            .contains("Lidocaine 1% at Treatment room › Fridge (lot L123) has 0 ampoule"),
        "{err}"
    );
    assert_eq!(qty(&db, 1, 2), 5);
    assert_eq!(count(&db, "SELECT count(*) FROM stock_movements"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM audit_log"), 1);
}

#[test]
fn each_rule_is_refused_with_the_field_it_concerns() {
    let (_dir, db) = setup();
    let cases: Vec<(NewMovement, &str)> = vec![
        (mv(MovementKind::Receipt, 99, 2, 1), "item_id"),
        (mv(MovementKind::Receipt, 3, 2, 1), "item_id"),
        (mv(MovementKind::Receipt, 1, 99, 1), "location_id"),
        (mv(MovementKind::Receipt, 1, 2, -1), "quantity"),
        (mv(MovementKind::Consumption, 1, 2, 3), "quantity"),
        (mv(MovementKind::Receipt, 1, 2, 0), "quantity"),
        (mv(MovementKind::Adjustment, 1, 2, 1), "reason"),
        (mv(MovementKind::Disposal, 1, 2, -1), "reason"),
        (
            NewMovement {
                expiry: None,
                ..lidocaine(MovementKind::Receipt, 3, "L1", 1)
            },
            "expiry",
        ),
        (lidocaine(MovementKind::Receipt, 3, "", 1), "lot"),
        (
            lidocaine(MovementKind::Receipt, 3, &"L".repeat(21), 1),
            "lot",
        ),
    ];
    for (m, field) in cases {
        match run(&db, &m) {
            Err(StockError::Invalid(e)) => assert!(e.get(field).is_some(), "{m:?}: {e}"),
            other => panic!("{m:?} should be refused on {field}, got {other:?}"),
        }
    }
    assert_eq!(count(&db, "SELECT count(*) FROM stock_movements"), 0);
}

#[test]
fn lots_and_expiry_are_kept_apart_and_untracked_ones_ignored() {
    let (_dir, db) = setup();
    run(&db, &lidocaine(MovementKind::Receipt, 3, "L1", 10)).unwrap();
    run(&db, &lidocaine(MovementKind::Receipt, 3, "L2", 4)).unwrap();
    assert_eq!(
        count(&db, "SELECT count(*) FROM stock_levels WHERE item_id = 2"),
        2
    );
    assert!(run(&db, &lidocaine(MovementKind::Consumption, 3, "L2", -5)).is_err());
    // An item without lot tracking stores no lot even if one was scanned.
    run(
        &db,
        &NewMovement {
            lot: "SCANNED".into(),
            ..mv(MovementKind::Receipt, 1, 2, 1)
        },
    )
    .unwrap();
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM stock_levels WHERE item_id = 1 AND lot = ''"
        ),
        1
    );
}

#[test]
fn a_transfer_is_one_linked_pair_and_all_or_nothing() {
    let (_dir, db) = setup();
    run(&db, &mv(MovementKind::Receipt, 1, 2, 10)).unwrap();
    let (out, into) = db
        .write_blocking(|tx| {
            transfer(
                tx,
                &ctx(),
                &Transfer {
                    item_id: 1,
                    from: 2,
                    to: 3,
                    lot: String::new(),
                    expiry: None,
                    quantity: 4,
                    note: "to fridge".into(),
                },
            )
        })
        .unwrap();
    assert_eq!((qty(&db, 1, 2), qty(&db, 1, 3)), (6, 4));
    let pair: i64 = db
        .read_blocking(|c| {
            c.query_row(
                "SELECT pair_id FROM stock_movements WHERE id = ?1",
                [into],
                |r| r.get(0),
            )
            .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(pair, out);
    // The destination is refused after the first half was written: the
    // transaction rolls back and nothing moved.
    db.write_blocking(|tx| {
        tx.execute("UPDATE locations SET active = 0 WHERE id = 3", [])
            .map_err(DbError::from)
    })
    .unwrap();
    let err = db
        .write_blocking(|tx| {
            transfer(
                tx,
                &ctx(),
                &Transfer {
                    item_id: 1,
                    from: 2,
                    to: 3,
                    lot: String::new(),
                    expiry: None,
                    quantity: 1,
                    note: "".into(),
                },
            )
        })
        .unwrap_err();
    assert!(matches!(err, StockError::Invalid(_)), "{err}");
    assert_eq!((qty(&db, 1, 2), qty(&db, 1, 3)), (6, 4));
    assert_eq!(count(&db, "SELECT count(*) FROM stock_movements"), 3);
}

#[test]
fn the_ledger_is_append_only() {
    let (_dir, db) = setup();
    run(&db, &mv(MovementKind::Receipt, 1, 2, 10)).unwrap();
    let conn = Connection::open(db.path()).unwrap();
    for sql in [
        "UPDATE stock_movements SET quantity = 1000",
        "DELETE FROM stock_movements",
    ] {
        let err = conn.execute(sql, []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}

#[test]
fn check_reports_drift_between_levels_and_ledger() {
    let (_dir, db) = setup();
    run(&db, &mv(MovementKind::Receipt, 1, 2, 10)).unwrap();
    let conn = Connection::open(db.path()).unwrap();
    conn.execute("UPDATE stock_levels SET quantity = 12", [])
        .unwrap();
    conn.execute(
        "INSERT INTO stock_levels (item_id, location_id, quantity) VALUES (1, 3, 5)",
        [],
    )
    .unwrap();
    let drift = check(&conn).unwrap();
    assert_eq!(drift.len(), 2);
    assert_eq!((drift[0].ledger, drift[0].level), (10, 12));
    assert_eq!(
        (drift[1].location_id, drift[1].ledger, drift[1].level),
        (3, 0, 5)
    );
}

#[derive(Debug, Clone)]
enum Op {
    Move(MovementKind, i64, i64, u8, i64),
    Transfer(i64, i64, u8, i64),
}

fn arb_op() -> impl Strategy<Value = Op> {
    let kind = prop::sample::select(vec![
        MovementKind::Receipt,
        MovementKind::Consumption,
        MovementKind::Adjustment,
        MovementKind::CountCorrection,
        MovementKind::Return,
        MovementKind::Disposal,
    ]);
    prop_oneof![
        (kind, 1i64..=2, 1i64..=3, 0u8..3, -40i64..40)
            .prop_map(|(k, i, l, lot, q)| Op::Move(k, i, l, lot, q)),
        (1i64..=3, 1i64..=3, 0u8..3, 1i64..20)
            .prop_map(|(f, t, lot, q)| Op::Transfer(f, t, lot, q)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_movements_keep_levels_equal_to_the_ledger_and_never_negative(
        ops in prop::collection::vec(arb_op(), 1..40)
    ) {
        let (_dir, db) = setup();
        for op in ops {
            let lot = |n: u8| format!("L{n}");
            let _ = match op {
                Op::Move(kind, item, location, n, q) => {
                    let mut m = if item == 2 { lidocaine(kind, location, &lot(n), q) } else { mv(kind, item, location, q) };
                    m.reason = match kind {
                        MovementKind::Disposal => "damaged".into(),
                        MovementKind::Adjustment => "found in another drawer".into(),
                        _ => String::new(),
                    };
                    run(&db, &m).map(|_| ())
                }
                Op::Transfer(from, to, n, q) => db
                    .write_blocking(|tx| transfer(tx, &ctx(), &Transfer { item_id: 2, from, to, lot: lot(n), expiry: Some(time::macros::date!(2027 - 03 - 31)), quantity: q, note: String::new() }))
                    .map(|_| ()),
            };
        }
        let drift = db.read_blocking(|c| check(c).map_err(DbError::from)).unwrap();
        prop_assert!(drift.is_empty(), "{:?}", drift);
        prop_assert_eq!(count(&db, "SELECT count(*) FROM stock_levels WHERE quantity < 0 OR quarantined > quantity"), 0);
        // Every movement was audited in its own transaction.
        prop_assert_eq!(
            count(&db, "SELECT count(*) FROM stock_movements"),
            count(&db, "SELECT count(*) FROM audit_log WHERE action = 'stock.movement'")
        );
    }
}

#[test]
fn fefo_puts_the_first_expiring_usable_lot_first_and_flags_expired_ones() {
    let (_dir, db) = setup();
    let lot = |name: &str, expiry: time::Date, q: i64| NewMovement {
        lot: name.into(),
        expiry: Some(expiry),
        ..mv(MovementKind::Receipt, 2, 3, q)
    };
    run(&db, &lot("LATE", time::macros::date!(2028 - 01 - 31), 5)).unwrap();
    run(&db, &lot("OLD", time::macros::date!(2026 - 01 - 31), 2)).unwrap();
    run(&db, &lot("SOON", time::macros::date!(2026 - 12 - 31), 3)).unwrap();
    db.write_blocking(|tx| {
        tx.execute(
            "UPDATE stock_levels SET quarantined = 3 WHERE lot = 'SOON'",
            [],
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let all: std::collections::HashSet<i64> = [1, 2, 3].into();
    let s = db
        .read_blocking(|c| {
            fefo(c, 2, &all, time::macros::date!(2026 - 06 - 01)).map_err(DbError::from)
        })
        .unwrap();
    let lots: Vec<(&str, bool)> = s
        .iter()
        .map(|x| (x.level.lot.as_str(), x.expired))
        .collect();
    assert_eq!(
        lots,
        [("OLD", true), ("LATE", false)],
        "quarantined SOON is not offered"
    );
    let none: std::collections::HashSet<i64> = [1].into();
    assert!(
        db.read_blocking(
            |c| fefo(c, 2, &none, time::macros::date!(2026 - 06 - 01)).map_err(DbError::from)
        )
        .unwrap()
        .is_empty()
    );
}

#[test]
fn a_recall_shows_where_the_lots_are_and_went_then_quarantines_them() {
    let (_dir, db) = setup();
    db.write_blocking(|tx| {
        tx.execute("INSERT INTO item_packs (item_id, name, quantity, gtin) VALUES (2, 'box', 10, '09506000134352')", [])
            .map_err(DbError::from)
    })
    .unwrap();
    run(&db, &lidocaine(MovementKind::Receipt, 3, "BAD1", 10)).unwrap();
    run(&db, &lidocaine(MovementKind::Receipt, 3, "GOOD", 10)).unwrap();
    db.write_blocking(|tx| {
        transfer(
            tx,
            &ctx(),
            &Transfer {
                item_id: 2,
                from: 3,
                to: 2,
                lot: "BAD1".into(),
                expiry: Some(time::macros::date!(2027 - 03 - 31)),
                quantity: 4,
                note: String::new(),
            },
        )
    })
    .unwrap();
    run(&db, &lidocaine(MovementKind::Consumption, 2, "BAD1", -1)).unwrap();

    let lots = vec!["BAD1".to_string()];
    let report = db
        .read_blocking(|c| recall::find(c, "9506000134352", &lots))
        .unwrap();
    let where_now: Vec<(i64, i64)> = report
        .on_hand
        .iter()
        .map(|l| (l.location_id, l.quantity))
        .collect();
    assert_eq!(where_now, [(2, 3), (3, 6)]);
    assert_eq!(report.used.len(), 1);
    assert_eq!(
        (
            report.used[0].kind.as_str(),
            report.used[0].quantity,
            report.used[0].location_id
        ),
        ("consumption", 1, 2)
    );

    let units = db
        .write_blocking(|tx| recall::quarantine(tx, &ctx(), "09506000134352", &lots))
        .unwrap();
    assert_eq!(units.units, 9);
    assert_eq!(units.elsewhere, 0);
    // Quarantined stock cannot be used or moved, only disposed of as recalled.
    assert!(matches!(
        run(&db, &lidocaine(MovementKind::Consumption, 2, "BAD1", -1)),
        Err(StockError::Insufficient(s)) if s.available == 0 && s.held.contains("quarantined")
    ));
    run(&db, &lidocaine(MovementKind::Consumption, 3, "GOOD", -1)).unwrap();
    let dispose = NewMovement {
        reason: "recalled".into(),
        ..lidocaine(MovementKind::Disposal, 3, "BAD1", -6)
    };
    run(&db, &dispose).unwrap();
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM audit_log WHERE action = 'stock.quarantine'"
        ),
        1
    );
    assert!(
        db.read_blocking(|c| check(c).map_err(DbError::from))
            .unwrap()
            .is_empty()
    );

    for (gtin, lots, field) in [
        ("9506000134353", vec!["X".to_string()], "gtin"),
        ("4006381333931", vec!["X".to_string()], "gtin"),
        ("9506000134352", vec![], "lots"),
    ] {
        match db.read_blocking(|c| recall::find(c, gtin, &lots)) {
            Err(StockError::Invalid(e)) => assert!(e.get(field).is_some(), "{gtin}: {e}"),
            other => panic!("{gtin}: expected a refusal on {field}, got {other:?}"),
        }
    }
}

fn overview(db: &Db, filter: overview::Filter, allowed: &[i64]) -> (Vec<String>, i64) {
    let allowed: std::collections::HashSet<i64> = allowed.iter().copied().collect();
    let (rows, total) = db
        .read_blocking(|c| {
            overview::list(c, &Default::default(), &filter, &allowed, 50, 0).map_err(DbError::from)
        })
        .unwrap();
    (rows.into_iter().map(|r| r.item.code).collect(), total)
}

fn filter(q: &str) -> overview::Filter {
    overview::Filter {
        q: q.into(),
        ..Default::default()
    }
}

#[test]
fn the_item_list_finds_by_name_part_code_gtin_and_supplier_code() {
    let (_dir, db) = setup();
    db.write_blocking(|tx| {
        tx.execute_batch(
            "INSERT INTO item_packs (item_id, name, quantity, gtin) VALUES (1, 'box', 100, '04012345000016');
             INSERT INTO suppliers (id, name, created_at, updated_at) VALUES (1, 'MedSupply', 'now', 'now');
             INSERT INTO supplier_items (supplier_id, item_id, supplier_code, pack_size, price_minor, currency,
                created_at, updated_at) VALUES (1, 2, 'MS-7781', 10, 1250, 'EUR', 'now', 'now');",
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let all = [1, 2, 3];
    assert_eq!(
        overview(&db, filter("trile"), &all),
        (vec!["GLV-M".into()], 1)
    );
    assert_eq!(overview(&db, filter("LOVES"), &all).0, vec!["GLV-M"]);
    assert_eq!(overview(&db, filter("lid-"), &all).0, vec!["LID-1"]);
    assert_eq!(
        overview(&db, filter("4012345000016"), &all).0,
        vec!["GLV-M"]
    );
    assert_eq!(overview(&db, filter("ms-7781"), &all).0, vec!["LID-1"]);
    assert_eq!(
        overview(&db, filter("\"x OR y*"), &all).1,
        0,
        "FTS syntax is text"
    );
    assert_eq!(overview(&db, filter(""), &all).0, vec!["LID-1", "GLV-M"]);
    assert_eq!(
        overview(&db, filter("discontinued"), &all).1,
        0,
        "inactive items are hidden"
    );
    let with_inactive = overview::Filter {
        include_inactive: true,
        ..filter("discontinued")
    };
    assert_eq!(overview(&db, with_inactive, &all).0, vec!["OLD-1"]);
    // Renaming reaches the search index.
    db.write_blocking(|tx| {
        tx.execute(
            "UPDATE items SET name = 'Latex-free gloves M' WHERE id = 1",
            [],
        )
        .map_err(DbError::from)
    })
    .unwrap();
    assert_eq!(overview(&db, filter("nitrile"), &all).1, 0);
    assert_eq!(overview(&db, filter("latex-free"), &all).0, vec!["GLV-M"]);
}

#[test]
fn the_item_list_filters_and_sorts_by_stock_in_the_readers_locations() {
    let (_dir, db) = setup();
    run(&db, &mv(MovementKind::Receipt, 1, 2, 5)).unwrap();
    run(&db, &mv(MovementKind::Receipt, 1, 3, 40)).unwrap();
    run(&db, &lidocaine(MovementKind::Receipt, 3, "L1", 30)).unwrap();
    db.write_blocking(|tx| {
        tx.execute_batch(
            "INSERT INTO item_locations (item_id, location_id, reorder_point, par_level) VALUES (1, 2, 10, 50);
             INSERT INTO categories (id, name, created_at, updated_at) VALUES (1, 'Drugs', 'now', 'now');
             UPDATE items SET category_id = 1 WHERE id = 2;",
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let all = [1, 2, 3];
    let (rows, _) = db
        .read_blocking(|c| {
            overview::list(
                c,
                &Default::default(),
                &filter(""),
                &[2].into_iter().collect(),
                50,
                0,
            )
            .map_err(DbError::from)
        })
        .unwrap();
    let gloves = rows.iter().find(|r| r.item.id == 1).unwrap();
    assert_eq!(gloves.on_hand, 5, "only the reader's locations count");
    assert!(
        gloves.low,
        "5 is at or below the reorder point 10 in Cabinet A"
    );
    let low = overview::Filter {
        low: true,
        ..filter("")
    };
    assert_eq!(overview(&db, low.clone(), &all).0, vec!["GLV-M"]);
    assert_eq!(
        overview(&db, low, &[3]).1,
        0,
        "the low location is not the reader's"
    );
    let in_cabinet = overview::Filter {
        location_id: Some(2),
        ..filter("")
    };
    assert_eq!(overview(&db, in_cabinet, &all).0, vec!["GLV-M"]);
    let in_room = overview::Filter {
        location_id: Some(1),
        ..filter("")
    };
    assert_eq!(
        overview(&db, in_room, &all).0,
        vec!["LID-1", "GLV-M"],
        "the room includes what is inside it"
    );
    let drugs = overview::Filter {
        category_id: Some(1),
        ..filter("")
    };
    assert_eq!(overview(&db, drugs, &all).0, vec!["LID-1"]);
    let expiring = |by| overview::Filter {
        expiring_by: Some(by),
        ..filter("")
    };
    assert_eq!(
        overview(&db, expiring(time::macros::date!(2027 - 03 - 31)), &all).0,
        vec!["LID-1"]
    );
    assert_eq!(
        overview(&db, expiring(time::macros::date!(2027 - 03 - 30)), &all).1,
        0
    );
    let by_stock = overview::Filter {
        sort: overview::Sort::OnHand,
        ..filter("")
    };
    assert_eq!(
        overview(&db, by_stock, &all).0,
        vec!["LID-1", "GLV-M"],
        "30 before 45"
    );
    let by_expiry = overview::Filter {
        sort: overview::Sort::Expiry,
        ..filter("")
    };
    assert_eq!(overview(&db, by_expiry, &all).0, vec!["LID-1", "GLV-M"]);
    let by_code = overview::Filter {
        sort: overview::Sort::Code,
        ..filter("")
    };
    assert_eq!(overview(&db, by_code, &all).0, vec!["GLV-M", "LID-1"]);
}

#[test]
fn the_item_list_shows_every_change_to_an_item_or_its_category_at_once() {
    let (_dir, db) = setup();
    let search = crate::catalog::search::SearchCache::default();
    let allowed: std::collections::HashSet<i64> = [1, 2, 3].into_iter().collect();
    let first = |db: &Db| {
        db.read_blocking(|c| {
            overview::list(c, &search, &filter("gloves"), &allowed, 50, 0).map_err(DbError::from)
        })
        .unwrap()
        .0
        .remove(0)
    };
    db.write_blocking(|tx| {
        tx.execute_batch(
            "INSERT INTO categories (id, name, created_at, updated_at) VALUES (1, 'Gloves', 'now', 'now');
             UPDATE items SET category_id = 1 WHERE id = 1;",
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let before = first(&db);
    assert_eq!(before.category.as_deref(), Some("Gloves"));
    db.write_blocking(|tx| {
        tx.execute(
            "UPDATE items SET unit = 'pair', notes = 'Ask for size', lot_tracked = 1 WHERE id = 1",
            [],
        )
        .map_err(DbError::from)
    })
    .unwrap();
    let after = first(&db);
    assert_eq!(after.item.unit, "pair");
    assert_eq!(after.item.notes, "Ask for size");
    assert!(after.item.lot_tracked);
    db.write_blocking(|tx| {
        tx.execute(
            "UPDATE categories SET name = 'Hand protection' WHERE id = 1",
            [],
        )
        .map_err(DbError::from)
    })
    .unwrap();
    assert_eq!(first(&db).category.as_deref(), Some("Hand protection"));
    assert!(!first(&db).low, "no reorder point yet");
    let set_point = |sql: &'static str| {
        db.write_blocking(|tx| tx.execute(sql, []).map_err(DbError::from))
            .unwrap();
    };
    set_point(
        "INSERT INTO item_locations (item_id, location_id, reorder_point, par_level) VALUES (1, 2, 10, 50)",
    );
    assert!(first(&db).low, "a new reorder point counts at once");
    set_point("UPDATE item_locations SET reorder_point = 0 WHERE item_id = 1");
    assert!(!first(&db).low, "and so does a cleared one");
    set_point("UPDATE item_locations SET reorder_point = 5 WHERE item_id = 1");
    assert!(first(&db).low);
    set_point("DELETE FROM item_locations WHERE item_id = 1");
    assert!(!first(&db).low, "and a deleted one");
}
