//! Points: a ledger per buyer, one point worth one won. The balance is the sum of the entries.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::money::Won;

/// Why a ledger entry was written. Earned and refunded entries are positive, spent and expired
/// ones negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PointKind {
    /// A share of a completed order's paid amount.
    Earn,
    /// Taken off an order's total at checkout.
    Spend,
    /// A spend given back because its order was cancelled, expired or returned.
    Refund,
    /// Points whose time ran out.
    Expire,
}

impl PointKind {
    pub const ALL: [PointKind; 4] = [
        PointKind::Earn,
        PointKind::Spend,
        PointKind::Refund,
        PointKind::Expire,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PointKind::Earn => "earn",
            PointKind::Spend => "spend",
            PointKind::Refund => "refund",
            PointKind::Expire => "expire",
        }
    }
}

impl fmt::Display for PointKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PointKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        PointKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| format!("unknown point entry kind {s:?}"))
    }
}

/// The share of a paid amount a buyer earns, held in millionths so that the points come out
/// exact: 0.01 as a float times 99,000 need not be 990.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarnRate {
    millionths: i64,
}

impl EarnRate {
    const ONE: i64 = 1_000_000;

    /// A rate from a fraction between 0 and 1, to the millionth; None outside that range.
    pub fn from_fraction(rate: f64) -> Option<Self> {
        (0.0..=1.0).contains(&rate).then(|| Self {
            // In range, so the product is at most a million: the cast cannot truncate.
            millionths: (rate * Self::ONE as f64).round() as i64,
        })
    }

    /// The points earned on `paid`, rounded down.
    #[expect(
        clippy::expect_used,
        reason = "a rate of at most one earns at most the paid amount, an i64"
    )]
    pub fn earned(self, paid: Won) -> Won {
        let paid = paid.get().max(0);
        let earned = i128::from(paid) * i128::from(self.millionths) / i128::from(Self::ONE);
        Won::new(i64::try_from(earned).expect("at most the paid amount"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earning_rounds_down_to_the_point() {
        let one_percent = EarnRate::from_fraction(0.01).unwrap();
        // (rate, paid, earned)
        let cases = [
            (one_percent, 99_000, 990),
            (one_percent, 12_345, 123),
            (one_percent, 99, 0),
            (one_percent, 0, 0),
            (EarnRate::from_fraction(0.015).unwrap(), 10_001, 150),
            (EarnRate::from_fraction(0.0).unwrap(), 1_000_000, 0),
            (EarnRate::from_fraction(1.0).unwrap(), 1_000_000, 1_000_000),
            (one_percent, i64::MAX, i64::MAX / 100),
        ];
        for (rate, paid, earned) in cases {
            assert_eq!(
                rate.earned(Won::new(paid)),
                Won::new(earned),
                "{rate:?} of {paid}"
            );
        }
        assert_eq!(EarnRate::from_fraction(-0.01), None);
        assert_eq!(EarnRate::from_fraction(1.5), None);
        assert_eq!(EarnRate::from_fraction(f64::NAN), None);
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in PointKind::ALL {
            assert_eq!(kind.as_str().parse::<PointKind>(), Ok(kind));
        }
    }
}
