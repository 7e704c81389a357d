//! Money: whole won in an `i64`, with arithmetic that says when it would overflow instead of
//! wrapping, and the bounds that keep every accepted order far from that.
//!
//! A price a client sets is at most [`MAX_PRICE`], a line at most [`MAX_LINE_QUANTITY`] units and
//! an order at most [`MAX_ORDER_LINES`] lines, so an order's lines come to at most
//! [`MAX_ORDER_TOTAL`]; a price stored before these bounds held is caught by the checked
//! multiplication instead.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount of won: a price, a subtotal, a discount, points (one won each) or a payment.
/// Serialised as the bare integer, and stored as a `BIGINT`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Won(i64);

/// The highest price a client may set: on a product, a drop, a time sale or a coupon's terms.
pub const MAX_PRICE: Won = Won(1_000_000_000_000);
/// The most units one order line may hold.
pub const MAX_LINE_QUANTITY: i64 = 1_000;
/// The most lines one order may have.
pub const MAX_ORDER_LINES: usize = 100;
/// The most an order's lines may come to. Every order within the bounds above does.
pub const MAX_ORDER_TOTAL: Won = Won(100_000_000_000_000_000);

const _: () = assert!(
    MAX_PRICE.0 * MAX_LINE_QUANTITY * MAX_ORDER_LINES as i64 <= MAX_ORDER_TOTAL.0,
    "an order within the bounds must be within MAX_ORDER_TOTAL"
);

impl Won {
    pub const ZERO: Won = Won(0);

    pub const fn new(won: i64) -> Self {
        Self(won)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Won) -> Option<Won> {
        self.0.checked_add(other.0).map(Won)
    }

    pub fn checked_sub(self, other: Won) -> Option<Won> {
        self.0.checked_sub(other.0).map(Won)
    }

    /// A unit price times a quantity.
    pub fn checked_mul(self, quantity: i64) -> Option<Won> {
        self.0.checked_mul(quantity).map(Won)
    }

    /// The sum of `amounts`, or `None` if it overflows.
    pub fn checked_sum(amounts: impl IntoIterator<Item = Won>) -> Option<Won> {
        amounts
            .into_iter()
            .try_fold(Won::ZERO, |sum, amount| sum.checked_add(amount))
    }

    /// `percent` of this amount, rounded down to the won. Computed in `i128`, so that no amount
    /// overflows; a share beyond `i64` (only possible above 100 %) is the largest amount.
    pub fn percent(self, percent: i64) -> Won {
        let share = i128::from(self.0) * i128::from(percent) / 100;
        Won(i64::try_from(share).unwrap_or(i64::MAX))
    }

    /// Whether a client may set this as a price of at least `least`: at most [`MAX_PRICE`].
    pub fn is_price_from(self, least: Won) -> bool {
        (least..=MAX_PRICE).contains(&self)
    }
}

impl fmt::Display for Won {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An integer in the OpenAPI document, as the `i64` it serialises to.
impl utoipa::PartialSchema for Won {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <i64 as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for Won {}

#[cfg(feature = "sqlx")]
mod sql {
    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::{Database, Decode, Encode, Type};

    use super::Won;

    /// A `BIGINT`, wherever an `i64` is one (SQLite's `INTEGER`, PostgreSQL's `INT8`).
    impl<DB: Database> Type<DB> for Won
    where
        i64: Type<DB>,
    {
        fn type_info() -> DB::TypeInfo {
            <i64 as Type<DB>>::type_info()
        }

        fn compatible(ty: &DB::TypeInfo) -> bool {
            <i64 as Type<DB>>::compatible(ty)
        }
    }

    impl<'q, DB: Database> Encode<'q, DB> for Won
    where
        i64: Encode<'q, DB>,
    {
        fn encode_by_ref(
            &self,
            buf: &mut <DB as Database>::ArgumentBuffer<'q>,
        ) -> Result<IsNull, BoxDynError> {
            self.0.encode_by_ref(buf)
        }

        fn size_hint(&self) -> usize {
            self.0.size_hint()
        }
    }

    impl<'r, DB: Database> Decode<'r, DB> for Won
    where
        i64: Decode<'r, DB>,
    {
        fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
            i64::decode(value).map(Won)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_is_checked_at_both_ends_of_i64() {
        let max = Won::new(i64::MAX);
        assert_eq!(Won::new(2).checked_add(Won::new(3)), Some(Won::new(5)));
        assert_eq!(max.checked_add(Won::new(1)), None);
        assert_eq!(Won::new(2).checked_sub(Won::new(3)), Some(Won::new(-1)));
        assert_eq!(Won::new(i64::MIN).checked_sub(Won::new(1)), None);
        assert_eq!(Won::new(99_000).checked_mul(3), Some(Won::new(297_000)));
        // The drop price that once wrapped to a subtotal of 4.
        assert_eq!(Won::new(4_611_686_018_427_387_905).checked_mul(4), None);
        assert_eq!(
            MAX_PRICE.checked_mul(MAX_LINE_QUANTITY),
            Some(Won::new(1_000_000_000_000_000))
        );
        assert_eq!(
            Won::checked_sum([Won::new(1), Won::new(2), Won::new(3)]),
            Some(Won::new(6))
        );
        assert_eq!(Won::checked_sum([]), Some(Won::ZERO));
        assert_eq!(Won::checked_sum([max, Won::new(1), Won::new(-1)]), None);
    }

    #[test]
    fn percentages_round_down_and_never_overflow() {
        assert_eq!(Won::new(12_345).percent(15), Won::new(1_851));
        assert_eq!(Won::new(1).percent(33), Won::ZERO);
        assert_eq!(Won::new(99_000).percent(100), Won::new(99_000));
        assert_eq!(Won::new(i64::MAX).percent(50), Won::new(i64::MAX / 2));
        assert_eq!(Won::new(i64::MAX).percent(200), Won::new(i64::MAX));
    }

    #[test]
    fn prices_are_bounded_and_serialise_as_integers() {
        assert!(MAX_PRICE.is_price_from(Won::new(1)));
        assert!(!Won::new(MAX_PRICE.get() + 1).is_price_from(Won::new(1)));
        assert!(!Won::ZERO.is_price_from(Won::new(1)));
        assert!(Won::ZERO.is_price_from(Won::ZERO));
        assert_eq!(serde_json::to_string(&Won::new(129_000)).unwrap(), "129000");
        assert_eq!(
            serde_json::from_str::<Won>("-5").unwrap(),
            Won::new(-5),
            "points spent may be negative in a ledger"
        );
        assert_eq!(Won::new(99_000).to_string(), "99000");
        let schema = serde_json::to_value(<Won as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(
            schema,
            serde_json::json!({"type": "integer", "format": "int64"})
        );
    }
}
