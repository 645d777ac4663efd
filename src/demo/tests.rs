use std::collections::HashSet;

use rusqlite::Connection;
use time::macros::date;

use super::*;
use crate::db::testing::migrated_memory;
use crate::domain::Username;
use crate::domain::barcode::Gtin;

/// Demo users with a stand-in hash: hashing is slow and not what these
/// tests are about.
fn demo_users() -> Vec<DemoUser> {
    USERS
        .iter()
        .map(|(username, display, role)| DemoUser {
            new: NewUser {
                username: Username::parse(username).unwrap(),
                display_name: display.to_string(),
                role: *role,
                password_hash: "not-a-real-hash".into(),
                must_change_password: false,
            },
            password: "unused".into(),
        })
        .collect()
}

const TODAY: Date = date!(2026 - 03 - 16);

fn generate_into(conn: &mut Connection, scale: u32) -> anyhow::Result<DemoSummary> {
    let tx = conn.transaction()?;
    let ctx = Context::system(Timestamp::parse("2026-03-16T09:00:00.000Z").unwrap());
    let calendar = Calendar::new(TODAY, &jiff::tz::TimeZone::get("Europe/Berlin").unwrap())?;
    let summary = generate(
        &tx,
        &ctx,
        &demo_users(),
        &DemoOptions::new(scale, "CHF"),
        &calendar,
    )?;
    tx.commit()?;
    Ok(summary)
}

fn demo_db(scale: u32) -> (Connection, DemoSummary) {
    let mut conn = migrated_memory();
    let summary = generate_into(&mut conn, scale).unwrap();
    (conn, summary)
}

fn scalar(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn the_catalogue_tables_are_consistent() {
    for f in catalog::FAMILIES {
        assert!(
            f.weights.is_empty() || f.weights.len() == f.variants.len(),
            "{}: one weight per variant",
            f.code
        );
        assert!(
            f.prices.is_empty() || f.prices.len() == f.variants.len(),
            "{}: one price per variant",
            f.code
        );
        assert_eq!(f.variants.is_empty(), !f.name.contains("{}"), "{}", f.code);
        assert!(f.supplier < SUPPLIERS.len() && f.maker < MAKERS.len());
        assert!(f.qty.0 >= 1 && f.qty.0 <= f.qty.1 && f.step >= 1 && f.rate > 0.0);
        assert!(f.shelf_months.0 <= f.shelf_months.1);
        assert!(f.packs.windows(2).all(|w| w[0].1 < w[1].1), "{}", f.code);
    }
    let products = catalog::products();
    assert!((250..=350).contains(&products.len()), "{}", products.len());
    let codes: HashSet<_> = products.iter().map(|p| p.code.as_str()).collect();
    let names: HashSet<_> = products.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(codes.len(), products.len(), "item codes are unique");
    assert_eq!(names.len(), products.len(), "item names are unique");
    for (_, prefix) in MAKERS {
        assert!(prefix.len() == 7 && prefix.bytes().all(|b| b.is_ascii_digit()));
    }
}

#[test]
fn gtins_carry_the_gs1_check_digit() {
    // The example GTIN of the GS1 General Specifications.
    assert_eq!(gtin(0, "950600013435"), "09506000134352");
    for indicator in 0..=8 {
        let g = gtin(indicator, "403152310042");
        assert_eq!(g.len(), 14);
        assert_eq!(Gtin::parse(&g).unwrap().as_str(), g);
    }
}

#[test]
fn passwords_are_long_random_and_pass_the_policy() {
    let a = random_password();
    let b = random_password();
    assert_ne!(a, b);
    assert_eq!(a.len(), 19);
    assert_eq!(a.matches('-').count(), 3);
    for (username, _, _) in USERS {
        assert!(
            crate::domain::NewPassword::parse(&a, username).is_ok(),
            "{a}"
        );
    }
}

#[test]
fn the_ledger_never_goes_negative_and_levels_equal_it() {
    let (conn, summary) = demo_db(1);
    assert!(crate::stock::check(&conn).unwrap().is_empty(), "no drift");
    // Replay the ledger in position order: no running level below zero.
    let negative = scalar(
        &conn,
        "SELECT count(*) FROM (
             SELECT sum(quantity) OVER (PARTITION BY item_id, location_id, lot, expiry
                 ORDER BY id ROWS UNBOUNDED PRECEDING) AS running
             FROM stock_movements)
         WHERE running < 0",
    );
    assert_eq!(
        negative, 0,
        "a level went below zero somewhere in the history"
    );
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM stock_levels WHERE quantity < 0"
        ),
        0
    );
    // Positions follow time.
    let backwards = scalar(
        &conn,
        "SELECT count(*) FROM (SELECT at, lag(at) OVER (ORDER BY id) AS prev FROM stock_movements)
         WHERE at < prev",
    );
    assert_eq!(backwards, 0);
    assert_eq!(
        scalar(&conn, "SELECT count(*) FROM stock_movements") as u64,
        summary.movements
    );
    assert!(summary.movements >= 20_000, "{}", summary.movements);
    assert!(crate::audit::verify(&conn).is_ok());
}

#[test]
fn movements_follow_the_ledger_rules() {
    let (conn, summary) = demo_db(1);
    // Transfers: an out, then the in that names it, same item, lot,
    // expiry, time and amount, another location.
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM stock_movements WHERE kind = 'transfer_in' AND pair_id IS NULL"
        ),
        0
    );
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM stock_movements WHERE kind <> 'transfer_in' AND pair_id IS NOT NULL"
        ),
        0
    );
    let bad_pairs = scalar(
        &conn,
        "SELECT count(*) FROM stock_movements i JOIN stock_movements o ON o.id = i.pair_id
         WHERE i.kind = 'transfer_in' AND (o.kind <> 'transfer_out' OR o.id <> i.id - 1
             OR o.item_id <> i.item_id OR o.lot <> i.lot OR o.expiry <> i.expiry
             OR o.quantity <> -i.quantity OR o.at <> i.at OR o.location_id = i.location_id)",
    );
    assert_eq!(bad_pairs, 0);
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM stock_movements WHERE kind = 'transfer_out'"
        ),
        scalar(
            &conn,
            "SELECT count(*) FROM stock_movements WHERE kind = 'transfer_in'"
        )
    );
    // Signs, reasons, users.
    let wrong_sign = scalar(
        &conn,
        "SELECT count(*) FROM stock_movements WHERE
             (kind IN ('receipt', 'transfer_in') AND quantity <= 0)
             OR (kind IN ('consumption', 'transfer_out', 'disposal') AND quantity >= 0)",
    );
    assert_eq!(wrong_sign, 0);
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM stock_movements
             WHERE (kind = 'disposal' AND reason NOT IN ('expired', 'damaged'))
                OR (kind = 'adjustment' AND reason = '')"
        ),
        0
    );
    for kind in ["receipt", "consumption", "adjustment", "disposal"] {
        assert!(
            summary.by_kind.iter().any(|(k, n)| *k == kind && *n > 0),
            "{kind}"
        );
    }
    assert!(
        scalar(
            &conn,
            "SELECT count(*) FROM stock_movements WHERE kind = 'disposal' AND reason = 'expired'"
        ) > 0
    );
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM stock_movements m LEFT JOIN users u ON u.id = m.user_id
             WHERE u.id IS NULL OR u.role = 'viewer'"
        ),
        0,
        "every movement is by a demo user who may move stock"
    );
    // Lot and expiry exactly when the item tracks them.
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM stock_movements m JOIN items i ON i.id = m.item_id
             WHERE (m.lot <> '') <> i.lot_tracked OR (m.expiry <> '') <> i.expiry_tracked"
        ),
        0
    );
    // Some stock is expired, some about to be, most later.
    assert!(summary.expired_levels > 0, "{summary:?}");
    assert!(summary.expiring_levels > 0, "{summary:?}");
    let later = scalar(
        &conn,
        "SELECT count(*) FROM stock_levels WHERE quantity > 0 AND expiry > '2026-04-15'",
    ) as u64;
    assert!(later > summary.expired_levels + summary.expiring_levels);
    // The history covers six months up to yesterday (this morning's
    // deliveries against the demo orders aside).
    assert_eq!(
        scalar(&conn, "SELECT min(at) < '2025-09-17' FROM stock_movements"),
        1
    );
    assert_eq!(
        scalar(
            &conn,
            "SELECT max(at) < '2026-03-16' FROM stock_movements
             WHERE id NOT IN (SELECT movement_id FROM receipt_lines WHERE movement_id IS NOT NULL)"
        ),
        1
    );
}

#[test]
fn the_catalogue_is_complete() {
    let (conn, summary) = demo_db(1);
    let items = scalar(&conn, "SELECT count(*) FROM items");
    assert!((250..=350).contains(&items));
    assert_eq!(items as u64, summary.items);
    // Every GTIN carries a valid check digit.
    let mut stmt = conn
        .prepare("SELECT gtin FROM item_packs WHERE gtin IS NOT NULL")
        .unwrap();
    let gtins: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(gtins.len() as i64 >= items);
    for g in &gtins {
        Gtin::parse(g).unwrap_or_else(|e| panic!("{g}: {e}"));
    }
    // Each item: its stocking unit as a pack of 1, one preferred supplier
    // at the configured currency, targets where it is kept.
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM item_packs p
                 WHERE p.item_id = i.id AND p.quantity = 1 AND p.name = i.unit)"
        ),
        0
    );
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM items i WHERE (SELECT count(*) FROM supplier_items s
                 WHERE s.item_id = i.id AND s.preferred = 1) <> 1"
        ),
        0
    );
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM supplier_items WHERE currency <> 'CHF'"
        ),
        0
    );
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM items i WHERE NOT EXISTS
                 (SELECT 1 FROM item_locations l WHERE l.item_id = i.id)"
        ),
        0
    );
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM item_locations WHERE par_level < reorder_point OR par_level = 0"
        ),
        0
    );
    // Vaccines live in the fridge and are tracked by lot and expiry.
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM items i JOIN categories c ON c.id = i.category_id
             WHERE c.name = 'Vaccines' AND (i.lot_tracked = 0 OR i.expiry_tracked = 0
                 OR NOT EXISTS (SELECT 1 FROM item_locations l JOIN locations f
                     ON f.id = l.location_id WHERE l.item_id = i.id AND f.kind = 'fridge'))"
        ),
        0
    );
    // A tree of six locations, three levels deep.
    assert_eq!(scalar(&conn, "SELECT count(*) FROM locations"), 6);
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM locations WHERE parent_id IS NULL"
        ),
        1
    );
    assert!(
        scalar(
            &conn,
            "SELECT count(*) FROM locations c JOIN locations p ON p.id = c.parent_id
             WHERE p.parent_id IS NOT NULL"
        ) >= 1
    );
    assert!((3..=4).contains(&scalar(&conn, "SELECT count(*) FROM suppliers")));
    // The first-run setup is complete, and one audit row tells the story.
    assert!(users::active_admin_exists(&conn).unwrap());
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM audit_log WHERE action = 'demo.generate'"
        ),
        1
    );
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM audit_log WHERE action = 'setup.complete'"
        ),
        1
    );
}

/// Everything generated, as text, for comparing two runs.
fn dump(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT code || name || unit || lot_tracked || expiry_tracked FROM items ORDER BY id",
        "SELECT item_id || name || quantity || coalesce(gtin, '') FROM item_packs ORDER BY id",
        "SELECT supplier_id || item_id || supplier_code || pack_size || price_minor || preferred
         FROM supplier_items ORDER BY id",
        "SELECT item_id || location_id || reorder_point || par_level FROM item_locations
         ORDER BY 1",
        "SELECT id || kind || item_id || location_id || lot || expiry || quantity || reason
             || note || coalesce(pair_id, '') || user_id || at
         FROM stock_movements ORDER BY id",
        "SELECT item_id || location_id || lot || expiry || quantity FROM stock_levels ORDER BY 1",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}

#[test]
fn the_same_scale_gives_the_same_practice() {
    let (a, _) = demo_db(1);
    let (b, _) = demo_db(1);
    let (a, b) = (dump(&a), dump(&b));
    assert!(a.len() > 20_000);
    assert!(a == b, "two runs with the same seed differ");
}

#[test]
fn scale_multiplies_items_and_history() {
    let (_, one) = demo_db(1);
    let (conn, two) = demo_db(2);
    assert_eq!(two.items, 2 * one.items);
    let ratio = two.movements as f64 / one.movements as f64;
    assert!((1.8..2.2).contains(&ratio), "{ratio}");
    assert_eq!(
        scalar(&conn, "SELECT count(DISTINCT code) FROM items") as u64,
        two.items
    );
    assert_eq!(two.locations, one.locations);
    assert!(crate::stock::check(&conn).unwrap().is_empty());
}

#[test]
fn a_database_with_data_is_refused_and_left_alone() {
    let mut conn = migrated_memory();
    conn.execute_batch(
        "INSERT INTO users (username, display_name, role, password_hash, created_at, updated_at)
         VALUES ('anna', 'Anna', 'admin', 'x', 'now', 'now')",
    )
    .unwrap();
    let err = generate_into(&mut conn, 1).unwrap_err().to_string();
    assert!(err.contains("already holds data (1 user)"), "{err}");
    assert_eq!(scalar(&conn, "SELECT count(*) FROM items"), 0);
    assert_eq!(scalar(&conn, "SELECT count(*) FROM audit_log"), 0);

    let (mut conn, _) = demo_db(1);
    let before = dump(&conn);
    let err = generate_into(&mut conn, 1).unwrap_err().to_string();
    assert!(
        err.contains("items") && err.contains("stock movements"),
        "{err}"
    );
    assert!(dump(&conn) == before);
}

#[test]
fn the_login_url_follows_the_configuration() {
    let mut config = Config::for_data_dir("/tmp/nowhere");
    config.listen = "0.0.0.0:8443".parse().unwrap();
    assert_eq!(login_url(&config), "http://127.0.0.1:8443/login");
    config.public_url = Some("https://stockroom.practice.lan/".into());
    assert_eq!(login_url(&config), "https://stockroom.practice.lan/login");
}

#[test]
fn the_demo_has_orders_in_the_states_of_a_normal_week() {
    let (conn, summary) = demo_db(1);
    assert_eq!(summary.orders, 4);
    let states: Vec<String> = conn
        .prepare("SELECT state FROM purchase_orders ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(states[0], "draft");
    assert!(
        states[1] == "submitted" || states[1] == "approved",
        "{states:?}"
    );
    assert_eq!(&states[2..], ["partially_received", "closed"]);
    // Every order has lines, and the deliveries went through the ledger.
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM purchase_orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)"
        ),
        0
    );
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM receipt_lines WHERE movement_id IS NULL"
        ),
        0
    );
    assert!(crate::stock::check(&conn).unwrap().is_empty(), "no drift");
    let practice = crate::practice::practice(&conn).unwrap();
    assert_eq!(practice.name, "Riverside Medical Practice");
    assert_eq!(
        scalar(
            &conn,
            "SELECT count(*) FROM approval_rules WHERE active = 1"
        ),
        2
    );
}
