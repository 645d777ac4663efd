use rusqlite::Transaction;

use super::*;
use crate::db::Db;
use crate::domain::{Clock, SystemClock};

fn setup() -> (tempfile::TempDir, Db) {
    let (dir, db) = crate::db::testing::migrated_db();
    db.write_blocking(|tx| {
        tx.execute_batch(
            "INSERT INTO users (id, username, display_name, role, password_hash, created_at, updated_at) VALUES
               (1, 'mia', 'Mia', 'manager', 'x', 'now', 'now');
             INSERT INTO categories (id, name, created_at, updated_at) VALUES (1, 'Gloves', 'now', 'now');
             INSERT INTO locations (id, parent_id, name, kind, created_at, updated_at) VALUES
               (1, NULL, 'Treatment room', 'room', 'now', 'now'),
               (2, 1, 'Cabinet A', 'cabinet', 'now', 'now');",
        )
        .map_err(DbError::from)
    })
    .unwrap();
    (dir, db)
}

/// Runs an import and keeps it only when clean, as a commit does.
fn import(db: &Db, kind: Kind, content: &str) -> Report {
    let ctx = audit::Context::system(SystemClock.now());
    let content = content.to_string();
    db.write_blocking(|tx: &Transaction| {
        let report = run(tx, &ctx, kind, &content, "EUR")?;
        if report.is_clean() {
            Ok(report)
        } else {
            Err(ImportError::Rejected(Box::new(report)))
        }
    })
    .unwrap_or_else(|e| match e {
        ImportError::Rejected(r) => *r,
        other => panic!("{other}"),
    })
}

fn count(db: &Db, sql: &'static str) -> i64 {
    db.read_blocking(|c| c.query_row(sql, [], |r| r.get(0)).map_err(DbError::from))
        .unwrap()
}

fn problems(r: &Report) -> Vec<String> {
    r.errors().iter().map(|p| p.to_string()).collect()
}

#[test]
fn a_repeated_code_is_reported_on_both_lines_and_nothing_is_kept() {
    let (_dir, db) = setup();
    let r = import(
        &db,
        Kind::Items,
        "code,name,unit\nA1,Gauze,each\nB2,Tape,roll\na1,Gauze again,each\n",
    );
    assert_eq!(
        problems(&r),
        [
            "line 2, column code: A1 appears again on line 4",
            "line 4, column code: a1 already appears on line 2",
        ]
    );
    assert_eq!(count(&db, "SELECT count(*) FROM items"), 0);
    assert_eq!(count(&db, "SELECT count(*) FROM audit_log"), 0);
}

#[test]
fn missing_categories_are_created_once_and_said_so() {
    let (_dir, db) = setup();
    let r = import(
        &db,
        Kind::Items,
        "code,name,unit,category,lot_tracked,gtin,pack_name,pack_quantity\n\
         A1,Gauze,each,Dressings,x,4006381333931,box,100\n\
         B2,Gloves M,pair,gloves,no,,,\n\
         C3,Tape,roll,dressings,,,,\n",
    );
    assert!(r.is_clean(), "{:?}", problems(&r));
    assert_eq!(r.rows[0].notices, ["new category Dressings"]);
    assert!(r.rows[1].notices.is_empty() && r.rows[2].notices.is_empty());
    assert_eq!(r.counts.items_created, 3);
    assert_eq!(r.counts.categories_created, 1);
    assert_eq!((r.counts.gtins_added, r.counts.packs_added), (1, 1));
    assert_eq!(count(&db, "SELECT count(*) FROM categories"), 2);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM items WHERE category_id = (SELECT id FROM categories WHERE name = 'Dressings')"
        ),
        2
    );
    assert_eq!(
        count(&db, "SELECT lot_tracked FROM items WHERE code = 'A1'"),
        1
    );
}

#[test]
fn a_missing_required_column_stops_before_the_rows() {
    let (_dir, db) = setup();
    let r = import(&db, Kind::Items, "code;name;colour\nA1;Gauze;white\n");
    assert_eq!(
        problems(&r),
        ["line 1, column unit: is required but missing from the header"]
    );
    assert!(r.rows.is_empty());
    let notices: Vec<String> = r.notices().iter().map(|p| p.to_string()).collect();
    assert_eq!(
        notices,
        ["line 1, column colour: is not used by this import and is ignored"]
    );
}

#[test]
fn opening_stock_is_a_receipt_with_its_reason() {
    let (_dir, db) = setup();
    import(
        &db,
        Kind::Items,
        "code,name,unit,lot_tracked,expiry_tracked\nLID,Lidocaine,ampoule,yes,yes\nTAPE,Tape,roll,no,no\n",
    );
    let r = import(
        &db,
        Kind::OpeningStock,
        "item;location;lot;expiry;quantity\n\
         LID;Treatment room > Cabinet A;L1;31.03.2027;20\n\
         TAPE;Cabinet A;X9;;4\n",
    );
    assert!(r.is_clean(), "{:?}", problems(&r));
    assert_eq!(
        r.rows[1].notices,
        ["lot ignored: Tape is not tracked by lot"]
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM stock_movements WHERE kind = 'receipt' AND reason = 'opening stock'"
        ),
        2
    );
    assert_eq!(
        count(
            &db,
            "SELECT quantity FROM stock_levels WHERE lot = 'L1' AND expiry = '2027-03-31' AND location_id = 2"
        ),
        20
    );
    assert!(
        crate::stock::check(&db.writer().unwrap())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn cells_beyond_the_header_are_a_mistake_unless_empty() {
    let (_dir, db) = setup();
    let r = import(
        &db,
        Kind::Suppliers,
        "name\nSmith, Jones & Co\nMedSupply,,\n",
    );
    assert_eq!(
        problems(&r),
        [
            "line 2: has 2 cells but the header has 1: check the separator, or put cells that contain it in quotes"
        ]
    );
}
