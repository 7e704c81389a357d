//! What a buyer pays for an order: the lines' sum, less a coupon's discount on the lines its
//! scope covers, less the points spent.

use uuid::Uuid;

use crate::coupon::{CouponScope, Discount};
use crate::money::{MAX_ORDER_TOTAL, Won};

/// One line of an order being priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricedLine {
    pub product_id: Uuid,
    pub seller_id: Uuid,
    /// Unit price times quantity.
    pub amount: Won,
}

/// A coupon's terms, as checkout applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CouponTerms {
    pub discount: Discount,
    /// The least the covered lines must come to for the coupon to apply.
    pub min_order_amount: Won,
    pub scope: CouponScope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    /// The lines' sum.
    pub subtotal: Won,
    /// What the coupon takes off.
    pub discount: Won,
    /// Points spent, one won each.
    pub points: Won,
    /// What is charged: `subtotal - discount - points`, never below 0.
    pub total: Won,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceError {
    /// The lines come to more than [`MAX_ORDER_TOTAL`] (or more than an `i64` holds).
    TooLarge,
    /// The coupon's scope covers none of the lines.
    NotApplicable,
    /// The covered lines come to less than the coupon's minimum.
    BelowMinimum {
        minimum: Won,
        covered: Won,
    },
    NegativePoints,
    /// More points than the buyer has.
    PointsExceedBalance {
        balance: Won,
    },
    /// More points than the total left after the coupon.
    PointsExceedTotal {
        payable: Won,
    },
}

/// The sum of `lines`, if at most [`MAX_ORDER_TOTAL`].
pub fn subtotal(lines: &[PricedLine]) -> Result<Won, PriceError> {
    Won::checked_sum(lines.iter().map(|line| line.amount))
        .filter(|sum| *sum <= MAX_ORDER_TOTAL)
        .ok_or(PriceError::TooLarge)
}

/// Prices `lines` with an optional coupon and `points` to spend out of `balance`. The discount
/// is rounded down to the won and capped (see [`Discount::off`]) on the covered lines' amount;
/// points may pay at most what the coupon left, so the total never goes below 0.
pub fn price(
    lines: &[PricedLine],
    coupon: Option<&CouponTerms>,
    points: Won,
    balance: Won,
) -> Result<Price, PriceError> {
    let subtotal = subtotal(lines)?;
    let discount = match coupon {
        None => Won::ZERO,
        Some(terms) => {
            let covered: Vec<PricedLine> = lines
                .iter()
                .filter(|line| terms.scope.covers(line.product_id, line.seller_id))
                .copied()
                .collect();
            if covered.is_empty() {
                return Err(PriceError::NotApplicable);
            }
            // Part of the subtotal, so within it.
            let covered = self::subtotal(&covered)?;
            if covered < terms.min_order_amount {
                return Err(PriceError::BelowMinimum {
                    minimum: terms.min_order_amount,
                    covered,
                });
            }
            terms.discount.off(covered)
        }
    };
    // The discount is at most the covered part of the subtotal, so this stays in 0..=subtotal.
    let payable = subtotal.checked_sub(discount).ok_or(PriceError::TooLarge)?;
    if points < Won::ZERO {
        return Err(PriceError::NegativePoints);
    }
    if points > balance {
        return Err(PriceError::PointsExceedBalance { balance });
    }
    if points > payable {
        return Err(PriceError::PointsExceedTotal { payable });
    }
    Ok(Price {
        subtotal,
        discount,
        points,
        total: payable.checked_sub(points).ok_or(PriceError::TooLarge)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product_id: Uuid, seller_id: Uuid, amount: i64) -> PricedLine {
        PricedLine {
            product_id,
            seller_id,
            amount: Won::new(amount),
        }
    }

    fn terms(discount: Discount, min_order_amount: i64, scope: CouponScope) -> CouponTerms {
        CouponTerms {
            discount,
            min_order_amount: Won::new(min_order_amount),
            scope,
        }
    }

    #[test]
    fn every_discount_kind_with_the_cap_the_minimum_rounding_and_points() {
        let (shoes, bag) = (Uuid::now_v7(), Uuid::now_v7());
        let (seller, other_seller) = (Uuid::now_v7(), Uuid::now_v7());
        let fixed = |amount| Discount::Fixed {
            amount: Won::new(amount),
        };
        let percent = |percent, max_amount| Discount::Percent {
            percent,
            max_amount: Won::new(max_amount),
        };
        let store = CouponScope::Store;
        let of_seller = CouponScope::Seller { seller_id: seller };
        let of_bag = CouponScope::Product { product_id: bag };
        let one = vec![line(shoes, seller, 99_000)];
        let two = vec![line(shoes, seller, 99_000), line(bag, other_seller, 40_000)];

        struct Case {
            name: &'static str,
            lines: Vec<PricedLine>,
            coupon: Option<CouponTerms>,
            points: i64,
            balance: i64,
            expected: Result<(i64, i64, i64, i64), PriceError>,
        }
        let case = |name, lines: &Vec<PricedLine>, coupon, points, balance, expected| Case {
            name,
            lines: lines.clone(),
            coupon,
            points,
            balance,
            expected,
        };
        use PriceError::*;
        let cases = [
            case(
                "no coupon, no points",
                &one,
                None,
                0,
                0,
                Ok((99_000, 0, 0, 99_000)),
            ),
            case(
                "fixed",
                &one,
                Some(terms(fixed(5_000), 0, store)),
                0,
                0,
                Ok((99_000, 5_000, 0, 94_000)),
            ),
            case(
                "fixed larger than the order: the total stops at 0",
                &one,
                Some(terms(fixed(150_000), 0, store)),
                0,
                0,
                Ok((99_000, 99_000, 0, 0)),
            ),
            case(
                "percent under its cap",
                &one,
                Some(terms(percent(10, 20_000), 0, store)),
                0,
                0,
                Ok((99_000, 9_900, 0, 89_100)),
            ),
            case(
                "percent capped",
                &one,
                Some(terms(percent(10, 5_000), 0, store)),
                0,
                0,
                Ok((99_000, 5_000, 0, 94_000)),
            ),
            case(
                "percent rounded down to the won",
                &vec![line(shoes, seller, 12_345)],
                Some(terms(percent(15, 100_000), 0, store)),
                0,
                0,
                Ok((12_345, 1_851, 0, 10_494)),
            ),
            case(
                "minimum met exactly",
                &one,
                Some(terms(fixed(5_000), 99_000, store)),
                0,
                0,
                Ok((99_000, 5_000, 0, 94_000)),
            ),
            case(
                "minimum not met",
                &one,
                Some(terms(fixed(5_000), 99_001, store)),
                0,
                0,
                Err(BelowMinimum {
                    minimum: Won::new(99_001),
                    covered: Won::new(99_000),
                }),
            ),
            case(
                "seller scope covers only that seller's lines",
                &two,
                Some(terms(percent(10, 100_000), 0, of_seller)),
                0,
                0,
                Ok((139_000, 9_900, 0, 129_100)),
            ),
            case(
                "product scope covers only that product",
                &two,
                Some(terms(percent(50, 100_000), 0, of_bag)),
                0,
                0,
                Ok((139_000, 20_000, 0, 119_000)),
            ),
            case(
                "the minimum counts only covered lines",
                &two,
                Some(terms(fixed(1_000), 50_000, of_bag)),
                0,
                0,
                Err(BelowMinimum {
                    minimum: Won::new(50_000),
                    covered: Won::new(40_000),
                }),
            ),
            case(
                "a scope covering nothing",
                &one,
                Some(terms(fixed(1_000), 0, of_bag)),
                0,
                0,
                Err(NotApplicable),
            ),
            case(
                "points alone",
                &one,
                None,
                9_000,
                10_000,
                Ok((99_000, 0, 9_000, 90_000)),
            ),
            case(
                "the whole balance",
                &one,
                None,
                10_000,
                10_000,
                Ok((99_000, 0, 10_000, 89_000)),
            ),
            case(
                "more points than the balance",
                &one,
                None,
                10_001,
                10_000,
                Err(PointsExceedBalance {
                    balance: Won::new(10_000),
                }),
            ),
            case(
                "negative points",
                &one,
                None,
                -1,
                10_000,
                Err(NegativePoints),
            ),
            case(
                "a coupon and points together",
                &one,
                Some(terms(percent(10, 5_000), 0, store)),
                4_000,
                100_000,
                Ok((99_000, 5_000, 4_000, 90_000)),
            ),
            case(
                "points paying all the coupon left",
                &one,
                Some(terms(fixed(9_000), 0, store)),
                90_000,
                100_000,
                Ok((99_000, 9_000, 90_000, 0)),
            ),
            case(
                "points beyond what the coupon left",
                &one,
                Some(terms(fixed(9_000), 0, store)),
                90_001,
                100_000,
                Err(PointsExceedTotal {
                    payable: Won::new(90_000),
                }),
            ),
        ];
        for case in cases {
            let priced = price(
                &case.lines,
                case.coupon.as_ref(),
                Won::new(case.points),
                Won::new(case.balance),
            )
            .map(|p| {
                (
                    p.subtotal.get(),
                    p.discount.get(),
                    p.points.get(),
                    p.total.get(),
                )
            });
            assert_eq!(priced, case.expected, "{}", case.name);
        }
    }

    #[test]
    fn lines_beyond_the_order_bound_are_too_large_not_wrapped() {
        let (product, seller) = (Uuid::now_v7(), Uuid::now_v7());
        let full = line(product, seller, MAX_ORDER_TOTAL.get());
        assert_eq!(
            price(&[full], None, Won::ZERO, Won::ZERO).map(|p| p.total),
            Ok(MAX_ORDER_TOTAL)
        );
        let over = [full, line(product, seller, 1)];
        assert_eq!(
            price(&over, None, Won::ZERO, Won::ZERO),
            Err(PriceError::TooLarge)
        );
        let wrapping = [line(product, seller, i64::MAX), line(product, seller, 2)];
        assert_eq!(subtotal(&wrapping), Err(PriceError::TooLarge));
    }
}
