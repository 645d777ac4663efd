use rusqlite::Transaction;

use super::items::{self, ItemInput};
use super::locations;
use super::*;
use crate::audit::Context;
use crate::db::Db;
use crate::domain::barcode::Gtin;
use crate::domain::{Clock, Role, SystemClock};

fn setup() -> (tempfile::TempDir, Db) {
    let (dir, db) = crate::db::testing::migrated_db();
    db.write_blocking(|tx| {
        tx.execute_batch(
            "INSERT INTO users (id, username, display_name, role, password_hash, created_at, updated_at) VALUES
               (1, 'anna', 'Anna', 'staff', 'x', 'now', 'now'),
               (2, 'ben', 'Ben', 'staff', 'x', 'now', 'now'),
               (3, 'ada', 'Ada', 'admin', 'x', 'now', 'now');
             INSERT INTO categories (id, name, created_at, updated_at) VALUES (1, 'Gloves', 'now', 'now');",
        )
        .map_err(DbError::from)
    })
    .unwrap();
    (dir, db)
}

fn with<T>(
    db: &Db,
    f: impl FnOnce(&Transaction, &Context) -> Result<T, CatalogError>,
) -> Result<T, CatalogError> {
    db.write_blocking(|tx| f(tx, &Context::system(SystemClock.now())))
}

fn gloves() -> ItemInput {
    ItemInput {
        code: "GLV-M".into(),
        name: "Nitrile gloves M".into(),
        category_id: Some(1),
        unit: "each".into(),
        ..ItemInput::default()
    }
}

fn invalid(r: Result<impl std::fmt::Debug, CatalogError>) -> crate::validation::FieldErrors {
    match r {
        Err(CatalogError::Invalid(e)) => e,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn items_are_validated_all_at_once_and_codes_are_unique() {
    let (_dir, db) = setup();
    let e = invalid(with(&db, |tx, c| {
        items::create(
            tx,
            c,
            &ItemInput {
                category_id: Some(9),
                ..ItemInput::default()
            },
        )
    }));
    for field in ["code", "name", "unit", "category_id"] {
        assert!(e.get(field).is_some(), "{field} missing from {e}");
    }
    let item = with(&db, |tx, c| items::create(tx, c, &gloves())).unwrap();
    assert_eq!(item.code, "GLV-M");
    let e = invalid(with(&db, |tx, c| {
        items::create(
            tx,
            c,
            &ItemInput {
                code: "glv-m".into(),
                ..gloves()
            },
        )
    }));
    assert_eq!(
        e.get("code"),
        Some("is already used by Nitrile gloves M"),
        "case-insensitive"
    );
    // Editing keeps its own code.
    let edited = with(&db, |tx, c| {
        items::update(
            tx,
            c,
            item.id,
            &ItemInput {
                name: "Nitrile gloves, size M".into(),
                ..gloves()
            },
        )
    })
    .unwrap();
    assert_eq!(edited.name, "Nitrile gloves, size M");
    let audited: i64 = db
        .read_blocking(|c| {
            c.query_row(
                "SELECT count(*) FROM audit_log WHERE entity_type = 'item'",
                [],
                |r| r.get(0),
            )
            .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(audited, 2);
}

#[test]
fn packs_carry_gtins_that_identify_item_and_quantity() {
    let (_dir, db) = setup();
    let item = with(&db, |tx, c| items::create(tx, c, &gloves())).unwrap();
    let other = with(&db, |tx, c| {
        items::create(
            tx,
            c,
            &ItemInput {
                code: "GLV-L".into(),
                name: "Nitrile gloves L".into(),
                ..gloves()
            },
        )
    })
    .unwrap();
    let pack = with(&db, |tx, c| {
        items::add_pack(tx, c, item.id, "box", 100, Some("4006381333931"))
    })
    .unwrap();
    assert_eq!(pack.gtin.as_deref(), Some("04006381333931"));

    let found = db
        .read_blocking(|c| {
            items::find_by_gtin(c, &Gtin::parse("04006381333931").unwrap()).map_err(DbError::from)
        })
        .unwrap()
        .unwrap();
    assert_eq!((found.item_id, found.quantity), (item.id, 100));

    let e = invalid(with(&db, |tx, c| {
        items::add_pack(tx, c, other.id, "box", 100, Some("4006381333931"))
    }));
    assert_eq!(
        e.get("gtin"),
        Some("is already used by Nitrile gloves M (box)")
    );
    let e = invalid(with(&db, |tx, c| {
        items::add_pack(tx, c, other.id, "case", 0, Some("4006381333932"))
    }));
    assert!(e.get("gtin").unwrap().contains("check digit"));
    assert!(e.get("quantity").is_some());
    let e = invalid(with(&db, |tx, c| {
        items::add_pack(tx, c, item.id, "box", 50, None)
    }));
    assert!(
        e.get("name")
            .unwrap()
            .contains("already has a pack called box")
    );
    let packs = db
        .read_blocking(|c| items::packs(c, item.id).map_err(DbError::from))
        .unwrap();
    assert_eq!(
        packs
            .iter()
            .map(|p| (p.name.as_str(), p.quantity))
            .collect::<Vec<_>>(),
        [("each", 1), ("box", 100)]
    );
}

#[test]
fn locations_form_a_tree_without_cycles() {
    let (_dir, db) = setup();
    let room = with(&db, |tx, c| {
        locations::create(tx, c, None, "Treatment room", "room")
    })
    .unwrap();
    let cabinet = with(&db, |tx, c| {
        locations::create(tx, c, Some(room.id), "Cabinet A", "cabinet")
    })
    .unwrap();
    let shelf = with(&db, |tx, c| {
        locations::create(tx, c, Some(cabinet.id), "Shelf 2", "shelf")
    })
    .unwrap();
    let path = db
        .read_blocking(|c| locations::path_name(c, shelf.id).map_err(DbError::from))
        .unwrap();
    assert_eq!(path, "Treatment room › Cabinet A › Shelf 2");

    let e = invalid(with(&db, |tx, c| {
        locations::create(tx, c, Some(room.id), "cabinet a", "cupboard")
    }));
    assert!(e.get("name").is_some() && e.get("kind").is_some(), "{e}");
    let e = invalid(with(&db, |tx, c| {
        locations::set_parent(tx, c, room.id, Some(shelf.id))
    }));
    assert_eq!(
        e.get("parent_id"),
        Some("would put the location inside itself")
    );
    let moved = with(&db, |tx, c| {
        locations::set_parent(tx, c, shelf.id, Some(room.id))
    })
    .unwrap();
    assert_eq!(moved.parent_id, Some(room.id));
}

#[test]
fn an_access_list_covers_the_whole_subtree() {
    let (_dir, db) = setup();
    let room = with(&db, |tx, c| {
        locations::create(tx, c, None, "Drug room", "room")
    })
    .unwrap();
    let safe = with(&db, |tx, c| {
        locations::create(tx, c, Some(room.id), "Controlled drugs", "cabinet")
    })
    .unwrap();
    let open = with(&db, |tx, c| locations::create(tx, c, None, "Store", "room")).unwrap();
    let may = |user: i64, role: Role, id: i64| {
        db.read_blocking(|c| locations::may_use(c, user, role, id).map_err(DbError::from))
            .unwrap()
    };
    assert!(may(1, Role::Staff, safe.id), "no list: open to everyone");

    with(&db, |tx, c| locations::set_access(tx, c, room.id, &[1])).unwrap();
    assert!(may(1, Role::Staff, safe.id), "Anna is on the room's list");
    assert!(
        !may(2, Role::Staff, room.id) && !may(2, Role::Staff, safe.id),
        "Ben is not, below included"
    );
    assert!(may(2, Role::Staff, open.id));
    assert!(may(3, Role::Admin, safe.id), "admins see everything");

    // A list lower down narrows further; it cannot widen the room's list.
    with(&db, |tx, c| locations::set_access(tx, c, safe.id, &[2])).unwrap();
    assert!(!may(1, Role::Staff, safe.id) && !may(2, Role::Staff, safe.id));
    assert!(may(1, Role::Staff, room.id));

    with(&db, |tx, c| locations::set_access(tx, c, room.id, &[])).unwrap();
    assert!(may(2, Role::Staff, safe.id), "the room opened again");
    let e = invalid(with(&db, |tx, c| {
        locations::set_access(tx, c, room.id, &[99])
    }));
    assert!(e.get("user_ids").is_some());
}
