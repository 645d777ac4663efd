//! What the item and location pages show, read in one go for one actor:
//! stock only ever at the locations the actor may use, each place by its
//! full path, people by their display names.

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;

use super::Movement;
use crate::accounts::users;
use crate::catalog::categories;
use crate::catalog::items::{self, Item, Pack};
use crate::catalog::locations::{self, Location};
use crate::catalog::suppliers::{self, SupplierItem};
use crate::db::DbError;
use crate::domain::Role;
use crate::domain::actor::Actor;

/// One lot at one place.
pub struct StockRow {
    pub location: String,
    pub lot: String,
    pub expiry: String,
    pub quantity: i64,
    pub quarantined: i64,
    pub expired: bool,
}

/// A reorder point at one place, with what is usable there now.
pub struct TargetRow {
    pub location: String,
    pub reorder_point: i64,
    pub par_level: i64,
    pub on_hand: i64,
}

/// A recent movement, with where and by whom.
pub struct MovementRow {
    pub m: Movement,
    pub location: String,
    pub user: String,
}

/// The item page.
pub struct ItemView {
    pub item: Item,
    pub category: Option<String>,
    pub packs: Vec<Pack>,
    pub stock: Vec<StockRow>,
    pub on_hand: i64,
    pub targets: Vec<TargetRow>,
    pub suppliers: Vec<SupplierItem>,
    /// The latest 20.
    pub movements: Vec<MovementRow>,
    /// Open locations the actor may use, for the reorder-point form.
    pub locations: Vec<(i64, String)>,
}

/// The item page for `actor`, `today` as `YYYY-MM-DD`; `None` for no such
/// item.
pub fn item(
    c: &Connection,
    actor: &Actor,
    id: i64,
    today: &str,
) -> Result<Option<ItemView>, DbError> {
    let Some(item) = items::get(c, id)? else {
        return Ok(None);
    };
    let locs = locations::usable_with_paths(c, actor)?;
    let allowed: HashSet<i64> = locs.iter().map(|(l, _)| l.id).collect();
    let paths: HashMap<i64, String> = locs.iter().map(|(l, p)| (l.id, p.clone())).collect();
    let path = |id: i64| paths.get(&id).cloned().unwrap_or_default();
    let levels = super::levels(c, Some(id), &allowed)?;
    let on_hand = levels.iter().map(|l| l.quantity).sum();
    let mut usable: HashMap<i64, i64> = HashMap::new();
    for l in &levels {
        *usable.entry(l.location_id).or_default() += l.quantity - l.quarantined;
    }
    let stock = levels
        .into_iter()
        .map(|l| StockRow {
            location: path(l.location_id),
            expired: !l.expiry.is_empty() && l.expiry.as_str() < today,
            lot: l.lot,
            expiry: l.expiry,
            quantity: l.quantity,
            quarantined: l.quarantined,
        })
        .collect();
    let targets = items::targets(c, id)?
        .into_iter()
        .filter(|t| allowed.contains(&t.location_id))
        .map(|t| TargetRow {
            location: path(t.location_id),
            reorder_point: t.reorder_point,
            par_level: t.par_level,
            on_hand: usable.get(&t.location_id).copied().unwrap_or(0),
        })
        .collect();
    let (moves, _) = super::movements(c, Some(id), &allowed, 20, 0)?;
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut movements = Vec::with_capacity(moves.len());
    for m in moves {
        let user = match m.user_id {
            Some(u) => match names.get(&u) {
                Some(n) => n.clone(),
                None => {
                    let n = users::get(c, u)?.map(|u| u.display_name).ok_or_else(|| {
                        DbError::Damaged(format!("movement {} names no user", m.id))
                    })?;
                    names.insert(u, n.clone());
                    n
                }
            },
            None => "system".into(),
        };
        movements.push(MovementRow {
            location: path(m.location_id),
            user,
            m,
        });
    }
    let category = match item.category_id {
        Some(cid) => categories::get(c, cid)?.map(|c| c.name),
        None => None,
    };
    Ok(Some(ItemView {
        category,
        packs: items::packs(c, id)?,
        stock,
        on_hand,
        targets,
        suppliers: suppliers::for_item(c, id)?,
        movements,
        locations: locs
            .into_iter()
            .filter(|(l, _)| l.active)
            .map(|(l, p)| (l.id, p))
            .collect(),
        item,
    }))
}

/// One location in the tree, with what it holds.
pub struct LocationNode {
    pub location: Location,
    pub path: String,
    /// How deep in the tree (0: a top-level place).
    pub depth: usize,
    pub units: i64,
    /// How many different items.
    pub items: usize,
}

/// Every location `actor` may use, in tree order (by path, ignoring case),
/// with the units and items each holds.
pub fn location_tree(c: &Connection, actor: &Actor) -> Result<Vec<LocationNode>, DbError> {
    let locs = locations::usable_with_paths(c, actor)?;
    let allowed: HashSet<i64> = locs.iter().map(|(l, _)| l.id).collect();
    let mut totals: HashMap<i64, (i64, HashSet<i64>)> = HashMap::new();
    for l in super::levels(c, None, &allowed)? {
        let t = totals.entry(l.location_id).or_default();
        t.0 += l.quantity;
        t.1.insert(l.item_id);
    }
    let mut nodes: Vec<LocationNode> = locs
        .into_iter()
        .map(|(l, path)| {
            let (units, items) = totals
                .get(&l.id)
                .map(|(u, i)| (*u, i.len()))
                .unwrap_or((0, 0));
            LocationNode {
                depth: path.matches(" › ").count(),
                location: l,
                path,
                units,
                items,
            }
        })
        .collect();
    nodes.sort_by_key(|n| n.path.to_lowercase());
    Ok(nodes)
}

/// One lot of one item at a location.
pub struct LocationStock {
    pub item_id: i64,
    pub item: String,
    pub unit: String,
    pub lot: String,
    pub expiry: String,
    pub quantity: i64,
    pub quarantined: i64,
    pub expired: bool,
}

/// A person an admin may give or take a location from.
pub struct Grantee {
    pub id: i64,
    /// "Display name (username)".
    pub name: String,
    pub allowed: bool,
}

/// The location page.
pub struct LocationView {
    pub location: Location,
    pub path: String,
    /// By item name, ignoring case.
    pub stock: Vec<LocationStock>,
    /// (id, path, open) of the places inside it.
    pub children: Vec<(i64, String, bool)>,
    /// (id, path) of the open places it may move into (not itself or inside it).
    pub parents: Vec<(i64, String)>,
    /// Whether it has an access list (only the people on it may use it).
    pub restricted: bool,
    /// Every enabled non-admin and whether they are on the access list;
    /// filled only when asked for (for those who may change it).
    pub people: Vec<Grantee>,
}

/// The location page for `actor`: `None` for a location that does not
/// exist or that they may not use (it does not exist for them).
pub fn location(
    c: &Connection,
    actor: &Actor,
    id: i64,
    today: &str,
    with_people: bool,
) -> Result<Option<LocationView>, DbError> {
    let locs = locations::usable_with_paths(c, actor)?;
    let Some((location, path)) = locs.iter().find(|(l, _)| l.id == id).cloned() else {
        return Ok(None);
    };
    let only: HashSet<i64> = [id].into_iter().collect();
    let mut stock = Vec::new();
    let mut item_cache: HashMap<i64, (String, String)> = HashMap::new();
    for l in super::levels(c, None, &only)? {
        let (name, unit) = match item_cache.get(&l.item_id) {
            Some(known) => known.clone(),
            None => {
                let i = items::get(c, l.item_id)?
                    .map(|i| (i.name, i.unit))
                    .ok_or_else(|| {
                        DbError::Damaged(format!("stock of item {} that does not exist", l.item_id))
                    })?;
                item_cache.insert(l.item_id, i.clone());
                i
            }
        };
        stock.push(LocationStock {
            item_id: l.item_id,
            item: name,
            unit,
            expired: !l.expiry.is_empty() && l.expiry.as_str() < today,
            lot: l.lot,
            expiry: l.expiry,
            quantity: l.quantity,
            quarantined: l.quarantined,
        });
    }
    stock.sort_by_key(|r| r.item.to_lowercase());
    let children = locs
        .iter()
        .filter(|(l, _)| l.parent_id == Some(id))
        .map(|(l, p)| (l.id, p.clone(), l.active))
        .collect();
    let prefix = format!("{path} › ");
    let parents = locs
        .iter()
        .filter(|(l, p)| l.active && l.id != id && !p.starts_with(&prefix))
        .map(|(l, p)| (l.id, p.clone()))
        .collect();
    let access = locations::access_list(c, id)?;
    let people = if with_people {
        users::list(c, 10_000, 0)?
            .into_iter()
            .filter(|u| u.role != Role::Admin && !u.disabled)
            .map(|u| Grantee {
                allowed: access.contains(&u.id),
                id: u.id,
                name: format!("{} ({})", u.display_name, u.username),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Some(LocationView {
        location,
        path,
        stock,
        children,
        parents,
        restricted: !access.is_empty(),
        people,
    }))
}
