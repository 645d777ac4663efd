//! The demo's history: the calendar that places each day in the practice's
//! time zone, and writing the simulated movements and final levels.

use super::sim::{Day, Ev};
use super::*;

/// The days of the history and how a local time of day on each of them
/// maps to UTC in the practice's time zone.
pub struct Calendar {
    pub(super) today: Date,
    /// Unix milliseconds of 12:00 local time on each day from day −1
    /// (the day before the history) to day `HISTORY_DAYS`.
    pub(super) noon_ms: Vec<i64>,
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
    pub(super) fn date(&self, d: i64) -> Date {
        self.today - time::Duration::days(HISTORY_DAYS - d)
    }

    /// The stored timestamp of local time `ms` after midnight on day `d`.
    pub(super) fn at(&self, d: i64, ms: u32) -> String {
        let noon = self.noon_ms[usize::try_from(d + 1).expect("day −1 or later")];
        let unix_ms = noon + i64::from(ms) - 12 * HOUR;
        let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
            .expect("demo dates are in range");
        Timestamp::from_datetime(dt).to_db()
    }
}

pub(super) const MINUTE: i64 = 60_000;
pub(super) const HOUR: i64 = 60 * MINUTE;

pub(super) fn ms(hour: i64, minute: i64) -> u32 {
    u32::try_from(hour * HOUR + minute * MINUTE).expect("a time of day")
}

/// What writing the history produced.
pub(super) struct History {
    pub(super) by_kind: [u64; MovementKind::ALL.len()],
    pub(super) levels: u64,
    pub(super) expired_levels: u64,
    pub(super) expiring_levels: u64,
}

/// Simulates every item through the history, one day at a time, and writes
/// each day's movements in time order, then the final stock levels.
pub(super) fn write_history(
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

/// Writes movements with one prepared statement and keeps every level in
/// memory: the independent check that no level ever goes below zero, and
/// the source of `stock_levels` at the end.
pub(super) struct Writer<'a> {
    pub(super) insert: rusqlite::Statement<'a>,
    pub(super) calendar: &'a Calendar,
    pub(super) item_ids: Vec<i64>,
    pub(super) user_ids: Vec<i64>,
    pub(super) location_ids: Vec<i64>,
    pub(super) batches: Batches,
    pub(super) levels: HashMap<(u32, u8, u32), i64>,
    pub(super) next_id: i64,
    pub(super) by_kind: [u64; MovementKind::ALL.len()],
}

impl<'a> Writer<'a> {
    pub(super) fn new(
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

    pub(super) fn row(
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

    pub(super) fn write(&mut self, d: i64, e: &Ev) -> anyhow::Result<()> {
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
    pub(super) fn finish(self, tx: &Transaction, today: Date) -> anyhow::Result<(u64, u64, u64)> {
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
