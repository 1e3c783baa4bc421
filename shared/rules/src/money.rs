//! Money and rates: `Decimal` in yuan, rounded half-up (四舍五入) to the fen once, at the end.
//!
//! `rust_decimal`'s `round_dp` is banker's rounding (0.125 → 0.12); the procedures' amounts are
//! rounded half-up (0.125 → 0.13). [`round_fen`] is the only place that rounds money.

use rust_decimal::{Decimal, RoundingStrategy};

/// Rounds an exact amount half-up (away from zero) to the fen and gives it exactly 2 decimals.
#[must_use]
pub fn round_fen(amount: Decimal) -> Decimal {
    let mut r = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

/// A rate or ratio for display: at least 4 decimals (`0.0026`), more only when needed (floated
/// rates such as `0.00072`); trailing zeros beyond 4 are dropped.
#[must_use]
pub fn display_rate(rate: Decimal) -> Decimal {
    let mut r = rate.normalize();
    if r.scale() < 4 {
        r.rescale(4);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn midpoints_round_up_not_to_even() {
        assert_eq!(round_fen(dec("0.125")).to_string(), "0.13");
        assert_eq!(round_fen(dec("0.135")).to_string(), "0.14");
        assert_eq!(round_fen(dec("2.345")).to_string(), "2.35");
        assert_eq!(round_fen(dec("0.124999")).to_string(), "0.12");
        assert_eq!(round_fen(dec("35")).to_string(), "35.00");
    }

    #[test]
    fn rates_show_four_decimals_or_more() {
        assert_eq!(display_rate(dec("0.0026")).to_string(), "0.0026");
        assert_eq!(display_rate(dec("0.006")).to_string(), "0.0060");
        assert_eq!(display_rate(dec("0.000720")).to_string(), "0.00072");
    }
}
