//! Coupon campaigns: a limited number of coupons claimed first come, first served, each taking a
//! fixed amount or a capped percentage off the part of an order its scope covers.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::drop::DropStatus;
use crate::money::{MAX_PRICE, Won};
use crate::validation::{CONTROL_CHARACTERS, FieldErrors, is_plain_line, time};

/// The most coupons one campaign may issue.
pub const MAX_CAMPAIGN_TOTAL: i64 = 10_000_000;
/// The longest campaign name, in characters.
pub const CAMPAIGN_NAME_MAX_CHARS: usize = 100;

/// What a coupon takes off the amount it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Discount {
    /// `amount` won off.
    Fixed {
        #[schema(inline)]
        amount: Won,
    },
    /// `percent` (1–100) off, rounded down to the won, at most `max_amount` won.
    Percent {
        percent: i64,
        #[schema(inline)]
        max_amount: Won,
    },
}

impl Discount {
    /// The won taken off `amount`: rounded down, capped, and never more than `amount` itself,
    /// so that nothing is ever priced below zero.
    pub fn off(self, amount: Won) -> Won {
        let amount = amount.max(Won::ZERO);
        let off = match self {
            Discount::Fixed { amount: fixed } => fixed,
            Discount::Percent {
                percent,
                max_amount,
            } => amount.percent(percent).min(max_amount),
        };
        off.clamp(Won::ZERO, amount)
    }

    fn validate(self, errors: &mut FieldErrors) {
        match self {
            Discount::Fixed { amount } => errors.check(
                amount.is_price_from(Won::new(1)),
                "discount.amount",
                format!("must be between 1 and {MAX_PRICE} won"),
            ),
            Discount::Percent {
                percent,
                max_amount,
            } => {
                errors.check(
                    (1..=100).contains(&percent),
                    "discount.percent",
                    "must be between 1 and 100",
                );
                errors.check(
                    max_amount.is_price_from(Won::new(1)),
                    "discount.max_amount",
                    format!("must be between 1 and {MAX_PRICE} won"),
                );
            }
        }
    }
}

/// Which lines of an order a coupon applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CouponScope {
    /// Every product of the store (campaigns of admins only).
    Store,
    /// Every product of one seller.
    Seller { seller_id: Uuid },
    /// One product.
    Product { product_id: Uuid },
}

impl CouponScope {
    /// Whether a line of `product_id`, sold by `seller_id`, is covered.
    pub fn covers(self, product_id: Uuid, seller_id: Uuid) -> bool {
        match self {
            CouponScope::Store => true,
            CouponScope::Seller { seller_id: scope } => scope == seller_id,
            CouponScope::Product { product_id: scope } => scope == product_id,
        }
    }
}

/// What a campaign's creator sets, checked before it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignTerms<'a> {
    pub name: &'a str,
    pub total: i64,
    pub per_user_limit: i64,
    pub claim_starts_at: DateTime<Utc>,
    pub claim_ends_at: DateTime<Utc>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub discount: Discount,
    pub min_order_amount: Won,
}

/// A campaign's terms that meet every rule, as they are stored: the name trimmed, times to the
/// microsecond, the per-user limit in the `i32` of its column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidCampaignTerms {
    pub name: String,
    pub total: i64,
    pub per_user_limit: i32,
    pub claim_starts_at: DateTime<Utc>,
    pub claim_ends_at: DateTime<Utc>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub discount: Discount,
    pub min_order_amount: Won,
}

impl CampaignTerms<'_> {
    /// Every rule the terms must meet at `now`, all failures at once.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<ValidCampaignTerms, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = self.name.trim();
        errors.check(
            !name.is_empty() && name.chars().count() <= CAMPAIGN_NAME_MAX_CHARS,
            "name",
            format!("must be 1 to {CAMPAIGN_NAME_MAX_CHARS} characters"),
        );
        errors.check(is_plain_line(name), "name", CONTROL_CHARACTERS);
        errors.check(
            (1..=MAX_CAMPAIGN_TOTAL).contains(&self.total),
            "total",
            format!("must be between 1 and {MAX_CAMPAIGN_TOTAL}"),
        );
        let per_user_limit = i32::try_from(self.per_user_limit)
            .ok()
            .filter(|limit| *limit >= 1);
        if per_user_limit.is_none() {
            errors.add("per_user_limit", "must be at least 1");
        }
        errors.check(
            self.claim_starts_at < self.claim_ends_at,
            "claim_ends_at",
            "must be after claim_starts_at",
        );
        errors.check(
            self.claim_ends_at > now,
            "claim_ends_at",
            "must be in the future",
        );
        errors.check(
            self.valid_from < self.valid_until,
            "valid_until",
            "must be after valid_from",
        );
        // A coupon claimed at the last moment of the claim window must still be usable.
        errors.check(
            self.valid_until > self.claim_ends_at,
            "valid_until",
            "must be after claim_ends_at",
        );
        self.discount.validate(&mut errors);
        errors.check(
            self.min_order_amount.is_price_from(Won::ZERO),
            "min_order_amount",
            format!("must be between 0 and {MAX_PRICE} won"),
        );
        let claim_starts_at = time(&mut errors, "claim_starts_at", self.claim_starts_at);
        let claim_ends_at = time(&mut errors, "claim_ends_at", self.claim_ends_at);
        let valid_from = time(&mut errors, "valid_from", self.valid_from);
        let valid_until = time(&mut errors, "valid_until", self.valid_until);
        match (
            per_user_limit,
            claim_starts_at,
            claim_ends_at,
            valid_from,
            valid_until,
        ) {
            (
                Some(per_user_limit),
                Some(claim_starts_at),
                Some(claim_ends_at),
                Some(valid_from),
                Some(valid_until),
            ) if errors.is_empty() => Ok(ValidCampaignTerms {
                name: name.to_owned(),
                total: self.total,
                per_user_limit,
                claim_starts_at,
                claim_ends_at,
                valid_from,
                valid_until,
                discount: self.discount,
                min_order_amount: self.min_order_amount,
            }),
            _ => Err(errors),
        }
    }
}

/// Where a campaign stands for claims, as buyers see it: its claim window's, with `open`
/// becoming `sold_out` while nothing remains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Scheduled,
    Open,
    SoldOut,
    Closed,
}

impl CampaignStatus {
    pub fn shown(
        now: DateTime<Utc>,
        claim_starts_at: DateTime<Utc>,
        claim_ends_at: DateTime<Utc>,
        remaining: u64,
    ) -> Self {
        match DropStatus::shown(now, claim_starts_at, claim_ends_at, remaining) {
            DropStatus::Scheduled => CampaignStatus::Scheduled,
            DropStatus::Open => CampaignStatus::Open,
            DropStatus::SoldOut => CampaignStatus::SoldOut,
            DropStatus::Closed | DropStatus::Drawing | DropStatus::Claiming => {
                CampaignStatus::Closed
            }
        }
    }
}

/// A coupon in a buyer's wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CouponStatus {
    /// Usable at checkout while its validity lasts.
    Available,
    /// Applied to an order awaiting payment.
    Reserved,
    /// Its order was paid.
    Used,
    /// Its validity ended before it was used.
    Expired,
}

impl CouponStatus {
    pub const ALL: [CouponStatus; 4] = [
        CouponStatus::Available,
        CouponStatus::Reserved,
        CouponStatus::Used,
        CouponStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CouponStatus::Available => "available",
            CouponStatus::Reserved => "reserved",
            CouponStatus::Used => "used",
            CouponStatus::Expired => "expired",
        }
    }

    /// The status a buyer sees at `now`: an available coupon whose validity has ended is
    /// expired, whether or not anything has recorded that yet.
    pub fn shown(self, valid_until: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        match self {
            CouponStatus::Available if now >= valid_until => CouponStatus::Expired,
            status => status,
        }
    }
}

impl fmt::Display for CouponStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CouponStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        CouponStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown coupon status {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn discounts_round_down_cap_and_never_exceed_the_amount() {
        let fixed = |amount| Discount::Fixed {
            amount: Won::new(amount),
        };
        let percent = |percent, max_amount| Discount::Percent {
            percent,
            max_amount: Won::new(max_amount),
        };
        // (discount, amount, off)
        let cases = [
            (fixed(5_000), 30_000, 5_000),
            (fixed(5_000), 5_000, 5_000),
            (fixed(5_000), 3_000, 3_000),
            (fixed(5_000), 0, 0),
            (percent(10, 100_000), 99_000, 9_900),
            // 15 % of 12,345 is 1,851.75: rounded down to the won.
            (percent(15, 100_000), 12_345, 1_851),
            (percent(33, 100_000), 1, 0),
            (percent(10, 5_000), 99_000, 5_000),
            (percent(10, 9_900), 99_000, 9_900),
            (percent(100, 1_000_000), 99_000, 99_000),
            (percent(100, 50_000), 99_000, 50_000),
            (percent(50, MAX_PRICE.get()), i64::MAX, MAX_PRICE.get()),
        ];
        for (discount, amount, off) in cases {
            assert_eq!(
                discount.off(Won::new(amount)),
                Won::new(off),
                "{discount:?} off {amount}"
            );
        }
    }

    #[test]
    fn scopes_cover_the_store_a_seller_or_a_product() {
        let (product, seller, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        assert!(CouponScope::Store.covers(product, seller));
        assert!(CouponScope::Seller { seller_id: seller }.covers(product, seller));
        assert!(!CouponScope::Seller { seller_id: other }.covers(product, seller));
        assert!(
            CouponScope::Product {
                product_id: product
            }
            .covers(product, seller)
        );
        assert!(!CouponScope::Product { product_id: other }.covers(product, seller));
    }

    fn terms(now: DateTime<Utc>) -> CampaignTerms<'static> {
        CampaignTerms {
            name: "Spring 10%",
            total: 1_000,
            per_user_limit: 1,
            claim_starts_at: now + Duration::minutes(5),
            claim_ends_at: now + Duration::hours(1),
            valid_from: now,
            valid_until: now + Duration::days(30),
            discount: Discount::Percent {
                percent: 10,
                max_amount: Won::new(10_000),
            },
            min_order_amount: Won::new(50_000),
        }
    }

    #[test]
    fn valid_terms_pass_and_every_broken_rule_is_named() {
        let now = Utc::now();
        assert_eq!(terms(now).validate(now).map(|_| ()), Ok(()));
        let broken = CampaignTerms {
            name: "   ",
            total: 0,
            per_user_limit: 0,
            claim_ends_at: now - Duration::minutes(1),
            valid_until: now - Duration::days(1),
            discount: Discount::Percent {
                percent: 101,
                max_amount: Won::ZERO,
            },
            min_order_amount: Won::new(-1),
            ..terms(now)
        };
        let errors = broken.validate(now).unwrap_err();
        for field in [
            "name",
            "total",
            "per_user_limit",
            "discount.percent",
            "discount.max_amount",
            "min_order_amount",
        ] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
        assert_eq!(errors.get("claim_ends_at").unwrap().len(), 2);
        assert_eq!(errors.get("valid_until").unwrap().len(), 2);
        let fixed = CampaignTerms {
            discount: Discount::Fixed { amount: Won::ZERO },
            total: MAX_CAMPAIGN_TOTAL + 1,
            ..terms(now)
        };
        let errors = fixed.validate(now).unwrap_err();
        assert!(errors.get("discount.amount").is_some());
        assert!(errors.get("total").is_some());
        let far = CampaignTerms {
            claim_starts_at: DateTime::<Utc>::MIN_UTC,
            valid_until: DateTime::<Utc>::MAX_UTC,
            ..terms(now)
        };
        let far = CampaignTerms {
            name: "Spring\0",
            ..far
        };
        let errors = far.validate(now).unwrap_err();
        for field in ["name", "claim_starts_at", "valid_until"] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
        let too_dear = CampaignTerms {
            discount: Discount::Fixed {
                amount: Won::new(MAX_PRICE.get() + 1),
            },
            min_order_amount: Won::new(i64::MAX),
            ..terms(now)
        };
        let errors = too_dear.validate(now).unwrap_err();
        for field in ["discount.amount", "min_order_amount"] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
        let valid = CampaignTerms {
            name: "  Spring 10% ",
            ..terms(now)
        }
        .validate(now)
        .unwrap();
        assert_eq!(
            (valid.name.as_str(), valid.per_user_limit),
            ("Spring 10%", 1)
        );
    }

    #[test]
    fn an_available_coupon_past_its_validity_shows_as_expired() {
        let until = Utc::now();
        let micro = Duration::microseconds(1);
        assert_eq!(
            CouponStatus::Available.shown(until, until - micro),
            CouponStatus::Available
        );
        assert_eq!(
            CouponStatus::Available.shown(until, until),
            CouponStatus::Expired
        );
        assert_eq!(CouponStatus::Used.shown(until, until), CouponStatus::Used);
        for status in CouponStatus::ALL {
            assert_eq!(status.as_str().parse::<CouponStatus>(), Ok(status));
        }
    }
}
