//! Locations: a tree (room → cabinet → shelf) with access lists.
//!
//! A location with an access list is open only to the users on it, and the
//! restriction covers everything below it: a user may use a location when
//! they are on the list of every restricted location on its path to the
//! root. Admins may use every location.

use crate::db::Cached;
use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;

use super::CatalogError;
use crate::accounts::users::User;
use crate::audit::{self, Context, Event};
use crate::domain::Role;
use crate::domain::actor::{Actor, Places};
use crate::validation::FieldErrors;
use crate::validation::text;

pub const KINDS: [&str; 8] = [
    "site", "room", "cabinet", "shelf", "fridge", "freezer", "drawer", "other",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Location {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub kind: String,
    pub active: bool,
}

fn all(conn: &Connection) -> rusqlite::Result<Vec<Location>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, parent_id, name, kind, active FROM locations ORDER BY name")?;
    stmt.query_map([], |r| {
        Ok(Location {
            id: r.get(0)?,
            parent_id: r.get(1)?,
            name: r.get(2)?,
            kind: r.get(3)?,
            active: r.get(4)?,
        })
    })?
    .collect()
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Location>> {
    conn.row_cached(
        "SELECT id, parent_id, name, kind, active FROM locations WHERE id = ?1",
        [id],
        |r| {
            Ok(Location {
                id: r.get(0)?,
                parent_id: r.get(1)?,
                name: r.get(2)?,
                kind: r.get(3)?,
                active: r.get(4)?,
            })
        },
    )
    .optional()
}

/// "Treatment room › Cabinet A › Shelf 2".
pub fn path_name(conn: &Connection, id: i64) -> rusqlite::Result<String> {
    let tree = all(conn)?;
    Ok(path_in(&tree.iter().map(|l| (l.id, l)).collect(), id))
}

/// The path of `id` through an already loaded tree.
fn path_in(tree: &HashMap<i64, &Location>, id: i64) -> String {
    let mut names = Vec::new();
    let mut at = Some(id);
    while let Some(l) = at.and_then(|i| tree.get(&i)) {
        names.push(l.name.clone());
        at = l.parent_id;
        if names.len() > tree.len() {
            break;
        }
    }
    names.reverse();
    names.join(" › ")
}

pub fn create(
    tx: &Transaction,
    ctx: &Context,
    parent_id: Option<i64>,
    name: &str,
    kind: &str,
) -> Result<Location, CatalogError> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", text(name, 100));
    if !KINDS.contains(&kind) {
        errors.add("kind", format!("must be one of {}", KINDS.join(", ")));
    }
    if let Some(p) = parent_id {
        if get(tx, p)?.is_none_or(|l| !l.active) {
            errors.add("parent_id", "no such active location");
        } else if !ctx.actor.may_use(p) {
            errors.add("parent_id", "you may not use this location");
        }
    }
    if let Some(n) = &name {
        let sibling: bool = tx.row_cached(
            "SELECT EXISTS (SELECT 1 FROM locations WHERE parent_id IS ?1 AND name = ?2 COLLATE NOCASE)",
            params![parent_id, n],
            |r| r.get(0),
        )?;
        if sibling {
            errors.add(
                "name",
                "is already used by another location in the same place",
            );
        }
    }
    errors.into_result()?;
    let now = ctx.at.to_db();
    tx.exec_cached(
        "INSERT INTO locations (parent_id, name, kind, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![parent_id, name, kind, now],
    )?;
    let location = get(tx, tx.last_insert_rowid())?.ok_or(CatalogError::NoSuchLocation)?;
    audit::record(
        tx,
        ctx,
        Event::new("location.create", "location", location.id).after(json!(location)),
    )?;
    Ok(location)
}

/// The location `id` for a change by the actor: one they may not use is
/// not theirs to change, and is answered as not found.
fn changeable(tx: &Transaction, ctx: &Context, id: i64) -> Result<Location, CatalogError> {
    get(tx, id)?
        .filter(|_| ctx.actor.may_use(id))
        .ok_or(CatalogError::NoSuchLocation)
}

/// Renames a location and/or changes its kind.
pub fn update(
    tx: &Transaction,
    ctx: &Context,
    id: i64,
    name: &str,
    kind: &str,
) -> Result<Location, CatalogError> {
    let before = changeable(tx, ctx, id)?;
    let mut errors = FieldErrors::default();
    let name = errors.check("name", text(name, 100));
    if !KINDS.contains(&kind) {
        errors.add("kind", format!("must be one of {}", KINDS.join(", ")));
    }
    if let Some(n) = &name {
        let sibling: bool = tx.row_cached(
            "SELECT EXISTS (SELECT 1 FROM locations WHERE parent_id IS ?1 AND name = ?2 COLLATE NOCASE
                AND id <> ?3)",
            params![before.parent_id, n, id],
            |r| r.get(0),
        )?;
        if sibling {
            errors.add(
                "name",
                "is already used by another location in the same place",
            );
        }
    }
    errors.into_result()?;
    tx.exec_cached(
        "UPDATE locations SET name = ?1, kind = ?2, updated_at = ?3 WHERE id = ?4",
        params![name, kind, ctx.at.to_db(), id],
    )?;
    let after = get(tx, id)?.ok_or(CatalogError::NoSuchLocation)?;
    audit::record(
        tx,
        ctx,
        Event::new("location.update", "location", id)
            .before(json!(before))
            .after(json!(after)),
    )?;
    Ok(after)
}

/// Closes a location (it keeps its history) or reopens it. A location that
/// still holds stock, or has open locations inside it, cannot be closed.
pub fn set_active(
    tx: &Transaction,
    ctx: &Context,
    id: i64,
    active: bool,
) -> Result<Location, CatalogError> {
    let before = changeable(tx, ctx, id)?;
    if !active {
        let stock: i64 = tx.row_cached(
            "SELECT coalesce(sum(quantity), 0) FROM stock_levels WHERE location_id = ?1",
            [id],
            |r| r.get(0),
        )?;
        if stock > 0 {
            return Err(FieldErrors::single(
                "active",
                format!(
                    "{} still holds stock; move or dispose of it first",
                    before.name
                ),
            )
            .into());
        }
        let children: bool = tx.row_cached(
            "SELECT EXISTS (SELECT 1 FROM locations WHERE parent_id = ?1 AND active = 1)",
            [id],
            |r| r.get(0),
        )?;
        if children {
            return Err(FieldErrors::single(
                "active",
                format!(
                    "{} has open locations inside it; close those first",
                    before.name
                ),
            )
            .into());
        }
    } else if let Some(p) = before.parent_id
        && get(tx, p)?.is_some_and(|p| !p.active)
    {
        return Err(FieldErrors::single("active", "the location it is in is closed").into());
    }
    tx.exec_cached(
        "UPDATE locations SET active = ?1, updated_at = ?2 WHERE id = ?3",
        params![active, ctx.at.to_db(), id],
    )?;
    let action = if active {
        "location.activate"
    } else {
        "location.deactivate"
    };
    audit::record(
        tx,
        ctx,
        Event::new(action, "location", id).before(json!(before)),
    )?;
    get(tx, id)?.ok_or(CatalogError::NoSuchLocation)
}

/// Moves a location under another (or to the top), refusing cycles.
pub fn set_parent(
    tx: &Transaction,
    ctx: &Context,
    id: i64,
    parent_id: Option<i64>,
) -> Result<Location, CatalogError> {
    let before = changeable(tx, ctx, id)?;
    if let Some(p) = parent_id {
        get(tx, p)?.ok_or_else(|| FieldErrors::single("parent_id", "no such location"))?;
        if !ctx.actor.may_use(p) {
            return Err(FieldErrors::single("parent_id", "you may not use this location").into());
        }
        let tree: HashMap<i64, Option<i64>> =
            all(tx)?.into_iter().map(|l| (l.id, l.parent_id)).collect();
        let mut at = Some(p);
        while let Some(a) = at {
            if a == id {
                return Err(FieldErrors::single(
                    "parent_id",
                    "would put the location inside itself",
                )
                .into());
            }
            at = tree.get(&a).copied().flatten();
        }
    }
    tx.exec_cached(
        "UPDATE locations SET parent_id = ?1, updated_at = ?2 WHERE id = ?3",
        params![parent_id, ctx.at.to_db(), id],
    )?;
    let after = get(tx, id)?.ok_or(CatalogError::NoSuchLocation)?;
    audit::record(
        tx,
        ctx,
        Event::new("location.move", "location", id)
            .before(json!(before))
            .after(json!(after)),
    )?;
    Ok(after)
}

/// Replaces the access list of a location; an empty list opens it to all.
pub fn set_access(
    tx: &Transaction,
    ctx: &Context,
    id: i64,
    user_ids: &[i64],
) -> Result<(), CatalogError> {
    get(tx, id)?.ok_or(CatalogError::NoSuchLocation)?;
    for u in user_ids {
        let exists: bool = tx.row_cached(
            "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1)",
            [u],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(FieldErrors::single("user_ids", format!("no user with id {u}")).into());
        }
    }
    let before: Vec<i64> = access_list(tx, id)?;
    tx.exec_cached("DELETE FROM location_access WHERE location_id = ?1", [id])?;
    for u in user_ids {
        tx.exec_cached(
            "INSERT OR IGNORE INTO location_access (location_id, user_id) VALUES (?1, ?2)",
            params![id, u],
        )?;
    }
    audit::record(
        tx,
        ctx,
        Event::new("location.access", "location", id)
            .before(json!({ "user_ids": before }))
            .after(json!({ "user_ids": access_list(tx, id)? })),
    )?;
    Ok(())
}

pub fn access_list(conn: &Connection, id: i64) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id FROM location_access WHERE location_id = ?1 ORDER BY user_id",
    )?;
    stmt.query_map([id], |r| r.get(0))?.collect()
}

/// Who may use a location, for someone who may use it themselves; `None`
/// when there is no such location or `actor` may not use it (the list
/// names the people trusted with it).
pub fn access_list_for(
    conn: &Connection,
    actor: &Actor,
    id: i64,
) -> rusqlite::Result<Option<Vec<i64>>> {
    if get(conn, id)?.is_none() || !actor.may_use(id) {
        return Ok(None);
    }
    access_list(conn, id).map(Some)
}

/// The locations `user` may use, as an actor carries them: every one for an
/// admin, and for everyone when no location has an access list (the
/// common case: one small read); else the ids allowed now. Read on every
/// signed-in request, so it reads only ids, parents and the lists.
pub fn places(conn: &Connection, user_id: i64, role: Role) -> rusqlite::Result<Places> {
    if role == Role::Admin {
        return Ok(Places::All);
    }
    let mut lists: HashMap<i64, HashSet<i64>> = HashMap::new();
    let mut stmt = conn.prepare_cached("SELECT location_id, user_id FROM location_access")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (location, user) = row?;
        lists.entry(location).or_default().insert(user);
    }
    if lists.is_empty() {
        return Ok(Places::All);
    }
    let mut stmt = conn.prepare_cached("SELECT id, parent_id FROM locations")?;
    let parents: HashMap<i64, Option<i64>> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    // A location is usable when no list on it or above it leaves the user
    // out (a cycle, which the tree refuses, would be unusable).
    let allowed = |id: i64| {
        let mut at = Some(id);
        let mut steps = 0;
        while let Some(a) = at {
            if lists.get(&a).is_some_and(|users| !users.contains(&user_id)) {
                return false;
            }
            at = parents.get(&a).copied().flatten();
            steps += 1;
            if steps > parents.len() {
                return false;
            }
        }
        true
    };
    Ok(Places::only(
        parents.keys().copied().filter(|id| allowed(*id)),
    ))
}

/// `user` as a session would carry them: their role and the locations they
/// may use now.
pub fn actor_for(conn: &Connection, user: &User) -> rusqlite::Result<Actor> {
    Ok(Actor::User(user.person(places(conn, user.id, user.role)?)))
}

/// The ids of the locations `actor` may use, from the places read with
/// their request: no query unless they may use every one.
pub fn usable(conn: &Connection, actor: &Actor) -> rusqlite::Result<HashSet<i64>> {
    match actor.places() {
        Places::All => Ok(all(conn)?.into_iter().map(|l| l.id).collect()),
        Places::Only(ids) => Ok(ids.iter().copied().collect()),
    }
}

/// The locations `actor` may use (from the places read with their request),
/// each with its path, in the tree's order.
pub fn usable_with_paths(
    conn: &Connection,
    actor: &Actor,
) -> rusqlite::Result<Vec<(Location, String)>> {
    let tree = all(conn)?;
    let by_id: HashMap<i64, &Location> = tree.iter().map(|l| (l.id, l)).collect();
    Ok(tree
        .iter()
        .filter(|l| actor.may_use(l.id))
        .map(|l| (l.clone(), path_in(&by_id, l.id)))
        .collect())
}
