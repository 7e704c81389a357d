//! Settlements: per seller and business day, what the seller is owed for the orders of theirs
//! that completed that day, written by one set-based run and never rewritten.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rushline_domain::{FeeRate, Won};
use uuid::Uuid;

use crate::{DbError, NewJob};

/// One run over one business day.
#[derive(Debug, Clone)]
pub struct SettlementRun {
    pub day: NaiveDate,
    /// Consecutive windows `[start, end)` that together make the day, in UTC: each is one
    /// statement of the run's transaction, and `settle` reports progress after each.
    pub windows: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Only this seller's orders, when set.
    pub seller: Option<Uuid>,
    pub platform_fee: FeeRate,
    pub payment_fee: FeeRate,
    pub at: DateTime<Utc>,
    /// Computes everything, then rolls back.
    pub dry_run: bool,
    /// The job telling a seller of each settlement written, enqueued in the run's transaction.
    pub notice: fn(&Settlement) -> NewJob,
}

/// A seller's settlement of one day: revision 1 is the day's first run, each later revision a
/// correction holding only the orders of that day settled after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub id: i64,
    pub seller_id: Uuid,
    pub business_day: NaiveDate,
    pub revision: i32,
    pub orders: i64,
    pub gross: Won,
    pub seller_discount: Won,
    pub platform_discount: Won,
    pub points: Won,
    pub platform_fee: Won,
    pub payment_fee: Won,
    pub net: Won,
    pub platform_fee_ppm: i64,
    pub payment_fee_ppm: i64,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
}

/// A seller's part of one order in a settlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementLine {
    pub order_id: Uuid,
    pub revision: i32,
    pub completed_at: DateTime<Utc>,
    pub gross: Won,
    pub seller_discount: Won,
    pub platform_discount: Won,
    pub points: Won,
    pub platform_fee: Won,
    pub payment_fee: Won,
    pub net: Won,
}

/// A settlement's place in listings, which run by day, seller and revision.
pub type SettlementKey = (NaiveDate, Uuid, i32);

#[derive(Debug, Clone, Default)]
pub struct SettlementFilter {
    pub seller: Option<Uuid>,
    /// Days from `from` to `to`, both included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub after: Option<SettlementKey>,
    pub limit: u32,
}

#[async_trait]
pub trait SettlementStore: Send + Sync {
    /// Settles, in one transaction, every order completed within the run's windows (of the run's
    /// seller, if any) that has no settlement line yet for its seller: one line per order and
    /// seller, then per seller a settlement summing them, at the revision after the seller's
    /// latest of the day. A rerun with nothing new writes nothing. Calls `progress` with the lines
    /// written so far after each window. Returns the settlements written (or, dry, that would be).
    async fn settle(
        &self,
        run: &SettlementRun,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<Vec<Settlement>, DbError>;

    /// Settlements by day, seller and revision.
    async fn list_settlements(&self, filter: &SettlementFilter)
    -> Result<Vec<Settlement>, DbError>;

    async fn settlement(&self, id: i64) -> Result<Settlement, DbError>;

    /// The lines of `seller`'s settlements of `day`, by revision and order, after `after`.
    async fn settlement_lines(
        &self,
        seller: Uuid,
        day: NaiveDate,
        after: Option<(i32, Uuid)>,
        limit: u32,
    ) -> Result<Vec<SettlementLine>, DbError>;

    /// Records the payout of settlement `id`; `Conflict { constraint: SETTLEMENT_PAID }` when it
    /// was paid already.
    async fn mark_settlement_paid(&self, id: i64, at: DateTime<Utc>)
    -> Result<Settlement, DbError>;
}

/// The conflict `mark_settlement_paid` reports for a settlement paid already.
pub const SETTLEMENT_PAID: &str = "settlement_paid";
/// The conflict of two runs of one day at once that both wrote a seller's next revision: the
/// second rolls back whole, to be run again.
pub const SETTLEMENTS_REVISION_KEY: &str = "settlements_revision_key";
