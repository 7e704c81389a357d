//! Seller statistics kept as rows per seller and business day, rolled up by the daily job, so
//! that reading a year of them reads 365 rows, never the orders; and a row per ended drop, so
//! that reading its sale never reads its claims.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rushline_domain::Won;
use uuid::Uuid;

use crate::DbError;

/// One seller's business day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SellerDay {
    pub day: NaiveDate,
    /// Orders placed that day with a line of the seller's (expired holds left out).
    pub orders: i64,
    pub units: i64,
    /// The seller's lines of those orders at their prices.
    pub gross: Won,
    /// What the day's settlements (every revision) owe the seller.
    pub net: Won,
    /// Of the orders placed that day, those cancelled since.
    pub cancelled: i64,
    /// Orders returned that day.
    pub returned: i64,
}

/// A drop's sale as it ended, rolled up once from its claims after the drop closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropSale {
    pub drop_id: Uuid,
    /// Units held by orders at the roll-up.
    pub units_sold: i64,
    /// When the last of those units was granted.
    pub last_grant_at: Option<DateTime<Utc>>,
    /// The most of those units' claims granted within one second.
    pub peak_per_second: i64,
    /// The drop's waiting room; `None` without one, or when the room kept no record of it.
    pub room: Option<RoomFigures>,
}

/// A waiting room's figures as a drop's sale ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomFigures {
    /// The most places in line at once, the pre-queue included.
    pub peak_waiting: i64,
    pub admitted: i64,
    /// Admitted buyers who bought (passes used).
    pub used: i64,
    /// The lower median wait from entering the line to admission, in whole seconds; `None`
    /// when nobody was admitted.
    pub median_wait_seconds: Option<i64>,
}

/// A product of the seller's and its visible reviews.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRating {
    pub product_id: Uuid,
    pub name: String,
    pub reviews: i64,
    pub rating_sum: i64,
}

#[async_trait]
pub trait StatsStore: Send + Sync {
    /// Rolls up business day `day` (`[start, end)` in UTC) for every seller, replacing the
    /// day's rows; returns the rows written.
    async fn roll_up_seller_days(
        &self,
        day: NaiveDate,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<u64, DbError>;

    /// The seller's rolled-up days from `from` to `to` (both included), oldest first, each with
    /// its settlements' net; a day with a settlement but no row yet has zeros beside its net.
    async fn seller_days(
        &self,
        seller: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SellerDay>, DbError>;

    /// The seller's products that have reviews, with their counters.
    async fn product_ratings(&self, seller: Uuid) -> Result<Vec<ProductRating>, DbError>;

    /// Records a drop's sale once: a drop's first roll-up stands.
    async fn record_drop_sale(&self, sale: &DropSale, at: DateTime<Utc>) -> Result<(), DbError>;

    /// The rolled-up sales of those of `drops` that have one, in no particular order.
    async fn drop_sales(&self, drops: &[Uuid]) -> Result<Vec<DropSale>, DbError>;
}
