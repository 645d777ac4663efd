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
        items::add_pack(tx, c, item.id, "box", 100, gtin("4006381333931"))
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
        items::add_pack(tx, c, other.id, "box", 100, gtin("4006381333931"))
    }));
    assert_eq!(
        e.get("gtin"),
        Some("is already used by Nitrile gloves M (box)")
    );
    let e = invalid(with(&db, |tx, c| {
        items::add_pack(tx, c, other.id, "case", 0, gtin("4006381333932"))
    }));
    assert!(e.get("gtin").unwrap().contains("check digit"));
    assert!(e.get("quantity").is_some());
    let e = invalid(with(&db, |tx, c| {
        items::add_pack(tx, c, item.id, "box", 50, Default::default())
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
        db.read_blocking(|c| {
            locations::places(c, user, role)
                .map(|p| p.contains(id))
                .map_err(DbError::from)
        })
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

fn supplier(name: &str) -> suppliers::SupplierInput {
    suppliers::SupplierInput {
        name: name.into(),
        email: "orders@medsupply.example".into(),
        lead_time_days: 3,
        ..Default::default()
    }
}

#[test]
fn suppliers_are_validated_all_at_once_and_names_are_unique() {
    let (_dir, db) = setup();
    let e = invalid(with(&db, |tx, c| {
        suppliers::create(
            tx,
            c,
            &suppliers::SupplierInput {
                name: " ".into(),
                email: "not an address".into(),
                lead_time_days: -1,
                ..Default::default()
            },
        )
    }));
    for field in ["name", "email", "lead_time_days"] {
        assert!(e.get(field).is_some(), "{field} not reported in {e:?}");
    }
    with(&db, |tx, c| {
        suppliers::create(tx, c, &supplier("MedSupply"))
    })
    .unwrap();
    let e = invalid(with(&db, |tx, c| {
        suppliers::create(tx, c, &supplier("medsupply"))
    }));
    assert_eq!(e.get("name"), Some("medsupply already exists"));
    let count: i64 = db
        .read_blocking(|c| {
            c.query_row("SELECT count(*) FROM suppliers", [], |r| r.get(0))
                .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(count, 1, "refused suppliers are not stored");
}

#[test]
fn one_preferred_supplier_item_per_item_and_only_the_practice_currency() {
    let (_dir, db) = setup();
    let item = with(&db, |tx, c| items::create(tx, c, &gloves())).unwrap();
    let a = with(&db, |tx, c| suppliers::create(tx, c, &supplier("A"))).unwrap();
    let b = with(&db, |tx, c| suppliers::create(tx, c, &supplier("B"))).unwrap();
    let line = |s: i64, code: &str, preferred: bool| suppliers::SupplierItemInput {
        supplier_id: s,
        item_id: item.id,
        supplier_code: code.into(),
        pack_size: 100,
        price_minor: 899,
        currency: String::new(),
        preferred,
    };
    let first = with(&db, |tx, c| {
        suppliers::create_item(tx, c, &line(a.id, "A-1", true), "EUR")
    })
    .unwrap();
    assert_eq!(first.currency, "EUR");
    let second = with(&db, |tx, c| {
        suppliers::create_item(tx, c, &line(b.id, "B-1", true), "EUR")
    })
    .unwrap();
    let lines = db
        .read_blocking(|c| suppliers::for_item(c, item.id).map_err(DbError::from))
        .unwrap();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.preferred)
            .map(|l| l.id)
            .collect::<Vec<_>>(),
        vec![second.id],
        "the newly preferred line is the only preferred one"
    );
    let e = invalid(with(&db, |tx, c| {
        suppliers::create_item(
            tx,
            c,
            &suppliers::SupplierItemInput {
                currency: "USD".into(),
                pack_size: 0,
                ..line(a.id, "A-1", false)
            },
            "EUR",
        )
    }));
    assert_eq!(
        e.get("currency"),
        Some("must be EUR, the practice's currency")
    );
    assert_eq!(e.get("pack_size"), Some("must be from 1 to 1000000"));
    assert_eq!(
        e.get("supplier_code"),
        Some("A already uses A-1 for Nitrile gloves M")
    );
    assert_eq!(
        first.id,
        lines.iter().find(|l| l.supplier_code == "A-1").unwrap().id
    );
}

#[test]
fn categories_have_unique_names() {
    let (_dir, db) = setup();
    let c = with(&db, |tx, c| categories::create(tx, c, " Syringes ")).unwrap();
    assert_eq!(c.name, "Syringes");
    let e = invalid(with(&db, |tx, ctx| categories::create(tx, ctx, "gloves")));
    assert_eq!(e.get("name"), Some("gloves already exists"));
    let renamed = with(&db, |tx, ctx| {
        categories::update(tx, ctx, c.id, "Syringes & needles", false)
    })
    .unwrap();
    assert!(!renamed.active);
    let e = invalid(with(&db, |tx, ctx| {
        categories::update(tx, ctx, c.id, "Gloves", true)
    }));
    assert_eq!(e.get("name"), Some("Gloves already exists"));
}

#[test]
fn stock_targets_are_set_cleared_and_checked() {
    let (_dir, db) = setup();
    let item = with(&db, |tx, c| items::create(tx, c, &gloves())).unwrap();
    let room = with(&db, |tx, c| {
        locations::create(tx, c, None, "Room 1", "room")
    })
    .unwrap();
    with(&db, |tx, c| {
        items::set_target(tx, c, item.id, room.id, 20, 100)
    })
    .unwrap();
    let t = db
        .read_blocking(|c| items::targets(c, item.id).map_err(DbError::from))
        .unwrap();
    assert_eq!((t[0].reorder_point, t[0].par_level), (20, 100));
    let e = invalid(with(&db, |tx, c| {
        items::set_target(tx, c, item.id, room.id, 50, 10)
    }));
    assert_eq!(
        e.get("par_level"),
        Some("must not be below the reorder point")
    );
    let e = invalid(with(&db, |tx, c| {
        items::set_target(tx, c, item.id, 99, -1, 10)
    }));
    assert!(e.get("location_id").is_some() && e.get("reorder_point").is_some());
    with(&db, |tx, c| {
        items::set_target(tx, c, item.id, room.id, 0, 0)
    })
    .unwrap();
    assert!(
        db.read_blocking(|c| items::targets(c, item.id).map_err(DbError::from))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_location_holding_stock_or_open_children_cannot_be_closed() {
    let (_dir, db) = setup();
    let item = with(&db, |tx, c| items::create(tx, c, &gloves())).unwrap();
    let room = with(&db, |tx, c| {
        locations::create(tx, c, None, "Room 1", "room")
    })
    .unwrap();
    let shelf = with(&db, |tx, c| {
        locations::create(tx, c, Some(room.id), "Shelf", "shelf")
    })
    .unwrap();
    let e = invalid(with(&db, |tx, c| {
        locations::set_active(tx, c, room.id, false)
    }));
    assert_eq!(
        e.get("active"),
        Some("Room 1 has open locations inside it; close those first")
    );
    db.write_blocking(|tx| {
        crate::stock::record(
            tx,
            &Context::system(SystemClock.now()),
            &crate::stock::NewMovement {
                kind: crate::domain::ledger::MovementKind::Receipt,
                item_id: item.id,
                location_id: shelf.id,
                lot: String::new(),
                expiry: None,
                quantity: 5,
                reason: String::new(),
                note: String::new(),
            },
        )
    })
    .unwrap();
    let e = invalid(with(&db, |tx, c| {
        locations::set_active(tx, c, shelf.id, false)
    }));
    assert_eq!(
        e.get("active"),
        Some("Shelf still holds stock; move or dispose of it first")
    );
    let renamed = with(&db, |tx, c| {
        locations::update(tx, c, shelf.id, "Top shelf", "shelf")
    })
    .unwrap();
    assert_eq!(renamed.name, "Top shelf");
}

fn gtin(g: &str) -> items::PackCodes<'_> {
    items::PackCodes {
        gtin: Some(g),
        hibcc: None,
    }
}
