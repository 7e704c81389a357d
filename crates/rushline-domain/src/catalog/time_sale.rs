use chrono::{DateTime, Utc};

use crate::money::Won;
use crate::validation::{FieldErrors, required, time};

/// A time sale's price and window. The window is half-open, `[starts_at, ends_at)`: the sale
/// price applies from `starts_at` and no longer at `ends_at`, so back-to-back sales never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleWindow {
    pub price: Won,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl SaleWindow {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.starts_at <= now && now < self.ends_at
    }

    pub fn overlaps(&self, other: &SaleWindow) -> bool {
        self.starts_at < other.ends_at && other.starts_at < self.ends_at
    }
}

/// A time sale as a client sent it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TimeSaleFields {
    pub price: Option<Won>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
}

impl TimeSaleFields {
    /// A sale must cost less than the list price it discounts, end after it starts, and not be
    /// over already. Times are kept to the microsecond, as every stored time is, and must be
    /// [storable](crate::validation::is_storable_time).
    pub fn validate(self, list_price: Won, now: DateTime<Utc>) -> Result<SaleWindow, FieldErrors> {
        let mut errors = FieldErrors::new();
        let price = required(&mut errors, "price", self.price);
        // Below a list price that is itself at most `MAX_PRICE`: a sale is bounded as prices are.
        if let Some(price) = price
            && !(Won::new(1)..list_price).contains(&price)
        {
            errors.add(
                "price",
                format!("must be from 1 to below the list price ({list_price})"),
            );
        }
        let starts_at = required(&mut errors, "starts_at", self.starts_at)
            .and_then(|t| time(&mut errors, "starts_at", t));
        let ends_at = required(&mut errors, "ends_at", self.ends_at)
            .and_then(|t| time(&mut errors, "ends_at", t));
        if let (Some(starts_at), Some(ends_at)) = (starts_at, ends_at)
            && ends_at <= starts_at
        {
            errors.add("ends_at", "must be after starts_at");
        }
        if let Some(ends_at) = ends_at
            && ends_at <= now
        {
            errors.add("ends_at", "must be in the future");
        }
        match (price, starts_at, ends_at) {
            (Some(price), Some(starts_at), Some(ends_at)) if errors.is_empty() => Ok(SaleWindow {
                price,
                starts_at,
                ends_at,
            }),
            _ => Err(errors),
        }
    }
}

/// What a product costs: the lower of its list price and the price of the sale active now.
pub fn effective_price(list_price: Won, active_sale: Option<&SaleWindow>) -> Won {
    active_sale.map_or(list_price, |sale| sale.price.min(list_price))
}

/// The first moment after `now` at which one of `sales` starts or ends, changing what
/// [`effective_price`] answers: how long a computed price may be reused.
pub fn next_price_change<'a>(
    sales: impl IntoIterator<Item = &'a SaleWindow>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    sales
        .into_iter()
        .flat_map(|s| [s.starts_at, s.ends_at])
        .filter(|t| *t > now)
        .min()
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_772_355_600 + secs, 0).unwrap()
    }

    fn sale(price: i64, from: i64, to: i64) -> SaleWindow {
        SaleWindow {
            price: Won::new(price),
            starts_at: t(from),
            ends_at: t(to),
        }
    }

    #[test]
    fn windows_are_half_open_to_the_microsecond() {
        let s = sale(90, 10, 20);
        let us = Duration::microseconds(1);
        assert!(!s.is_active(t(10) - us));
        assert!(s.is_active(t(10)));
        assert!(s.is_active(t(20) - us));
        assert!(!s.is_active(t(20)));
        assert!(!s.overlaps(&sale(80, 20, 30)), "back to back");
        assert!(!s.overlaps(&sale(80, 0, 10)), "back to back");
        assert!(s.overlaps(&sale(80, 19, 30)));
        assert!(s.overlaps(&sale(80, 12, 13)), "inside");
        assert!(s.overlaps(&sale(80, 0, 40)), "around");
    }

    #[test]
    fn effective_price_is_the_lower_of_list_and_active_sale() {
        assert_eq!(effective_price(Won::new(100), None), Won::new(100));
        assert_eq!(
            effective_price(Won::new(100), Some(&sale(70, 0, 1))),
            Won::new(70)
        );
        // The list price may have been lowered below the sale price since.
        assert_eq!(
            effective_price(Won::new(60), Some(&sale(70, 0, 1))),
            Won::new(60)
        );
    }

    #[test]
    fn the_next_price_change_is_the_nearest_boundary_after_now() {
        let sales = [sale(90, 10, 20), sale(80, 30, 40)];
        assert_eq!(next_price_change(&sales, t(0)), Some(t(10)));
        assert_eq!(next_price_change(&sales, t(10)), Some(t(20)));
        assert_eq!(next_price_change(&sales, t(25)), Some(t(30)));
        assert_eq!(next_price_change(&sales, t(40)), None);
        assert_eq!(next_price_change([], t(0)), None);
    }

    #[test]
    fn time_sales_are_validated_against_list_price_and_now() {
        let now = t(0);
        let ok = TimeSaleFields {
            price: Some(Won::new(99)),
            starts_at: Some(t(-5)),
            ends_at: Some(t(60) + Duration::nanoseconds(1_500)),
        }
        .validate(Won::new(100), now)
        .unwrap();
        assert_eq!(ok.ends_at, t(60) + Duration::microseconds(1));

        let errors = TimeSaleFields::default()
            .validate(Won::new(100), now)
            .unwrap_err();
        for field in ["price", "starts_at", "ends_at"] {
            assert_eq!(errors.get(field).unwrap(), ["is required"], "{field}");
        }

        let errors = TimeSaleFields {
            price: Some(Won::new(100)),
            starts_at: Some(t(10)),
            ends_at: Some(t(10)),
        }
        .validate(Won::new(100), now)
        .unwrap_err();
        assert!(errors.get("price").is_some());
        assert_eq!(errors.get("ends_at").unwrap(), ["must be after starts_at"]);

        let errors = TimeSaleFields {
            price: Some(Won::new(0)),
            starts_at: Some(t(-20)),
            ends_at: Some(now),
        }
        .validate(Won::new(100), now)
        .unwrap_err();
        assert!(errors.get("price").is_some());
        assert_eq!(errors.get("ends_at").unwrap(), ["must be in the future"]);
    }

    #[test]
    fn times_beyond_the_nanosecond_range_are_kept_or_refused_never_a_panic() {
        let now = t(0);
        // Beyond the years an `i64` of nanoseconds spans: refused or kept, never a panic.
        let at = |s: &str| Some(s.parse::<DateTime<Utc>>().unwrap());
        let errors = TimeSaleFields {
            price: Some(Won::new(99)),
            starts_at: at("1600-01-01T00:00:00.0000019Z"),
            ends_at: at("+10000-01-01T00:00:00Z"),
        }
        .validate(Won::new(100), now)
        .unwrap_err();
        assert_eq!(errors.get("starts_at"), None);
        assert_eq!(
            errors.get("ends_at").unwrap(),
            ["must be between the years 0001 and 9999"]
        );
        let old = TimeSaleFields {
            price: Some(Won::new(99)),
            starts_at: at("1600-01-01T00:00:00.0000019Z"),
            ends_at: at("9999-12-31T23:59:59.9999999Z"),
        }
        .validate(Won::new(100), now)
        .unwrap();
        assert_eq!(old.starts_at, at("1600-01-01T00:00:00.000001Z").unwrap());
        assert_eq!(old.ends_at, at("9999-12-31T23:59:59.999999Z").unwrap());
    }
}
