//! The rules of the stock ledger, without I/O: which movements take stock
//! away or add it, what may be taken (quarantined stock may only be
//! disposed of or counted away), and that a level never goes negative.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    Receipt,
    Consumption,
    Adjustment,
    TransferOut,
    TransferIn,
    CountCorrection,
    Return,
    Disposal,
}

/// The sign a movement's quantity must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
    Either,
}

impl MovementKind {
    pub const ALL: [MovementKind; 8] = [
        MovementKind::Receipt,
        MovementKind::Consumption,
        MovementKind::Adjustment,
        MovementKind::TransferOut,
        MovementKind::TransferIn,
        MovementKind::CountCorrection,
        MovementKind::Return,
        MovementKind::Disposal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Receipt => "receipt",
            MovementKind::Consumption => "consumption",
            MovementKind::Adjustment => "adjustment",
            MovementKind::TransferOut => "transfer_out",
            MovementKind::TransferIn => "transfer_in",
            MovementKind::CountCorrection => "count_correction",
            MovementKind::Return => "return",
            MovementKind::Disposal => "disposal",
        }
    }

    pub fn parse(raw: &str) -> Option<MovementKind> {
        MovementKind::ALL
            .into_iter()
            .find(|k| k.as_str() == raw.trim())
    }

    pub fn direction(self) -> Direction {
        match self {
            MovementKind::Receipt | MovementKind::TransferIn => Direction::In,
            MovementKind::Consumption
            | MovementKind::TransferOut
            | MovementKind::Return
            | MovementKind::Disposal => Direction::Out,
            MovementKind::Adjustment | MovementKind::CountCorrection => Direction::Either,
        }
    }

    /// Adjustments must say why; disposals say which of [`DisposalReason`].
    pub fn needs_reason(self) -> bool {
        matches!(self, MovementKind::Adjustment | MovementKind::Disposal)
    }

    /// Whether this kind may take quarantined stock (recalled lots are
    /// disposed of; a count records what is really on the shelf).
    fn may_take_quarantined(self) -> bool {
        matches!(self, MovementKind::Disposal | MovementKind::CountCorrection)
    }
}

impl fmt::Display for MovementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisposalReason {
    Expired,
    Damaged,
    Recalled,
}

impl DisposalReason {
    pub fn parse(raw: &str) -> Option<DisposalReason> {
        match raw.trim() {
            "expired" => Some(DisposalReason::Expired),
            "damaged" => Some(DisposalReason::Damaged),
            "recalled" => Some(DisposalReason::Recalled),
            _ => None,
        }
    }
}

/// Stock of one item × location × lot × expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Level {
    pub quantity: i64,
    pub quarantined: i64,
}

impl Level {
    /// What may be used, moved or returned.
    pub fn available(self) -> i64 {
        self.quantity - self.quarantined
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("quantity must not be zero")]
    Zero,
    #[error("a {kind} must {}", if *.direction == Direction::In { "add stock (a positive quantity)" } else { "take stock (a negative quantity)" })]
    WrongDirection {
        kind: MovementKind,
        direction: Direction,
    },
    #[error("only {available} available")]
    Insufficient { available: i64 },
    #[error("the quantity is too large")]
    Overflow,
}

/// The level after applying a movement of `quantity` (signed) of `kind`.
pub fn apply(level: Level, kind: MovementKind, quantity: i64) -> Result<Level, Refusal> {
    if quantity == 0 {
        return Err(Refusal::Zero);
    }
    let direction = kind.direction();
    if (direction == Direction::In && quantity < 0) || (direction == Direction::Out && quantity > 0)
    {
        return Err(Refusal::WrongDirection { kind, direction });
    }
    if quantity > 0 {
        let total = level
            .quantity
            .checked_add(quantity)
            .ok_or(Refusal::Overflow)?;
        return Ok(Level {
            quantity: total,
            ..level
        });
    }
    let taken = quantity.checked_neg().ok_or(Refusal::Overflow)?;
    let limit = if kind.may_take_quarantined() {
        level.quantity
    } else {
        level.available()
    };
    if taken > limit {
        return Err(Refusal::Insufficient { available: limit });
    }
    let quantity = level.quantity - taken;
    // Disposals and corrections take quarantined stock first: that is the
    // stock a recall or a count is about.
    let quarantined = if kind.may_take_quarantined() {
        (level.quarantined - taken).max(0).min(quantity)
    } else {
        level.quarantined
    };
    Ok(Level {
        quantity,
        quarantined,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use MovementKind::*;
    use proptest::prelude::*;

    fn level(quantity: i64, quarantined: i64) -> Level {
        Level {
            quantity,
            quarantined,
        }
    }

    #[test]
    fn directions_are_enforced() {
        assert_eq!(apply(level(0, 0), Receipt, 5), Ok(level(5, 0)));
        assert!(matches!(
            apply(level(5, 0), Receipt, -1),
            Err(Refusal::WrongDirection { .. })
        ));
        assert!(matches!(
            apply(level(5, 0), Consumption, 1),
            Err(Refusal::WrongDirection { .. })
        ));
        assert_eq!(apply(level(5, 0), Adjustment, -2), Ok(level(3, 0)));
        assert_eq!(apply(level(5, 0), Adjustment, 2), Ok(level(7, 0)));
        assert_eq!(apply(level(5, 0), Consumption, 0), Err(Refusal::Zero));
    }

    #[test]
    fn stock_never_goes_negative() {
        assert_eq!(
            apply(level(3, 0), Consumption, -4),
            Err(Refusal::Insufficient { available: 3 })
        );
        assert_eq!(apply(level(3, 0), Consumption, -3), Ok(level(0, 0)));
        assert_eq!(
            apply(level(0, 0), CountCorrection, -1),
            Err(Refusal::Insufficient { available: 0 })
        );
    }

    #[test]
    fn quarantined_stock_can_only_be_disposed_of_or_counted_away() {
        let l = level(10, 4);
        assert_eq!(
            apply(l, Consumption, -7),
            Err(Refusal::Insufficient { available: 6 })
        );
        assert_eq!(
            apply(l, TransferOut, -7),
            Err(Refusal::Insufficient { available: 6 })
        );
        assert_eq!(apply(l, Return, -6), Ok(level(4, 4)));
        assert_eq!(
            apply(l, Disposal, -4),
            Ok(level(6, 0)),
            "disposal takes quarantined first"
        );
        assert_eq!(apply(l, CountCorrection, -9), Ok(level(1, 0)));
        assert_eq!(
            apply(l, Disposal, -11),
            Err(Refusal::Insufficient { available: 10 })
        );
    }

    #[test]
    fn kinds_round_trip_through_text() {
        for k in MovementKind::ALL {
            assert_eq!(MovementKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(MovementKind::parse("theft"), None);
    }

    fn arb_kind() -> impl Strategy<Value = MovementKind> {
        prop::sample::select(MovementKind::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn random_movements_keep_the_level_consistent(
            start_q in 0i64..50,
            moves in prop::collection::vec((arb_kind(), -60i64..60), 0..80),
        ) {
            let mut l = level(start_q, start_q / 3);
            let mut ledger_sum = start_q;
            for (kind, q) in moves {
                if let Ok(next) = apply(l, kind, q) {
                    ledger_sum += q;
                    l = next;
                }
                prop_assert!(l.quantity >= 0);
                prop_assert!(l.quarantined >= 0 && l.quarantined <= l.quantity);
                prop_assert_eq!(l.quantity, ledger_sum);
            }
        }
    }
}
