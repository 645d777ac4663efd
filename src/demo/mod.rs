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
mod orders;
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

/// The days of the history and how a local time of day on each of them
/// maps to UTC in the practice's time zone.
pub struct Calendar {
    today: Date,
    /// Unix milliseconds of 12:00 local time on each day from day −1
    /// (the day before the history) to day `HISTORY_DAYS`.
    noon_ms: Vec<i64>,
}

impl Calendar {
    pub fn new(today: Date, zone: &jiff::tz::TimeZone) -> anyhow::Result<Calendar> {
        let noon_ms = (-1..=HISTORY_DAYS)
            .map(|d| {
                let date = today - time::Duration::days(HISTORY_DAYS - d);
                let civil = jiff::civil::date(
                    i16::try_from(date.year()).context("year out of range")?,
                    u8::from(date.month()) as i8,
                    date.day() as i8,
                )
                .at(12, 0, 0, 0);
                let zoned = civil
                    .to_zoned(zone.clone())
                    .context("while placing the demo history in the practice's time zone")?;
                Ok(zoned.timestamp().as_millisecond())
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Calendar { today, noon_ms })
    }

    /// The date of history day `d` (0 = the first day, `HISTORY_DAYS` = today).
    fn date(&self, d: i64) -> Date {
        self.today - time::Duration::days(HISTORY_DAYS - d)
    }

    /// The stored timestamp of local time `ms` after midnight on day `d`.
    fn at(&self, d: i64, ms: u32) -> String {
        let noon = self.noon_ms[usize::try_from(d + 1).expect("day −1 or later")];
        let unix_ms = noon + i64::from(ms) - 12 * HOUR;
        let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
            .expect("demo dates are in range");
        Timestamp::from_datetime(dt).to_db()
    }
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

fn ms(hour: i64, minute: i64) -> u32 {
    u32::try_from(hour * HOUR + minute * MINUTE).expect("a time of day")
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

/// What writing the history produced.
struct History {
    by_kind: [u64; MovementKind::ALL.len()],
    levels: u64,
    expired_levels: u64,
    expiring_levels: u64,
}

/// Simulates every item through the history, one day at a time, and writes
/// each day's movements in time order, then the final stock levels.
fn write_history(
    tx: &Transaction,
    calendar: &Calendar,
    sims: &mut [Sim],
    user_ids: &[i64],
    location_ids: &[i64],
    rng: &mut fastrand::Rng,
) -> anyhow::Result<History> {
    let mut writer = Writer::new(tx, calendar, sims, user_ids, location_ids)?;
    let mut events = Vec::new();
    let mut scratch = Vec::new();
    for d in 0..HISTORY_DAYS {
        let day = Day::new(calendar.date(d), d);
        events.clear();
        for sim in sims.iter_mut() {
            sim.simulate(
                &day,
                calendar,
                &mut writer.batches,
                rng,
                &mut scratch,
                &mut events,
            );
        }
        // Stable: one item's events keep the order they were simulated in.
        events.sort_by_key(|e| e.ms);
        for e in &events {
            writer.write(d, e)?;
        }
    }
    let by_kind = writer.by_kind;
    let (levels, expired_levels, expiring_levels) = writer.finish(tx, calendar.today)?;
    Ok(History {
        by_kind,
        levels,
        expired_levels,
        expiring_levels,
    })
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

/// One day of the practice: when it is open and how busy it is.
struct Day {
    d: i64,
    open: bool,
    /// Deliveries arrive (weekdays).
    receiving: bool,
    /// The weekly check for expired stock in the store room and fridge
    /// (Mondays).
    expiry_check: bool,
    /// The treatment rooms are checked on the first Monday of the month.
    room_check: bool,
    busy: f64,
    /// Multiplier for seasonal items (influenza season).
    season: f64,
    opens: u32,
    closes: u32,
}

impl Day {
    fn new(date: Date, d: i64) -> Day {
        use time::{Month, Weekday};
        let weekday = date.weekday();
        let (open, busy, closes) = match weekday {
            Weekday::Sunday => (false, 0.0, ms(12, 0)),
            Weekday::Saturday => (true, 0.2, ms(12, 0)),
            _ => (true, 1.0, ms(18, 0)),
        };
        let season = match date.month() {
            Month::October => 1.0,
            Month::November => 0.9,
            Month::December => 0.5,
            Month::January => 0.25,
            Month::February => 0.1,
            Month::September => 0.3,
            _ => 0.03,
        };
        Day {
            d,
            open,
            receiving: open && weekday != Weekday::Saturday,
            expiry_check: weekday == Weekday::Monday,
            room_check: weekday == Weekday::Monday && date.day() <= 7,
            busy,
            season,
            opens: ms(8, 0),
            closes,
        }
    }
}

/// Where an item is used, with its targets there.
struct Point {
    loc: u8,
    share: f64,
    reorder: i64,
    par: i64,
}

/// Stock of one batch (lot and/or expiry) in one location.
#[derive(Clone, Copy)]
struct Held {
    batch: u32,
    /// History day of the expiry date; `i64::MAX` when not tracked.
    expiry: i64,
    qty: i64,
}

/// One movement (or, for a transfer, the pair) to write.
struct Ev {
    ms: u32,
    kind: MovementKind,
    item: u32,
    loc: u8,
    /// Transfers: where the stock goes.
    to: u8,
    batch: u32,
    /// Signed, as stored; for a transfer the (positive) amount moved.
    qty: i64,
    reason: &'static str,
    note: &'static str,
    user: u8,
}

#[derive(Clone, Copy)]
enum Action {
    Deliver,
    Consume,
    Adjust,
    Damage,
}

/// Lots and expiry dates as stored; index 0 is "not tracked".
struct Batches {
    rows: Vec<(String, String)>,
}

/// The state of one item through the history.
struct Sim {
    idx: u32,
    item_id: i64,
    rate: f64,
    seasonal: bool,
    step: i64,
    qty: (i64, i64),
    track: Track,
    shelf_days: (i64, i64),
    lead: i64,
    pack: i64,
    home: u8,
    home_reorder: i64,
    home_par: i64,
    points: Vec<Point>,
    /// Per location index (only the stock-holding ones are used).
    stock: [Vec<Held>; LOCATIONS.len()],
    pending: Option<(i64, i64)>,
    lot_letters: [char; 2],
    lot_seq: u32,
    /// Expiry-only items: the batch of each expiry date seen.
    by_expiry: Vec<(i64, u32)>,
}

fn round_up(x: f64, to: i64) -> i64 {
    let to = to.max(1);
    ((x / to as f64).ceil() as i64).max(1) * to
}

impl Sim {
    fn new(
        idx: u32,
        item_id: i64,
        p: &Product,
        pack: i64,
        lead: i64,
        rng: &mut fastrand::Rng,
    ) -> Sim {
        let f = p.family;
        let rate = f.rate * p.weight * RATE;
        let avg_qty = (f.qty.0 + f.qty.1) as f64 / 2.0 * f.step as f64;
        // Seasonal stock is planned for the season's peak.
        let daily = rate * avg_qty;
        let home = if f.fridge { FRIDGE } else { STORE };
        let home_par = round_up(daily * 30.0, pack).min(1_000_000);
        let home_reorder = ((daily * (7 + lead) as f64).ceil() as i64)
            .min(home_par - 1)
            .max(0);
        let mut points = Vec::new();
        if !f.fridge {
            let shares: &[(u8, f64)] = if rate >= 0.25 {
                &[(CABINET, 0.55), (ROOM2, 0.45)]
            } else if rate >= 0.03 {
                if rng.f64() < 0.6 {
                    &[(CABINET, 1.0)]
                } else {
                    &[(ROOM2, 1.0)]
                }
            } else {
                &[]
            };
            for &(loc, share) in shares {
                let d = daily * share;
                let par = round_up(d * 7.0, f.step);
                let reorder =
                    (((d * 2.0) / f.step as f64).floor() as i64 * f.step).min(par - f.step);
                points.push(Point {
                    loc,
                    share,
                    reorder,
                    par,
                });
            }
        }
        Sim {
            idx,
            item_id,
            rate,
            seasonal: f.seasonal,
            step: f.step,
            qty: f.qty,
            track: f.track,
            shelf_days: (
                i64::from(f.shelf_months.0) * 30,
                i64::from(f.shelf_months.1) * 30,
            ),
            lead,
            pack,
            home,
            home_reorder,
            home_par,
            points,
            stock: Default::default(),
            pending: None,
            lot_letters: [rng.uppercase(), rng.uppercase()],
            lot_seq: rng.u32(100..5000),
            by_expiry: Vec::new(),
        }
    }

    fn usable(&self, loc: u8, d: i64) -> i64 {
        self.stock[usize::from(loc)]
            .iter()
            .filter(|h| h.expiry >= d)
            .map(|h| h.qty)
            .sum()
    }

    /// Adds stock of `batch` at `loc`, keeping the list first-expiry-first.
    fn put(&mut self, loc: u8, batch: u32, expiry: i64, qty: i64) {
        let held = &mut self.stock[usize::from(loc)];
        if let Some(h) = held.iter_mut().find(|h| h.batch == batch) {
            h.qty += qty;
            return;
        }
        let at = held.partition_point(|h| h.expiry <= expiry);
        held.insert(at, Held { batch, expiry, qty });
    }

    /// A new batch as delivered on day `d`.
    fn new_batch(
        &mut self,
        d: i64,
        expiry: i64,
        calendar: &Calendar,
        batches: &mut Batches,
        rng: &mut fastrand::Rng,
    ) -> (u32, i64) {
        if !self.track.expiry() {
            return (0, i64::MAX);
        }
        // Most manufacturers print the end of a month.
        let mut date = calendar.date(expiry);
        if rng.f64() < 0.7 {
            date = date
                .replace_day(date.month().length(date.year()))
                .expect("last day");
        }
        let expiry = (date - calendar.date(0)).whole_days();
        if !self.track.lot()
            && let Some((_, b)) = self.by_expiry.iter().find(|(e, _)| *e == expiry)
        {
            return (*b, expiry);
        }
        let lot = if self.track.lot() {
            self.lot_seq += 1 + self.lot_seq % 37;
            let year = calendar.date(d).year() % 100;
            format!(
                "{}{}{year:02}{:04}",
                self.lot_letters[0],
                self.lot_letters[1],
                self.lot_seq % 10_000
            )
        } else {
            String::new()
        };
        let idx = u32::try_from(batches.rows.len()).expect("fewer than 4 billion batches");
        batches.rows.push((lot, date.to_string()));
        if !self.track.lot() {
            self.by_expiry.push((expiry, idx));
        }
        (idx, expiry)
    }

    fn shelf_life(&self, rng: &mut fastrand::Rng) -> i64 {
        // Now and then a delivery comes short-dated.
        if rng.f64() < 0.06 {
            rng.i64(14..=75)
        } else {
            rng.i64(self.shelf_days.0..=self.shelf_days.1)
        }
    }

    fn ev(&self, ms: u32, kind: MovementKind, loc: u8, h: &Held, qty: i64, user: u8) -> Ev {
        Ev {
            ms,
            kind,
            item: self.idx,
            loc,
            to: loc,
            batch: h.batch,
            qty,
            reason: "",
            note: "",
            user,
        }
    }

    /// One day of this item: opening stock (day 0), the Monday check for
    /// expired stock, deliveries, use, the odd adjustment or breakage, the
    /// evening restocking round and ordering.
    fn simulate(
        &mut self,
        day: &Day,
        calendar: &Calendar,
        batches: &mut Batches,
        rng: &mut fastrand::Rng,
        scratch: &mut Vec<(u32, Action)>,
        out: &mut Vec<Ev>,
    ) {
        let d = day.d;
        if d == 0 {
            self.opening_stock(calendar, batches, rng, out);
        }
        if !day.open {
            return;
        }
        if day.expiry_check {
            let check = ms(7, 30) + rng.u32(0..30 * 60_000);
            for loc in self.stock_locations() {
                if loc != self.home && !day.room_check {
                    continue;
                }
                let mut i = 0;
                while i < self.stock[usize::from(loc)].len() {
                    let h = self.stock[usize::from(loc)][i];
                    // Someone finds most of what has expired, not all of it.
                    if h.expiry < d && h.qty > 0 && rng.f64() < 0.6 {
                        let mut e =
                            self.ev(check, MovementKind::Disposal, loc, &h, -h.qty, MANAGER);
                        e.reason = "expired";
                        out.push(e);
                        self.stock[usize::from(loc)].remove(i);
                    } else {
                        i += 1;
                    }
                }
            }
        }

        scratch.clear();
        let span = day.closes - day.opens;
        if day.receiving
            && let Some((arrives, _)) = self.pending
            && arrives <= d
        {
            scratch.push((ms(9, 0) + rng.u32(0..3 * 3_600_000), Action::Deliver));
        }
        let season = if self.seasonal { day.season } else { 1.0 };
        for _ in 0..poisson(rng, self.rate * day.busy * season) {
            scratch.push((day.opens + rng.u32(0..span), Action::Consume));
        }
        if rng.f64() < 0.0015 {
            scratch.push((day.opens + rng.u32(0..span), Action::Adjust));
        }
        if rng.f64() < 0.0008 {
            scratch.push((day.opens + rng.u32(0..span), Action::Damage));
        }
        scratch.sort_by_key(|(t, _)| *t);
        for &(t, action) in scratch.iter() {
            match action {
                Action::Deliver => self.deliver(d, t, calendar, batches, rng, out),
                Action::Consume => self.consume(d, t, rng, out),
                Action::Adjust => self.adjust(d, t, rng, out),
                Action::Damage => self.damage(t, rng, out),
            }
        }

        let round = day.closes + rng.u32(0..45 * 60_000);
        for p in 0..self.points.len() {
            let (loc, reorder, par) = (
                self.points[p].loc,
                self.points[p].reorder,
                self.points[p].par,
            );
            let have = self.usable(loc, d);
            if have > reorder {
                continue;
            }
            let user = if rng.f64() < 0.8 { NURSE } else { MANAGER };
            let mut want = par - have;
            while want > 0 {
                let home = &mut self.stock[usize::from(self.home)];
                let Some(h) = home.iter_mut().find(|h| h.expiry >= d && h.qty > 0) else {
                    break;
                };
                let n = want.min(h.qty);
                h.qty -= n;
                let moved = *h;
                home.retain(|h| h.qty > 0);
                want -= n;
                let mut e = self.ev(round, MovementKind::TransferOut, self.home, &moved, n, user);
                e.to = loc;
                out.push(e);
                self.put(loc, moved.batch, moved.expiry, n);
            }
        }

        if self.pending.is_none() {
            let have = self.usable(self.home, d);
            if have <= self.home_reorder {
                let qty = round_up((self.home_par - have) as f64, self.pack);
                self.pending = Some((d + self.lead + rng.i64(0..=1), qty));
            }
        }
    }

    /// Locations where this item may be held.
    fn stock_locations(&self) -> Vec<u8> {
        std::iter::once(self.home)
            .chain(self.points.iter().map(|p| p.loc))
            .collect()
    }

    fn opening_stock(
        &mut self,
        calendar: &Calendar,
        batches: &mut Batches,
        rng: &mut fastrand::Rng,
        out: &mut Vec<Ev>,
    ) {
        let t = ms(7, 0) + rng.u32(0..30 * 60_000);
        // An older batch, some of which expires during the history, and a
        // newer one.
        let older = rng.i64(20..=200);
        let (old, old_expiry) = self.new_batch(0, older, calendar, batches, rng);
        let newer = self.shelf_life(rng).max(older + 30);
        let (new, new_expiry) = self.new_batch(0, newer, calendar, batches, rng);
        let mut targets: Vec<(u8, i64)> = vec![(self.home, self.home_par)];
        targets.extend(self.points.iter().map(|p| (p.loc, p.par)));
        for (loc, par) in targets {
            let qty = round_up(par as f64 * (0.5 + rng.f64() / 2.0), self.step);
            let parts = if self.track.expiry() && loc == self.home && qty >= 2 * self.step {
                let first = (qty / self.step * 2 / 5).max(1) * self.step;
                vec![(old, old_expiry, first), (new, new_expiry, qty - first)]
            } else {
                vec![(old, old_expiry, qty)]
            };
            for (batch, expiry, n) in parts {
                let h = Held {
                    batch,
                    expiry,
                    qty: n,
                };
                let mut e = self.ev(t, MovementKind::Receipt, loc, &h, n, MANAGER);
                e.note = "Opening stock";
                out.push(e);
                self.put(loc, batch, expiry, n);
            }
        }
    }

    fn deliver(
        &mut self,
        d: i64,
        t: u32,
        calendar: &Calendar,
        batches: &mut Batches,
        rng: &mut fastrand::Rng,
        out: &mut Vec<Ev>,
    ) {
        let Some((_, qty)) = self.pending.take() else {
            return;
        };
        let shelf = self.shelf_life(rng);
        let (batch, expiry) = self.new_batch(d, d + shelf, calendar, batches, rng);
        let user = if rng.f64() < 0.7 { MANAGER } else { NURSE };
        let h = Held { batch, expiry, qty };
        out.push(self.ev(t, MovementKind::Receipt, self.home, &h, qty, user));
        self.put(self.home, batch, expiry, qty);
    }

    fn consume(&mut self, d: i64, t: u32, rng: &mut fastrand::Rng, out: &mut Vec<Ev>) {
        let mut qty = rng.i64(self.qty.0..=self.qty.1) * self.step;
        let mut loc = self.home;
        if !self.points.is_empty() && rng.f64() >= 0.05 {
            let mut r = rng.f64();
            for p in &self.points {
                loc = p.loc;
                if r < p.share {
                    break;
                }
                r -= p.share;
            }
        }
        // Short in the room: fetch it from the store room instead.
        if self.usable(loc, d) < qty && self.usable(self.home, d) >= qty {
            loc = self.home;
        }
        qty = qty.min(self.usable(loc, d));
        if qty == 0 {
            return;
        }
        let r = rng.f64();
        let user = if r < 0.65 {
            NURSE
        } else if r < 0.85 {
            ADMIN
        } else {
            MANAGER
        };
        let note = if rng.f64() < 0.02 { "Home visit" } else { "" };
        let held = &mut self.stock[usize::from(loc)];
        for h in held.iter_mut().filter(|h| h.expiry >= d) {
            if qty == 0 {
                break;
            }
            let n = qty.min(h.qty);
            if n == 0 {
                continue;
            }
            h.qty -= n;
            qty -= n;
            out.push(Ev {
                ms: t,
                kind: MovementKind::Consumption,
                item: self.idx,
                loc,
                to: loc,
                batch: h.batch,
                qty: -n,
                reason: "",
                note,
                user,
            });
        }
        held.retain(|h| h.qty > 0);
    }

    /// A location holding some of this item, chosen at random.
    fn some_stocked_location(&self, rng: &mut fastrand::Rng) -> Option<u8> {
        let stocked: Vec<u8> = self
            .stock_locations()
            .into_iter()
            .filter(|l| !self.stock[usize::from(*l)].is_empty())
            .collect();
        rng.choice(stocked)
    }

    fn adjust(&mut self, d: i64, t: u32, rng: &mut fastrand::Rng, out: &mut Vec<Ev>) {
        let Some(loc) = self.some_stocked_location(rng) else {
            return;
        };
        let user = if rng.f64() < 0.7 { MANAGER } else { ADMIN };
        let n = rng.i64(1..=2) * self.step;
        let held = &mut self.stock[usize::from(loc)];
        let (qty, reason, h) = if rng.f64() < 0.4 {
            let Some(h) = held.iter_mut().find(|h| h.expiry >= d) else {
                return;
            };
            h.qty += n;
            (n, ADJUST_UP[rng.usize(..ADJUST_UP.len())], *h)
        } else {
            let i = rng.usize(..held.len());
            let h = &mut held[i];
            let n = n.min(h.qty);
            h.qty -= n;
            (-n, ADJUST_DOWN[rng.usize(..ADJUST_DOWN.len())], *h)
        };
        held.retain(|h| h.qty > 0);
        if qty != 0 {
            let mut e = self.ev(t, MovementKind::Adjustment, loc, &h, qty, user);
            e.reason = reason;
            out.push(e);
        }
    }

    fn damage(&mut self, t: u32, rng: &mut fastrand::Rng, out: &mut Vec<Ev>) {
        let Some(loc) = self.some_stocked_location(rng) else {
            return;
        };
        let held = &mut self.stock[usize::from(loc)];
        let h = &mut held[0];
        let n = self.step.min(h.qty);
        h.qty -= n;
        let h = *h;
        held.retain(|h| h.qty > 0);
        let mut e = self.ev(t, MovementKind::Disposal, loc, &h, -n, MANAGER);
        e.reason = "damaged";
        e.note = DAMAGE_NOTES[rng.usize(..DAMAGE_NOTES.len())];
        out.push(e);
    }
}

/// A Poisson-distributed count (Knuth's method; the means here are small).
fn poisson(rng: &mut fastrand::Rng, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    let limit = (-mean).exp();
    let mut k = 0;
    let mut p = rng.f64();
    while p > limit {
        k += 1;
        p *= rng.f64();
    }
    k
}

/// Writes movements with one prepared statement and keeps every level in
/// memory: the independent check that no level ever goes below zero, and
/// the source of `stock_levels` at the end.
struct Writer<'a> {
    insert: rusqlite::Statement<'a>,
    calendar: &'a Calendar,
    item_ids: Vec<i64>,
    user_ids: Vec<i64>,
    location_ids: Vec<i64>,
    batches: Batches,
    levels: HashMap<(u32, u8, u32), i64>,
    next_id: i64,
    by_kind: [u64; MovementKind::ALL.len()],
}

impl<'a> Writer<'a> {
    fn new(
        tx: &'a Transaction,
        calendar: &'a Calendar,
        sims: &[Sim],
        user_ids: &[i64],
        location_ids: &[i64],
    ) -> anyhow::Result<Writer<'a>> {
        let item_ids = sims.iter().map(|s| s.item_id).collect();
        let next_id: i64 = tx.query_row(
            "SELECT coalesce(max(id), 0) + 1 FROM stock_movements",
            [],
            |r| r.get(0),
        )?;
        Ok(Writer {
            insert: tx.prepare(
                "INSERT INTO stock_movements (id, kind, item_id, location_id, lot, expiry,
                    quantity, reason, note, pair_id, user_id, request_id, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, ?12)",
            )?,
            calendar,
            item_ids,
            user_ids: user_ids.to_vec(),
            location_ids: location_ids.to_vec(),
            batches: Batches {
                rows: vec![(String::new(), String::new())],
            },
            levels: HashMap::new(),
            next_id,
            by_kind: [0; MovementKind::ALL.len()],
        })
    }

    fn row(
        &mut self,
        e: &Ev,
        kind: MovementKind,
        loc: u8,
        qty: i64,
        pair: Option<i64>,
        at: &str,
    ) -> anyhow::Result<i64> {
        let level = self.levels.entry((e.item, loc, e.batch)).or_insert(0);
        *level += qty;
        if *level < 0 {
            bail!(
                "demo generator bug: item {} at location {} would go to {} with a {kind}",
                self.item_ids[e.item as usize],
                self.location_ids[usize::from(loc)],
                *level
            );
        }
        let id = self.next_id;
        let (lot, expiry) = &self.batches.rows[e.batch as usize];
        self.insert.execute(params![
            id,
            kind.as_str(),
            self.item_ids[e.item as usize],
            self.location_ids[usize::from(loc)],
            lot,
            expiry,
            qty,
            e.reason,
            e.note,
            pair,
            self.user_ids[usize::from(e.user)],
            at
        ])?;
        self.next_id += 1;
        let k = MovementKind::ALL
            .iter()
            .position(|k| *k == kind)
            .expect("a kind");
        self.by_kind[k] += 1;
        Ok(id)
    }

    fn write(&mut self, d: i64, e: &Ev) -> anyhow::Result<()> {
        let at = self.calendar.at(d, e.ms);
        if e.kind == MovementKind::TransferOut {
            let out = self.row(e, MovementKind::TransferOut, e.loc, -e.qty, None, &at)?;
            self.row(e, MovementKind::TransferIn, e.to, e.qty, Some(out), &at)?;
        } else {
            self.row(e, e.kind, e.loc, e.qty, None, &at)?;
        }
        Ok(())
    }

    /// Writes `stock_levels`; returns how many of them hold stock, and of
    /// those how many have expired and expire within 30 days.
    fn finish(self, tx: &Transaction, today: Date) -> anyhow::Result<(u64, u64, u64)> {
        let Writer {
            insert,
            levels,
            batches,
            item_ids,
            location_ids,
            ..
        } = self;
        drop(insert);
        let mut keys: Vec<_> = levels.into_iter().collect();
        keys.sort_unstable();
        let today_s = today.to_string();
        let soon = (today + time::Duration::days(30)).to_string();
        let (mut stocked, mut expired, mut expiring) = (0, 0, 0);
        let mut stmt = tx.prepare(
            "INSERT INTO stock_levels (item_id, location_id, lot, expiry, quantity, quarantined)
             VALUES (?1, ?2, ?3, ?4, ?5, 0)",
        )?;
        for ((item, loc, batch), qty) in &keys {
            let (lot, expiry) = &batches.rows[*batch as usize];
            stocked += u64::from(*qty > 0);
            if *qty > 0 && !expiry.is_empty() {
                if *expiry < today_s {
                    expired += 1;
                } else if *expiry <= soon {
                    expiring += 1;
                }
            }
            stmt.execute(params![
                item_ids[*item as usize],
                location_ids[usize::from(*loc)],
                lot,
                expiry,
                qty
            ])?;
        }
        Ok((stocked, expired, expiring))
    }
}

/// The address to sign in at: `public_url`, else the listen address (with
/// 127.0.0.1 for an unspecified one), as the setup link is built.
pub fn login_url(config: &Config) -> String {
    let base = match &config.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let scheme = if config.tls.is_some() {
                "https"
            } else {
                "http"
            };
            let mut addr = config.listen;
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("{scheme}://{addr}")
        }
    };
    format!("{base}/login")
}

/// What `stockroom demo` prints: what was made and how to sign in.
pub fn instructions(config: &Config, s: &DemoSummary) -> String {
    let mut out = String::new();
    let kinds: Vec<String> = s.by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let _ = writeln!(
        out,
        "Demo practice generated in {} (scale {}, {:.1} s):\n\
         \x20 {} items in {} categories ({} packs), {} locations, {} suppliers ({} supplier items)\n\
         \x20 {} stock movements from {} to {}: {}\n\
         \x20 {} stock levels with stock, {} of them expired and {} expiring within 30 days\n\
         \x20 {} purchase orders (a draft, one for approval, one partly delivered, one closed)\n",
        config.data_dir.display(),
        s.scale,
        s.elapsed.as_secs_f64(),
        s.items,
        s.categories,
        s.packs,
        s.locations,
        s.suppliers,
        s.supplier_items,
        s.movements,
        s.first_day,
        s.last_day,
        kinds.join(", "),
        s.levels,
        s.expired_levels,
        s.expiring_levels,
        s.orders,
    );
    let _ = writeln!(
        out,
        "Start the server with the same data directory (stockroom serve) and sign in at\n\n    {}\n",
        login_url(config)
    );
    let _ = writeln!(out, "  {:<18} {:<10} Password", "Role", "Username");
    for c in &s.credentials {
        let _ = writeln!(
            out,
            "  {:<18} {:<10} {}",
            c.role.label(),
            c.username,
            c.password
        );
    }
    let _ = writeln!(
        out,
        "\nThe passwords are shown only now. The administrator account completes the\n\
         first-run setup, so no setup link is printed at start."
    );
    out
}
