//! Drops: a limited allocation of a product sold in a time window.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::money::{MAX_PRICE, Won};
use crate::validation::{FieldErrors, time};

/// The most units one drop may sell.
pub const MAX_DROP_QUANTITY: i64 = 10_000_000;

/// What a seller sets on a drop, checked before it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropTerms {
    pub quantity: i64,
    pub price: Won,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub per_user_limit: i64,
}

/// A drop's terms that meet every rule, as they are stored: times to the microsecond, the
/// per-user limit in the `i32` of its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidDropTerms {
    pub quantity: i64,
    pub price: Won,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub per_user_limit: i32,
}

impl DropTerms {
    /// Every rule a drop's terms must meet at `now`, all failures at once.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<ValidDropTerms, FieldErrors> {
        let mut errors = FieldErrors::new();
        errors.check(
            (1..=MAX_DROP_QUANTITY).contains(&self.quantity),
            "quantity",
            format!("must be between 1 and {MAX_DROP_QUANTITY}"),
        );
        errors.check(
            self.price.is_price_from(Won::new(1)),
            "price",
            format!("must be between 1 and {MAX_PRICE} won"),
        );
        let per_user_limit = i32::try_from(self.per_user_limit)
            .ok()
            .filter(|limit| *limit >= 1);
        if per_user_limit.is_none() {
            errors.add("per_user_limit", "must be at least 1");
        }
        errors.check(
            self.opens_at < self.closes_at,
            "closes_at",
            "must be after opens_at",
        );
        errors.check(self.closes_at > now, "closes_at", "must be in the future");
        let opens_at = time(&mut errors, "opens_at", self.opens_at);
        let closes_at = time(&mut errors, "closes_at", self.closes_at);
        match (opens_at, closes_at, per_user_limit) {
            (Some(opens_at), Some(closes_at), Some(per_user_limit)) if errors.is_empty() => {
                Ok(ValidDropTerms {
                    quantity: self.quantity,
                    price: self.price,
                    opens_at,
                    closes_at,
                    per_user_limit,
                })
            }
            _ => Err(errors),
        }
    }
}

/// What a buyer sees. `sold_out` is not stored: it is `open` (or `claiming`) with nothing left in
/// the gate, and turns back when a hold is released. A raffle drop takes entries while `open`,
/// then is `drawing` until its draw is recorded, then `claiming` while winners buy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DropStatus {
    Scheduled,
    Open,
    Drawing,
    Claiming,
    SoldOut,
    Closed,
}

/// Where a time falls in a window `[opens_at, closes_at)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Scheduled,
    Open,
    Closed,
}

/// Where `now` falls in the window `[opens_at, closes_at)`.
pub fn window_status(
    now: DateTime<Utc>,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
) -> Window {
    if now < opens_at {
        Window::Scheduled
    } else if now >= closes_at {
        Window::Closed
    } else {
        Window::Open
    }
}

impl DropStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DropStatus::Scheduled => "scheduled",
            DropStatus::Open => "open",
            DropStatus::Drawing => "drawing",
            DropStatus::Claiming => "claiming",
            DropStatus::SoldOut => "sold_out",
            DropStatus::Closed => "closed",
        }
    }

    /// The status shown to buyers: the window's, with `open` becoming `sold_out` when nothing
    /// remains.
    pub fn shown(
        now: DateTime<Utc>,
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
        remaining: u64,
    ) -> Self {
        match window_status(now, opens_at, closes_at) {
            Window::Scheduled => DropStatus::Scheduled,
            Window::Open if remaining == 0 => DropStatus::SoldOut,
            Window::Open => DropStatus::Open,
            Window::Closed => DropStatus::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn terms(now: DateTime<Utc>) -> DropTerms {
        DropTerms {
            quantity: 1_000,
            price: Won::new(89_000),
            opens_at: now + Duration::minutes(5),
            closes_at: now + Duration::hours(1),
            per_user_limit: 1,
        }
    }

    #[test]
    fn valid_terms_pass_and_every_broken_rule_is_named() {
        let now = Utc::now();
        assert_eq!(terms(now).validate(now).map(|_| ()), Ok(()));
        let stored = terms(now).validate(now).unwrap();
        assert_eq!(
            stored.opens_at.timestamp_subsec_nanos() % 1_000,
            0,
            "to the microsecond"
        );
        let edge = DropTerms {
            quantity: MAX_DROP_QUANTITY,
            ..terms(now)
        };
        assert_eq!(edge.validate(now).map(|_| ()), Ok(()));

        let broken = DropTerms {
            quantity: 0,
            price: Won::ZERO,
            per_user_limit: 0,
            closes_at: now - Duration::minutes(1),
            ..terms(now)
        };
        let errors = broken.validate(now).unwrap_err();
        for field in ["quantity", "price", "per_user_limit"] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
        assert_eq!(errors.get("closes_at").unwrap().len(), 2);
        let far = DropTerms {
            closes_at: DateTime::<Utc>::MAX_UTC,
            ..terms(now)
        };
        assert_eq!(
            far.validate(now).unwrap_err().get("closes_at").unwrap(),
            ["must be between the years 0001 and 9999"]
        );
        let too_many = DropTerms {
            quantity: MAX_DROP_QUANTITY + 1,
            ..terms(now)
        };
        assert!(
            too_many
                .validate(now)
                .unwrap_err()
                .get("quantity")
                .is_some()
        );
        let at_bound = DropTerms {
            price: MAX_PRICE,
            per_user_limit: i64::from(i32::MAX),
            ..terms(now)
        };
        assert_eq!(at_bound.validate(now).unwrap().per_user_limit, i32::MAX);
        for price in [MAX_PRICE.get() + 1, 4_611_686_018_427_387_905] {
            let too_dear = DropTerms {
                price: Won::new(price),
                per_user_limit: i64::from(i32::MAX) + 1,
                ..terms(now)
            };
            let errors = too_dear.validate(now).unwrap_err();
            assert!(errors.get("price").is_some(), "{price}");
            assert!(errors.get("per_user_limit").is_some(), "{price}");
        }
    }

    #[test]
    fn the_window_is_closed_open() {
        let opens = Utc::now();
        let closes = opens + Duration::hours(1);
        let micro = Duration::microseconds(1);
        assert_eq!(
            window_status(opens - micro, opens, closes),
            Window::Scheduled
        );
        assert_eq!(window_status(opens, opens, closes), Window::Open);
        assert_eq!(window_status(closes - micro, opens, closes), Window::Open);
        assert_eq!(window_status(closes, opens, closes), Window::Closed);
        assert_eq!(
            DropStatus::shown(opens, opens, closes, 0),
            DropStatus::SoldOut
        );
        assert_eq!(
            DropStatus::shown(closes, opens, closes, 0),
            DropStatus::Closed
        );
    }
}
