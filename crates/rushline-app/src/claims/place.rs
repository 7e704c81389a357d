//! Placing a claim: the one sequence every claim on limited stock goes through — claim in the
//! gate, build the rows, group commit, map the outcome, answer a retry with the first answer —
//! for a drop purchase, a cart checkout, a coupon claim and a trial application alike. What differs between them is
//! a [`Placement`].

use chrono::{DateTime, Utc};
use rushline_domain::Won;
use rushline_gate::{Claim, ClaimOutcome, PoolKey};
use rushline_store::{ClaimRow, ClaimWrite, CommitOutcome, NewOrder, NewOrderLine, Redemption};
use serde_json::json;
use smallvec::SmallVec;
use uuid::Uuid;

use crate::coupons::{coupon_unavailable, insufficient_points};
use crate::{App, AppError, ErrorCode};

/// Why the gate or the database refused a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    SoldOut,
    LimitReached,
}

/// One kind of claim: the pools it claims from, what it writes, how it answers.
pub(crate) trait Placement {
    /// What the request is answered with, the first time and on every retry.
    type Answer;
    /// The kind of pool, as the claims metric labels it: `drop`, `product`, `coupon`, `trial`.
    const POOL: &'static str;

    /// One claim per pool, in the order they are made.
    fn claims(&self) -> &[(PoolKey, Claim)];

    /// The answer to a refusal by the gate (of the claim at `line`) or, with `None`, by the
    /// database.
    fn refused(&self, refusal: Refusal, line: Option<usize>) -> AppError;

    /// Runs once every claim is granted, before the write; an error undoes the grants.
    async fn granted(&self, _app: &App) -> Result<(), AppError> {
        Ok(())
    }

    /// The rows that make the grants durable, given each claim's `seq`, in order. Called once,
    /// so it may move out what it writes.
    fn write(&mut self, seqs: &[u64]) -> ClaimWrite;

    /// The answer once the rows have committed.
    async fn committed(&self, app: &App, seqs: &[u64]) -> Result<Self::Answer, AppError>;

    /// The answer to a retry: what its first attempt created, once that is durable.
    async fn replay(&self, app: &App) -> Result<Self::Answer, AppError>;
}

/// Claims every pool of `placement` in the gate, all or none, then writes the grants through the
/// group commit and answers only once they are durable. A request the gate or the database
/// recognises as a retry is answered like its first attempt.
pub(crate) async fn place<P: Placement>(
    app: &App,
    placement: &mut P,
) -> Result<P::Answer, AppError> {
    // A purchase and a coupon claim have one claim, a checkout a few: no allocation for them.
    let mut seqs: SmallVec<[u64; 4]> = SmallVec::with_capacity(placement.claims().len());
    for (line, (pool, claim)) in placement.claims().iter().enumerate() {
        let outcome = app.claims.claim(P::POOL, pool, claim).await;
        let refusal = match outcome {
            Ok(ClaimOutcome::Granted { seq }) => {
                seqs.push(seq);
                continue;
            }
            Ok(ClaimOutcome::Replayed { .. }) => {
                undo(app, &placement.claims()[..line]).await;
                return placement.replay(app).await;
            }
            Ok(ClaimOutcome::Mismatch) => AppError::idempotency_mismatch(),
            Ok(ClaimOutcome::SoldOut) => placement.refused(Refusal::SoldOut, Some(line)),
            Ok(ClaimOutcome::LimitReached) => placement.refused(Refusal::LimitReached, Some(line)),
            Err(e) => e,
        };
        undo(app, &placement.claims()[..line]).await;
        return Err(refusal);
    }
    if let Err(e) = placement.granted(app).await {
        undo(app, placement.claims()).await;
        return Err(e);
    }
    match app.claims.commit(placement.write(&seqs)).await? {
        CommitOutcome::Committed => placement.committed(app, &seqs).await,
        CommitOutcome::Duplicate => placement.replay(app).await,
        CommitOutcome::SoldOut => Err(placement.refused(Refusal::SoldOut, None)),
        CommitOutcome::LimitReached => Err(placement.refused(Refusal::LimitReached, None)),
        CommitOutcome::CouponUnavailable => Err(coupon_unavailable()),
        CommitOutcome::InsufficientPoints => Err(insufficient_points()),
        CommitOutcome::TooManyPendingOrders => Err(too_many_pending_orders(app)),
        CommitOutcome::TrialBarred => Err(crate::trials::trial_barred(app)),
        CommitOutcome::TrialPaused => Err(crate::trials::paused()),
        // Only a raffle entry, which claims nothing, is refused with these.
        outcome @ (CommitOutcome::AlreadyEntered | CommitOutcome::EntriesClosed) => Err(
            AppError::internal(format!("a claim was refused with {outcome:?}")),
        ),
    }
}

/// Refuses a checkout (or a purchase behind a waiting room) to a buyer with as many unpaid
/// orders as one may have, before the gate
/// (without claiming stock it would give back); the group commit refuses those that raced past
/// this. Not a retry's concern: its order exists, and is answered first.
pub(crate) async fn check_pending_orders(app: &App, buyer: Uuid) -> Result<(), AppError> {
    let pending = app.store.pending_orders(buyer).await?;
    if pending >= i64::from(app.orders.max_pending_per_buyer) {
        return Err(too_many_pending_orders(app));
    }
    Ok(())
}

/// Refuses a purchase, on the hot path and so without a database read, to a buyer the group
/// commit has just refused for the cap on unpaid orders; any other is counted in the group
/// commit.
pub(crate) async fn check_recently_capped(app: &App, buyer: Uuid) -> Result<(), AppError> {
    if app.claims.recently_capped(buyer).await {
        return Err(too_many_pending_orders(app));
    }
    Ok(())
}

fn too_many_pending_orders(app: &App) -> AppError {
    AppError::new(
        ErrorCode::TooManyPendingOrders,
        "you have as many unpaid orders as one may have: pay or cancel one first",
    )
    .with_details(json!({ "max_pending": app.orders.max_pending_per_buyer }))
}

/// The row that makes a granted claim durable.
#[expect(
    clippy::expect_used,
    reason = "the gate grants at most a user's limit, an i32, and seqs and fingerprints below 2^63"
)]
pub(crate) fn claim_row(pool: &PoolKey, claim: &Claim, seq: u64, at: DateTime<Utc>) -> ClaimRow {
    ClaimRow {
        id: claim.request_id,
        pool_key: pool.0.clone(),
        user_id: claim.user,
        qty: i32::try_from(claim.qty).expect("claims are for an i32 of units"),
        seq: i64::try_from(seq).expect("seq fits in i64"),
        fingerprint: i64::try_from(claim.fingerprint).expect("fingerprints have 63 bits"),
        claimed_at: at,
        released_at: None,
    }
}

/// An order a purchase or a checkout writes, but for its lines, which carry the claims' seqs.
pub(crate) struct OrderDraft {
    pub id: Uuid,
    pub buyer: Uuid,
    /// The idempotency key, moved into the order when it is written.
    pub key: String,
    pub total: Won,
    pub redemption: Redemption,
    pub created_at: DateTime<Utc>,
    pub hold_expires_at: DateTime<Utc>,
    /// `purchase` or `checkout`, the cause of its first status.
    pub cause: &'static str,
    /// `app.orders.max_pending_per_buyer`, which the group commit holds the buyer to.
    pub max_pending: u32,
}

impl OrderDraft {
    /// The order with its `lines`, for [`Placement::write`], which is called once.
    pub(crate) fn write(&mut self, lines: Vec<NewOrderLine>) -> ClaimWrite {
        ClaimWrite::Order(NewOrder {
            id: self.id,
            buyer_id: self.buyer,
            idempotency_key: std::mem::take(&mut self.key),
            total: self.total,
            hold_expires_at: self.hold_expires_at,
            created_at: self.created_at,
            cause: self.cause,
            lines,
            redemption: self.redemption,
            max_pending: i64::from(self.max_pending),
        })
    }
}

/// Undoes the grants a request made before it was refused.
async fn undo(app: &App, granted: &[(PoolKey, Claim)]) {
    for (pool, claim) in granted {
        app.claims.undo(pool, claim.request_id).await;
    }
}
