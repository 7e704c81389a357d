//! Pools of limited stock and the claims on them: the durable side of the claim gate.
//!
//! The gate decides fast; these rows decide for good. Every batch the group-commit writer
//! commits re-checks the pool's total and each buyer's limit here, in the same transaction that
//! writes the orders, so that a gate which lost its memory (a flushed Redis, two nodes racing to
//! rebuild) may undersell for a moment but can never make the database oversell.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::DbError;
use crate::coupons::NewCoupon;
use crate::orders::NewOrder;
use crate::raffles::NewEntry;
use crate::trials::NewApplication;

/// `pools.per_user_limit` for pools without a per-user limit (regular stock).
pub const NO_USER_LIMIT: i64 = u32::MAX as i64;

#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    /// `drop:<id>`, `product:<id>`, `coupon:<id>`.
    pub key: String,
    pub total: i64,
    pub per_user_limit: i64,
    /// Units held by active (unreleased) claims.
    pub held: i64,
    /// The highest `seq` ever committed.
    pub last_seq: i64,
}

/// One grant of the gate, as written with the order (or coupon) it paid for.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRow {
    /// The gate's request id.
    pub id: Uuid,
    pub pool_key: String,
    pub user_id: Uuid,
    pub qty: i32,
    pub seq: i64,
    pub fingerprint: i64,
    pub claimed_at: DateTime<Utc>,
    pub released_at: Option<DateTime<Utc>>,
}

/// What the group-commit writer makes durable for one granted request.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimWrite {
    Order(NewOrder),
    /// A coupon claimed from a campaign's pool.
    Coupon(NewCoupon),
    /// A tester selected for a slot of a trial's pool.
    Application(NewApplication),
    /// An entry to a raffle: no claim, no stock; written in batches like the rest.
    Entry(NewEntry),
}

impl ClaimWrite {
    pub fn claims(&self) -> impl Iterator<Item = &ClaimRow> {
        let (lines, single) = match self {
            ClaimWrite::Order(order) => (order.lines.as_slice(), None),
            ClaimWrite::Coupon(coupon) => (&[][..], Some(&coupon.claim)),
            ClaimWrite::Application(application) => (&[][..], Some(&application.claim)),
            ClaimWrite::Entry(_) => (&[][..], None),
        };
        lines.iter().map(|line| &line.claim).chain(single)
    }
}

/// How the database answered one write of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    Committed,
    /// The write (its order id, i.e. its idempotency key) was already committed: a replay.
    Duplicate,
    /// The pool's total would be exceeded: the gate granted what the database cannot honour.
    SoldOut,
    /// The buyer's per-user limit would be exceeded.
    LimitReached,
    /// The order's coupon is not the buyer's, not `available`, or not valid when the order is
    /// created: another order took it meanwhile.
    CouponUnavailable,
    /// The order spends more points than the buyer's balance holds: another order spent them
    /// meanwhile.
    InsufficientPoints,
    /// The buyer would have more orders awaiting payment than the order's
    /// [`NewOrder::max_pending`](crate::NewOrder::max_pending).
    TooManyPendingOrders,
    /// The applicant's review of another trial went overdue within the bar (see
    /// [`NewApplication::barred_if_overdue_after`](crate::NewApplication)).
    TrialBarred,
    /// The trial was paused before the batch committed.
    TrialPaused,
    /// The buyer has an entry in the raffle already, under another idempotency key.
    AlreadyEntered,
    /// The raffle closed to entries (its draw began) before the batch committed.
    EntriesClosed,
}

#[async_trait]
pub trait ClaimStore: Send + Sync {
    /// A pool and its active claims, from which the gate rebuilds its state.
    async fn pool_snapshot(&self, key: &str) -> Result<(Pool, Vec<ClaimRow>), DbError>;

    /// Commits `writes` in one transaction when every pool total, per-user limit, coupon
    /// reservation, points balance, cap on a buyer's unpaid orders and trial rule holds; otherwise rolls it back and says what was refused.
    async fn commit_together(
        &self,
        writes: &[ClaimWrite],
    ) -> Result<Result<(), CommitOutcome>, DbError>;

    /// Makes a batch of granted writes durable, in one transaction when they all can be;
    /// otherwise falls back to one write at a time, so that only the writes that break an
    /// invariant are refused and one write's error fails that write alone. Answers one result
    /// per write, in order.
    async fn commit_claims(&self, writes: &[ClaimWrite]) -> Vec<Result<CommitOutcome, DbError>> {
        match self.commit_together(writes).await {
            Ok(Ok(())) => vec![Ok(CommitOutcome::Committed); writes.len()],
            // Some write breaks an invariant or a constraint, or the batch lost a deadlock: decide
            // one transaction per write, so that the others are decided (and committed ones
            // answered) regardless.
            Ok(Err(_)) | Err(_) => {
                let mut outcomes: Vec<Result<CommitOutcome, DbError>> =
                    Vec::with_capacity(writes.len());
                for write in writes {
                    let outcome = match outcomes.last() {
                        // Unreachable: the rest would each wait for it in vain.
                        Some(Err(e @ DbError::Unavailable(_))) => Err(e.clone()),
                        _ => self
                            .commit_together(std::slice::from_ref(write))
                            .await
                            .map(|written| written.err().unwrap_or(CommitOutcome::Committed)),
                    };
                    outcomes.push(outcome);
                }
                outcomes
            }
        }
    }
}
