//! Settlement rules with no I/O: the business day an instant belongs to, and fee rates.
//!
//! A seller's settlement for a day sums one line per order of theirs that completed that day.
//! Each line is computed alone, and a settlement's totals are the sums of its lines, so the lines
//! always add up to the totals, won for won. On a line, the base is the gross less the
//! seller-funded discount; each fee is `round_half_up(base × rate)` to the won ([`FeeRate::fee`]);
//! net is the base less both fees.

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::money::Won;

/// A fee's share of the base, held in millionths so that it is exact (3.3 % is 33,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeRate {
    millionths: i64,
}

impl FeeRate {
    pub const ONE: i64 = 1_000_000;

    /// A rate from a fraction between 0 and 1, to the millionth; None outside that range.
    pub fn from_fraction(rate: f64) -> Option<Self> {
        (0.0..=1.0).contains(&rate).then(|| Self {
            // In range, so the product is at most a million: the cast cannot truncate.
            millionths: (rate * Self::ONE as f64).round() as i64,
        })
    }

    pub fn millionths(self) -> i64 {
        self.millionths
    }

    /// The fee on `base` (at least zero), rounded half up to the won. The store computes the same
    /// in SQL as `base / 10^6 × r + ((base mod 10^6) × r + 500,000) / 10^6`, which no base up to
    /// `i64::MAX / 10^6 × 10^6` can overflow; this is that formula's reference.
    pub fn fee(self, base: Won) -> Won {
        let (base, r) = (base.get().max(0), self.millionths);
        Won::new(base / Self::ONE * r + ((base % Self::ONE) * r + Self::ONE / 2) / Self::ONE)
    }
}

/// The instants `[start, end)` of calendar day `day` in `zone`, in UTC. A day that starts in a
/// gap of daylight saving time starts at the first instant after it.
pub fn business_day_bounds(day: NaiveDate, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |day: NaiveDate| {
        let midnight = day.and_time(NaiveTime::MIN);
        match zone.from_local_datetime(&midnight) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            // No zone skips more than a few hours: the first whole hour that exists.
            LocalResult::None => (1..24)
                .find_map(|h| {
                    zone.from_local_datetime(&(midnight + chrono::TimeDelta::hours(h)))
                        .earliest()
                })
                .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc)),
        }
    };
    let next = day.checked_add_days(Days::new(1)).unwrap_or(day);
    (start(day), start(next))
}

/// The calendar day in `zone` that `at` falls on.
pub fn business_day_of(at: DateTime<Utc>, zone: Tz) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_round_half_up_to_the_won_without_overflow() {
        let five = FeeRate::from_fraction(0.05).unwrap();
        let card = FeeRate::from_fraction(0.033).unwrap();
        // (rate, base, fee)
        let cases = [
            (five, 99_000, 4_950),
            (five, 10, 1),       // 0.5 rounds up
            (five, 9, 0),        // 0.45 rounds down
            (card, 12_345, 407), // 407.385
            (card, 15, 0),       // 0.495
            (card, 16, 1),       // 0.528
            (card, 0, 0),
            (five, -5, 0),
            (FeeRate::from_fraction(1.0).unwrap(), 777, 777),
        ];
        for (rate, base, fee) in cases {
            assert_eq!(
                rate.fee(Won::new(base)),
                Won::new(fee),
                "{rate:?} of {base}"
            );
        }
        let big = 100_000_000_000_000_000;
        assert_eq!(five.fee(Won::new(big)), Won::new(big / 20));
        assert_eq!(FeeRate::from_fraction(1.01), None);
        assert_eq!(card.millionths(), 33_000);
    }

    #[test]
    fn a_business_day_runs_from_local_midnight_to_local_midnight() {
        let seoul: Tz = "Asia/Seoul".parse().unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let (start, end) = business_day_bounds(day, seoul);
        assert_eq!(start.to_rfc3339(), "2026-12-03T15:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-12-04T15:00:00+00:00");
        assert_eq!(business_day_of(start, seoul), day);
        assert_eq!(
            business_day_of(end - chrono::TimeDelta::microseconds(1), seoul),
            day
        );
        assert_eq!(business_day_of(end, seoul), day.succ_opt().unwrap());

        // A day of 23 hours where clocks spring forward, and one of 25 where they fall back.
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let spring = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        let (start, end) = business_day_bounds(spring, berlin);
        assert_eq!((end - start).num_hours(), 23);
        let autumn = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        let (start, end) = business_day_bounds(autumn, berlin);
        assert_eq!((end - start).num_hours(), 25);
    }
}
