//! `stockroom demo`: fills an empty data directory with a small medical
//! practice — about 300 consumables per unit of scale, suppliers, a location
//! tree, four users and six months of stock movements — for trying stockroom
//! out, for demonstrations and for load tests (`--scale 50` gives about
//! 15,000 items and more than a million movements).
//!
//! The data is deterministic: the same scale on the same day in the same
//! time zone gives the same catalogue and history (only the users'
//! passwords are random). Movements
//! are written straight into the ledger with prepared statements in the
//! caller's one transaction, not through `stock::record`, which would audit
//! every row; the generator keeps every level in memory, refuses any step
//! that would take a level below zero, and writes `stock_levels` from those
//! sums at the end, so `stockroom check` finds no drift. One audit row
//! (`demo.generate`) records what was generated, beside the rows that
//! creating the users writes.

mod catalog;
mod history;
mod instructions;
mod orders;
mod sim;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use rusqlite::{Connection, Transaction, params};
use serde_json::json;
use time::{Date, OffsetDateTime};

use crate::accounts::setup;
use crate::accounts::users::{self, NewUser};
use crate::audit::{self, Context, Event};
use crate::config::Config;
use crate::db::{Checkpoint, Db, DbError};
use crate::domain::barcode::gtin::check_digit;
use crate::domain::ledger::MovementKind;
use crate::domain::{Clock, Role, SystemClock, Timestamp};
use catalog::{MAKERS, Product, SUPPLIERS, Track};
pub use history::Calendar;
use history::{History, ms, write_history};
pub use instructions::{instructions, login_url};
use sim::{Batches, Sim};

/// Days of history, ending yesterday.
pub const HISTORY_DAYS: i64 = 182;
/// The seed of the data; change it to get another, equally plausible practice.
pub const DEFAULT_SEED: u64 = 0x5EED_5700_C4D0_0001;
/// The largest `--scale` accepted.
pub const MAX_SCALE: u32 = 1000;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Multiplies the catalogue and the history (1 = about 300 items).
    pub scale: u32,
    pub seed: u64,
    /// ISO 4217 code for supplier prices.
    pub currency: String,
}

impl DemoOptions {
    pub fn new(scale: u32, currency: &str) -> Self {
        DemoOptions {
            scale,
            seed: DEFAULT_SEED,
            currency: currency.to_string(),
        }
    }
}

/// A demo user, password already hashed, and the password to print.
#[derive(Debug, Clone)]
pub struct DemoUser {
    pub new: NewUser,
    pub password: String,
}

/// How to sign in as one demo user.
#[derive(Debug, Clone)]
pub struct Credential {
    pub role: Role,
    pub username: String,
    pub display_name: String,
    pub password: String,
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub scale: u32,
    pub categories: u64,
    pub items: u64,
    pub packs: u64,
    pub locations: u64,
    pub suppliers: u64,
    pub supplier_items: u64,
    pub movements: u64,
    /// Movements per kind, in `MovementKind::ALL` order, zero kinds left out.
    pub by_kind: Vec<(&'static str, u64)>,
    /// Stock levels holding stock (rows emptied by the history are kept at
    /// zero, as the ledger leaves them, and not counted).
    pub levels: u64,
    /// Stock levels above zero whose expiry date has passed.
    pub expired_levels: u64,
    /// Stock levels above zero expiring within 30 days from today.
    pub expiring_levels: u64,
    /// Purchase orders made from the reorder suggestions, in several states.
    pub orders: u64,
    pub first_day: Date,
    pub last_day: Date,
    pub credentials: Vec<Credential>,
    pub elapsed: Duration,
}

/// The users every demo practice gets: username, display name, role.
const USERS: [(&str, &str, Role); 4] = [
    ("admin", "Dr Alex Morgan", Role::Admin),
    ("manager", "Maria Keller", Role::Manager),
    ("nurse", "Jonas Weber", Role::Staff),
    ("viewer", "Reception desk", Role::Viewer),
];
const ADMIN: u8 = 0;
const MANAGER: u8 = 1;
const NURSE: u8 = 2;

/// The location tree: name, kind, parent (index into this table).
const LOCATIONS: [(&str, &str, Option<usize>); 6] = [
    ("Riverside Medical Practice", "site", None),
    ("Store room", "room", Some(0)),
    ("Treatment room 1", "room", Some(0)),
    ("Supply cabinet", "cabinet", Some(2)),
    ("Vaccine fridge", "fridge", Some(2)),
    ("Treatment room 2", "room", Some(0)),
];
const STORE: u8 = 1;
const CABINET: u8 = 3;
const FRIDGE: u8 = 4;
const ROOM2: u8 = 5;

/// Consumption events per working day are `rate × weight × RATE`.
const RATE: f64 = 1.15;

const ADJUST_UP: &[&str] = &[
    "Found during tidy-up of the store room",
    "Unused stock returned from the home-visit bag",
    "Delivery held more than the delivery note",
];
const ADJUST_DOWN: &[&str] = &[
    "Miscounted at receipt",
    "Taken for the home-visit bag",
    "Used in an emergency, not booked at the time",
    "Missing at spot check",
];
const DAMAGE_NOTES: &[&str] = &[
    "Packaging torn, sterility not assured",
    "Dropped on the floor",
    "Water damage in the store room",
];

/// Tables that must be empty for the demo to run: table, one, many.
const MUST_BE_EMPTY: [(&str, &str, &str); 6] = [
    ("users", "user", "users"),
    ("items", "item", "items"),
    ("stock_movements", "stock movement", "stock movements"),
    ("categories", "category", "categories"),
    ("locations", "location", "locations"),
    ("suppliers", "supplier", "suppliers"),
];

/// What the database already holds, e.g. `["2 users", "14 items"]`;
/// empty when the demo may run.
pub fn existing_data(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut found = Vec::new();
    for (table, one, many) in MUST_BE_EMPTY {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        if n > 0 {
            found.push(format!("{n} {}", if n == 1 { one } else { many }));
        }
    }
    Ok(found)
}

fn refusal(found: &[String]) -> anyhow::Error {
    anyhow::anyhow!(
        "the database already holds data ({}); the demo practice is only generated into an \
         empty data directory, so nothing was changed. Point --data-dir (or STOCKROOM_DATA_DIR) \
         at a new directory to try it",
        found.join(", ")
    )
}

/// Random passwords for the demo users, hashed (slow: four argon2 hashes).
pub fn prepare_users() -> anyhow::Result<Vec<DemoUser>> {
    USERS
        .iter()
        .map(|(username, display, role)| {
            let password = random_password();
            let new = NewUser::prepare(username, display, role.as_str(), &password, false)
                .map_err(|e| anyhow::anyhow!("cannot prepare demo user {username}: {e}"))?;
            Ok(DemoUser { new, password })
        })
        .collect()
}

/// Four groups of four characters from an alphabet without look-alikes
/// (about 79 bits), easy to type from a printout.
fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut out = String::with_capacity(19);
    let mut buf = [0u8; 64];
    while out.len() < 19 {
        getrandom::fill(&mut buf).expect("the operating system's random source works");
        for b in buf {
            // Rejection sampling keeps every character equally likely.
            if usize::from(b) >= ALPHABET.len() * (256 / ALPHABET.len()) {
                continue;
            }
            if out.len() == 19 {
                break;
            }
            if matches!(out.len(), 4 | 9 | 14) {
                out.push('-');
            }
            out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
        }
    }
    out
}

/// Generates the demo practice into the opened (and migrated) database:
/// what `stockroom demo` does.
pub fn run(config: &Config, db: &Db, scale: u32) -> anyhow::Result<DemoSummary> {
    let started = Instant::now();
    if !(1..=MAX_SCALE).contains(&scale) {
        bail!("--scale must be from 1 to {MAX_SCALE}");
    }
    // Checked here before the slow password hashing, and again inside the
    // write transaction.
    let found = db.read_blocking(|c| existing_data(c).map_err(DbError::from))?;
    if !found.is_empty() {
        return Err(refusal(&found));
    }
    let users = prepare_users()?;
    let now = SystemClock.now();
    let zone = config.practice.time_zone.clone();
    let today = crate::domain::time::today_in(now, &zone);
    let options = DemoOptions::new(scale, &config.practice.currency);
    let mut ctx = Context::system(now);
    ctx.request_id = Some("cli".into());
    let mut summary = db
        .write_blocking(|tx| generate(tx, &ctx, &users, &options, &Calendar::new(today, &zone)?))?;
    // Fold the bulk load into the database file now rather than leaving a
    // WAL as large as the database for the server's first checkpoint.
    db.checkpoint(Checkpoint::Truncate)?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Generates the demo practice inside `tx`, which must be a database with
/// no users, items, locations, suppliers, categories or movements.
pub fn generate(
    tx: &Transaction,
    ctx: &Context,
    users: &[DemoUser],
    options: &DemoOptions,
    calendar: &Calendar,
) -> anyhow::Result<DemoSummary> {
    let found = existing_data(tx)?;
    if !found.is_empty() {
        return Err(refusal(&found));
    }
    if users.len() != USERS.len() {
        bail!("the demo needs exactly {} users", USERS.len());
    }
    if !(1..=MAX_SCALE).contains(&options.scale) {
        bail!("--scale must be from 1 to {MAX_SCALE}");
    }
    let started = Instant::now();

    // Users: the administrator through the first-run setup, so that the
    // setup link is closed exactly as if someone had used it.
    let mut user_ids = Vec::with_capacity(users.len());
    let mut people = Vec::with_capacity(users.len());
    let mut credentials = Vec::with_capacity(users.len());
    for (i, u) in users.iter().enumerate() {
        let user = if i == usize::from(ADMIN) {
            setup::complete(tx, ctx, &u.new)
        } else {
            users::create(tx, ctx, &u.new)
        }
        .map_err(|e| anyhow::anyhow!("cannot create demo user {}: {e}", u.new.username))?;
        user_ids.push(user.id);
        people.push(user.clone());
        credentials.push(Credential {
            role: user.role,
            username: user.username,
            display_name: user.display_name,
            password: u.password.clone(),
        });
    }

    let mut rng = fastrand::Rng::with_seed(options.seed);
    // Catalogue rows are dated the day before the history starts.
    let created_at = calendar.at(-1, ms(12, 0));

    let mut location_ids = Vec::with_capacity(LOCATIONS.len());
    for (name, kind, parent) in LOCATIONS {
        tx.execute(
            "INSERT INTO locations (parent_id, name, kind, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![parent.map(|p| location_ids[p]), name, kind, created_at],
        )?;
        location_ids.push(tx.last_insert_rowid());
    }

    let mut supplier_ids = Vec::with_capacity(SUPPLIERS.len());
    for s in SUPPLIERS {
        tx.execute(
            "INSERT INTO suppliers (name, contact_name, email, phone, account_number,
                lead_time_days, notes, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'Demo supplier: the address is not real.', ?7, ?7)",
            params![
                s.name,
                s.contact,
                s.email,
                s.phone,
                s.account,
                s.lead_time_days,
                created_at
            ],
        )?;
        supplier_ids.push(tx.last_insert_rowid());
    }

    let products = catalog::products();
    let mut category_ids: HashMap<&str, i64> = HashMap::new();
    for p in &products {
        if !category_ids.contains_key(p.family.category) {
            tx.execute(
                "INSERT INTO categories (name, created_at, updated_at) VALUES (?1, ?2, ?2)",
                params![p.family.category, created_at],
            )?;
            category_ids.insert(p.family.category, tx.last_insert_rowid());
        }
    }

    let mut sims = Vec::with_capacity(products.len() * options.scale as usize);
    let mut counts = Counts::default();
    {
        let mut insert_item = tx.prepare(
            "INSERT INTO items (code, name, category_id, unit, lot_tracked, expiry_tracked, notes,
                created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        )?;
        let mut insert_pack = tx.prepare(
            "INSERT INTO item_packs (item_id, name, quantity, gtin) VALUES (?1, ?2, ?3, ?4)",
        )?;
        let mut insert_supplier_item = tx.prepare(
            "INSERT INTO supplier_items (supplier_id, item_id, supplier_code, pack_size,
                price_minor, currency, preferred, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        )?;
        let mut insert_target = tx.prepare(
            "INSERT INTO item_locations (item_id, location_id, reorder_point, par_level)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        // Item references per manufacturer and article numbers per
        // supplier: increasing with gaps, as real ranges are.
        let mut next_ref: Vec<u32> = (0..MAKERS.len() as u32).map(|m| 10_000 + m * 137).collect();
        let mut next_code: Vec<u32> = (0..SUPPLIERS.len() as u32)
            .map(|s| 10_000 + s * 2_311)
            .collect();
        for copy in 0..options.scale as usize {
            for p in &products {
                let f = p.family;
                let maker = (f.maker + copy) % MAKERS.len();
                let (code, name) = if copy == 0 {
                    (p.code.clone(), p.name.clone())
                } else {
                    let brand = MAKERS[maker].0;
                    let line = copy / MAKERS.len();
                    let brand = if line == 0 {
                        brand.to_string()
                    } else {
                        format!("{brand} line {}", line + 1)
                    };
                    (
                        format!("{}-V{copy:02}", p.code),
                        format!("{} ({brand})", p.name),
                    )
                };
                insert_item.execute(params![
                    code,
                    name,
                    category_ids[f.category],
                    f.unit,
                    f.track.lot(),
                    f.track.expiry(),
                    f.note,
                    created_at
                ])?;
                let item_id = tx.last_insert_rowid();

                next_ref[maker] += rng.u32(1..=3);
                let base12 = format!("{}{:05}", MAKERS[maker].1, next_ref[maker]);
                let mut indicator = 0u8;
                let unit_gtin = if f.unit_gtin {
                    indicator += 1;
                    Some(gtin(0, &base12))
                } else {
                    None
                };
                insert_pack.execute(params![item_id, f.unit, 1, unit_gtin])?;
                counts.packs += 1;
                for (pack, quantity) in f.packs {
                    insert_pack.execute(params![
                        item_id,
                        pack,
                        quantity,
                        gtin(indicator, &base12)
                    ])?;
                    indicator += 1;
                    counts.packs += 1;
                }

                let pack_size = f.packs.first().map_or(1, |(_, q)| *q);
                let mut supplier_item =
                    |rng: &mut fastrand::Rng, supplier: usize, price: i64, preferred: bool| {
                        next_code[supplier] += rng.u32(1..=9);
                        let code = format!(
                            "{}-{}",
                            SUPPLIERS[supplier].code_prefix, next_code[supplier]
                        );
                        // Thousandths per unit to minor units (cents) per pack.
                        let price_minor = (price * pack_size + 5) / 10;
                        insert_supplier_item.execute(params![
                            supplier_ids[supplier],
                            item_id,
                            code,
                            pack_size,
                            price_minor,
                            options.currency,
                            preferred,
                            created_at
                        ])
                    };
                supplier_item(&mut rng, f.supplier, p.price, true)?;
                counts.supplier_items += 1;
                if rng.f64() < 0.3 {
                    let other =
                        (f.supplier + 1 + rng.usize(..SUPPLIERS.len() - 1)) % SUPPLIERS.len();
                    let price = p.price * rng.i64(95..=120) / 100;
                    supplier_item(&mut rng, other, price, false)?;
                    counts.supplier_items += 1;
                }

                let sim = Sim::new(
                    u32::try_from(sims.len()).expect("fewer than 4 billion items"),
                    item_id,
                    p,
                    pack_size,
                    SUPPLIERS[f.supplier].lead_time_days,
                    &mut rng,
                );
                insert_target.execute(params![
                    item_id,
                    location_ids[usize::from(sim.home)],
                    sim.home_reorder,
                    sim.home_par
                ])?;
                for point in &sim.points {
                    insert_target.execute(params![
                        item_id,
                        location_ids[usize::from(point.loc)],
                        point.reorder,
                        point.par
                    ])?;
                }
                sims.push(sim);
            }
        }
    }
    tracing::debug!(items = sims.len(), elapsed = ?started.elapsed(), "demo catalogue written");

    // The ledger's indexes take random inserts: a larger page cache for
    // this one load (128 MiB at most) keeps them in memory and roughly
    // halves the time at --scale 50. The connection's own size comes back
    // afterwards, whether the load worked or not.
    let cache_size: i64 = tx.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    tx.pragma_update(None, "cache_size", -131_072)?;
    let history = write_history(tx, calendar, &mut sims, &user_ids, &location_ids, &mut rng);
    tx.pragma_update(None, "cache_size", cache_size)?;
    let History {
        mut by_kind,
        levels,
        expired_levels,
        expiring_levels,
    } = history?;
    let history_movements: u64 = by_kind.iter().sum();
    tracing::debug!(history_movements, elapsed = ?started.elapsed(), "demo history written");
    let orders = orders::generate(
        tx,
        ctx,
        &orders::Staff {
            admin: &people[usize::from(ADMIN)],
            manager: &people[usize::from(MANAGER)],
            nurse: &people[usize::from(NURSE)],
        },
        &options.currency,
        calendar.date(HISTORY_DAYS - 1),
    )?;
    // This morning's deliveries against those orders are receipts too.
    let movements: i64 = tx.query_row("SELECT count(*) FROM stock_movements", [], |r| r.get(0))?;
    let movements = movements as u64;
    debug_assert_eq!(MovementKind::ALL[0], MovementKind::Receipt);
    by_kind[0] += movements - history_movements;

    let summary = DemoSummary {
        scale: options.scale,
        categories: category_ids.len() as u64,
        items: sims.len() as u64,
        packs: counts.packs,
        locations: LOCATIONS.len() as u64,
        suppliers: SUPPLIERS.len() as u64,
        supplier_items: counts.supplier_items,
        movements,
        by_kind: MovementKind::ALL
            .iter()
            .zip(by_kind)
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| (k.as_str(), n))
            .collect(),
        levels,
        expired_levels,
        expiring_levels,
        orders,
        first_day: calendar.date(0),
        last_day: calendar.date(HISTORY_DAYS - 1),
        credentials,
        elapsed: started.elapsed(),
    };
    audit::record(
        tx,
        ctx,
        Event::new("demo.generate", "database", "demo").after(json!({
            "scale": summary.scale,
            "seed": options.seed,
            "first_day": summary.first_day.to_string(),
            "last_day": summary.last_day.to_string(),
            "categories": summary.categories,
            "items": summary.items,
            "packs": summary.packs,
            "locations": summary.locations,
            "suppliers": summary.suppliers,
            "supplier_items": summary.supplier_items,
            "movements": summary.movements,
            "stock_levels_with_stock": summary.levels,
            "orders": summary.orders,
            "users": summary.credentials.iter().map(|c| &c.username).collect::<Vec<_>>(),
        })),
    )?;
    Ok(summary)
}

#[derive(Default)]
struct Counts {
    packs: u64,
    supplier_items: u64,
}

/// A GTIN from an indicator digit (0 for a GTIN-13 written with its
/// leading zero) and 12 digits of company prefix and item reference.
fn gtin(indicator: u8, base12: &str) -> String {
    let body = format!("{indicator}{base12}");
    let digits: Vec<u8> = body.bytes().map(|b| b - b'0').collect();
    format!("{body}{}", check_digit(&digits))
}
