//! Queries that run on every request must be index lookups, never table
//! scans: with a year of sessions or millions of audit rows a scan would
//! turn a 2 ms page into a slow one. Each such query is listed here and its
//! `EXPLAIN QUERY PLAN` checked; add new per-request queries to the list.

use rusqlite::Connection;

use crate::accounts::{lockout, sessions, tokens, users::USER_COLUMNS};
use crate::stock::overview;

fn per_request_queries() -> Vec<(&'static str, String, usize)> {
    vec![
        ("session lookup", sessions::lookup_sql(), 1),
        ("token authentication", tokens::authenticate_sql(), 1),
        ("lock-out check", lockout::LOCKED_UNTIL_SQL.to_string(), 3),
        (
            "failures from anywhere",
            lockout::RECENT_FAILURES_SQL.to_string(),
            2,
        ),
        (
            "failures from one address",
            lockout::COUNT_FAILURES_SQL.to_string(),
            3,
        ),
        (
            "user by name",
            format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = ?1"),
            1,
        ),
        ("item list: items", overview::SUMMARY_ITEMS_SQL.into(), 1),
        (
            "an item's stock levels",
            crate::stock::ITEM_LEVELS_SQL.into(),
            1,
        ),
        ("item list: stock", overview::SUMMARY_LEVELS_SQL.into(), 1),
        (
            "item list: reorder points",
            overview::SUMMARY_TARGETS_SQL.into(),
            1,
        ),
        // The order page polls its send state every few seconds; the
        // supplier page shows its channel's last test.
        (
            "an order's newest send job",
            crate::orders::jobs::LATEST_SEND_SQL.into(),
            2,
        ),
        (
            "a supplier's newest channel test",
            crate::dispatch::LAST_TEST_SQL.into(),
            2,
        ),
        (
            "last audit row",
            "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1".into(),
            0,
        ),
    ]
}

fn plan(conn: &Connection, sql: &str, params: usize) -> Vec<String> {
    let args: Vec<String> = (0..params).map(|i| format!("x{i}")).collect();
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
        r.get::<_, String>(3)
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn per_request_queries_use_indexes() {
    let conn = crate::db::testing::migrated_memory();
    rusqlite::vtab::array::load_module(&conn).unwrap();
    for (name, sql, params) in per_request_queries() {
        let steps = plan(&conn, &sql, params);
        for step in &steps {
            // "SCAN audit_log" walking the primary key backwards for LIMIT 1 is
            // fine; any other scan is not.
            // "SCAN r VIRTUAL TABLE": walking a list of ids given as a
            // parameter (`rarray`), each then looked up by key.
            // "USE TEMP B-TREE": sorting what a search found (one item's
            // few levels), not reading a table.
            let ok = step.starts_with("SEARCH")
                || step.starts_with("USE TEMP B-TREE")
                || step == "SCAN audit_log"
                || step.starts_with("SCAN r VIRTUAL TABLE");
            assert!(ok, "{name}: `{step}` in plan {steps:?}");
        }
    }
}
