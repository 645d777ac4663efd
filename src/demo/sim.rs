//! The simulation of one item through the demo's history: how a practice
//! uses, receives, counts, moves and throws away stock, day by day.

use super::*;

/// One day of the practice: when it is open and how busy it is.
pub(super) struct Day {
    pub(super) d: i64,
    pub(super) open: bool,
    /// Deliveries arrive (weekdays).
    pub(super) receiving: bool,
    /// The weekly check for expired stock in the store room and fridge
    /// (Mondays).
    pub(super) expiry_check: bool,
    /// The treatment rooms are checked on the first Monday of the month.
    pub(super) room_check: bool,
    pub(super) busy: f64,
    /// Multiplier for seasonal items (influenza season).
    pub(super) season: f64,
    pub(super) opens: u32,
    pub(super) closes: u32,
}

impl Day {
    pub(super) fn new(date: Date, d: i64) -> Day {
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
pub(super) struct Point {
    pub(super) loc: u8,
    pub(super) share: f64,
    pub(super) reorder: i64,
    pub(super) par: i64,
}

/// Stock of one batch (lot and/or expiry) in one location.
#[derive(Clone, Copy)]
pub(super) struct Held {
    pub(super) batch: u32,
    /// History day of the expiry date; `i64::MAX` when not tracked.
    pub(super) expiry: i64,
    pub(super) qty: i64,
}

/// One movement (or, for a transfer, the pair) to write.
pub(super) struct Ev {
    pub(super) ms: u32,
    pub(super) kind: MovementKind,
    pub(super) item: u32,
    pub(super) loc: u8,
    /// Transfers: where the stock goes.
    pub(super) to: u8,
    pub(super) batch: u32,
    /// Signed, as stored; for a transfer the (positive) amount moved.
    pub(super) qty: i64,
    pub(super) reason: &'static str,
    pub(super) note: &'static str,
    pub(super) user: u8,
}

#[derive(Clone, Copy)]
pub(super) enum Action {
    Deliver,
    Consume,
    Adjust,
    Damage,
}

/// Lots and expiry dates as stored; index 0 is "not tracked".
pub(super) struct Batches {
    pub(super) rows: Vec<(String, String)>,
}

/// The state of one item through the history.
pub(super) struct Sim {
    pub(super) idx: u32,
    pub(super) item_id: i64,
    pub(super) rate: f64,
    pub(super) seasonal: bool,
    pub(super) step: i64,
    pub(super) qty: (i64, i64),
    pub(super) track: Track,
    pub(super) shelf_days: (i64, i64),
    pub(super) lead: i64,
    pub(super) pack: i64,
    pub(super) home: u8,
    pub(super) home_reorder: i64,
    pub(super) home_par: i64,
    pub(super) points: Vec<Point>,
    /// Per location index (only the stock-holding ones are used).
    pub(super) stock: [Vec<Held>; LOCATIONS.len()],
    pub(super) pending: Option<(i64, i64)>,
    pub(super) lot_letters: [char; 2],
    pub(super) lot_seq: u32,
    /// Expiry-only items: the batch of each expiry date seen.
    pub(super) by_expiry: Vec<(i64, u32)>,
}

pub(super) fn round_up(x: f64, to: i64) -> i64 {
    let to = to.max(1);
    ((x / to as f64).ceil() as i64).max(1) * to
}

impl Sim {
    pub(super) fn new(
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

    pub(super) fn usable(&self, loc: u8, d: i64) -> i64 {
        self.stock[usize::from(loc)]
            .iter()
            .filter(|h| h.expiry >= d)
            .map(|h| h.qty)
            .sum()
    }

    /// Adds stock of `batch` at `loc`, keeping the list first-expiry-first.
    pub(super) fn put(&mut self, loc: u8, batch: u32, expiry: i64, qty: i64) {
        let held = &mut self.stock[usize::from(loc)];
        if let Some(h) = held.iter_mut().find(|h| h.batch == batch) {
            h.qty += qty;
            return;
        }
        let at = held.partition_point(|h| h.expiry <= expiry);
        held.insert(at, Held { batch, expiry, qty });
    }

    /// A new batch as delivered on day `d`.
    pub(super) fn new_batch(
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

    pub(super) fn shelf_life(&self, rng: &mut fastrand::Rng) -> i64 {
        // Now and then a delivery comes short-dated.
        if rng.f64() < 0.06 {
            rng.i64(14..=75)
        } else {
            rng.i64(self.shelf_days.0..=self.shelf_days.1)
        }
    }

    pub(super) fn ev(
        &self,
        ms: u32,
        kind: MovementKind,
        loc: u8,
        h: &Held,
        qty: i64,
        user: u8,
    ) -> Ev {
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
    pub(super) fn simulate(
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
    pub(super) fn stock_locations(&self) -> Vec<u8> {
        std::iter::once(self.home)
            .chain(self.points.iter().map(|p| p.loc))
            .collect()
    }

    pub(super) fn opening_stock(
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

    pub(super) fn deliver(
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

    pub(super) fn consume(&mut self, d: i64, t: u32, rng: &mut fastrand::Rng, out: &mut Vec<Ev>) {
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
    pub(super) fn some_stocked_location(&self, rng: &mut fastrand::Rng) -> Option<u8> {
        let stocked: Vec<u8> = self
            .stock_locations()
            .into_iter()
            .filter(|l| !self.stock[usize::from(*l)].is_empty())
            .collect();
        rng.choice(stocked)
    }

    pub(super) fn adjust(&mut self, d: i64, t: u32, rng: &mut fastrand::Rng, out: &mut Vec<Ev>) {
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

    pub(super) fn damage(&mut self, t: u32, rng: &mut fastrand::Rng, out: &mut Vec<Ev>) {
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
pub(super) fn poisson(rng: &mut fastrand::Rng, mean: f64) -> u32 {
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
