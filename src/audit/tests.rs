use super::*;
use crate::domain::{Clock, SystemClock};

/// What someone with write access to the file can do first: drop the
/// triggers that keep the log append-only (then edit it as they like).
fn unguarded(conn: Connection) -> Connection {
    conn.execute_batch(
        "DROP TRIGGER audit_log_append_only_update; DROP TRIGGER audit_log_append_only_delete;",
    )
    .unwrap();
    conn
}

#[test]
fn the_application_cannot_change_or_remove_an_entry() {
    let conn = db_with_rows(3);
    for sql in [
        "UPDATE audit_log SET actor_name = 'mallory' WHERE id = 2",
        "DELETE FROM audit_log WHERE id = 3",
        "DELETE FROM audit_log",
    ] {
        let e = conn.execute(sql, []).unwrap_err();
        assert!(
            e.to_string().contains("the audit log is append-only"),
            "{sql}: {e}"
        );
    }
    assert_eq!(verify(&conn).unwrap(), 3);
}

fn unguarded_rows(n: usize) -> Connection {
    unguarded(db_with_rows(n))
}

fn db_with_rows(n: usize) -> Connection {
    let mut conn = crate::db::testing::migrated_memory();
    for i in 0..n {
        let tx = conn.transaction().unwrap();
        let ctx = Context {
            actor: Actor::User(crate::domain::actor::Person {
                id: 1,
                username: "anna".into(),
                display_name: "Anna".into(),
                role: crate::domain::Role::Admin,
                places: crate::domain::actor::Places::All,
            }),
            ip: Some("127.0.0.1".into()),
            request_id: Some(format!("req-{i}")),
            at: SystemClock.now(),
        };
        record(
            &tx,
            &ctx,
            Event::new("thing.change", "thing", i).after(serde_json::json!({"n": i})),
        )
        .unwrap();
        tx.commit().unwrap();
    }
    conn
}

#[test]
fn an_untouched_chain_verifies() {
    let conn = db_with_rows(5);
    assert_eq!(verify(&conn).unwrap(), 5);
    assert_eq!(verify(&db_with_rows(0)).unwrap(), 0);
}

#[test]
fn an_edited_row_is_named() {
    let conn = unguarded_rows(5);
    conn.execute(
        "UPDATE audit_log SET actor_name = 'mallory' WHERE id = 3",
        [],
    )
    .unwrap();
    assert!(matches!(
        verify(&conn),
        Err(VerifyError::Broken(ChainBroken::Edited { id: 3 }))
    ));
}

#[test]
fn a_deleted_row_is_named() {
    let conn = unguarded_rows(5);
    conn.execute("DELETE FROM audit_log WHERE id = 2", [])
        .unwrap();
    assert!(matches!(
        verify(&conn),
        Err(VerifyError::Broken(ChainBroken::Missing {
            id: 3,
            missing_from: 2,
            missing_to: 2
        }))
    ));
}

#[test]
fn a_deleted_tail_is_noticed() {
    let conn = unguarded_rows(5);
    conn.execute("DELETE FROM audit_log WHERE id = 5", [])
        .unwrap();
    assert!(matches!(
        verify(&conn),
        Err(VerifyError::Broken(ChainBroken::TailMissing {
            last_id: 4,
            expected_last: 5
        }))
    ));
}

#[test]
fn a_row_rehashed_after_editing_breaks_the_link_to_the_next() {
    let conn = unguarded_rows(5);
    // Forge row 3 consistently with itself: the next row no longer links to it.
    let (mut row, _) = conn
        .query_row(&format!("{SELECT_ROW} WHERE id = 3"), [], map_row)
        .unwrap();
    row.actor_name = "mallory".into();
    conn.execute(
        "UPDATE audit_log SET actor_name = ?1, hash = ?2 WHERE id = 3",
        params![row.actor_name, row.hash()],
    )
    .unwrap();
    assert!(matches!(
        verify(&conn),
        Err(VerifyError::Broken(ChainBroken::Unlinked {
            id: 4,
            prev_id: 3
        }))
    ));
}

#[test]
fn an_inserted_row_is_noticed() {
    let conn = unguarded_rows(3);
    // Shift rows up to make room, as an attacker inserting in the middle must.
    conn.execute("UPDATE audit_log SET id = id + 10 WHERE id >= 2", [])
        .unwrap();
    conn.execute(
        "INSERT INTO audit_log (id, at, actor_kind, actor_name, action, entity_type, prev_hash, hash)
         SELECT 2, at, 'system', 'system', 'x', 'y', hash, 'forged' FROM audit_log WHERE id = 1",
        [],
    )
    .unwrap();
    assert!(matches!(
        verify(&conn),
        Err(VerifyError::Broken(ChainBroken::Edited { id: 2 }))
    ));
}

#[test]
fn a_deleted_tail_stays_visible_after_new_rows() {
    let mut conn = unguarded_rows(5);
    conn.execute("DELETE FROM audit_log WHERE id >= 4", [])
        .unwrap();
    let tx = conn.transaction().unwrap();
    for i in 0..3 {
        record(
            &tx,
            &Context::system(SystemClock.now()),
            Event::new("later.change", "thing", i),
        )
        .unwrap();
    }
    tx.commit().unwrap();
    assert!(matches!(
        verify(&conn),
        Err(VerifyError::Broken(ChainBroken::Missing {
            id: 6,
            missing_from: 4,
            missing_to: 5
        }))
    ));
}
