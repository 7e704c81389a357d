//! The claims engine, shared by every kind of pool (drops, regular stock, coupons, trials): the gate
//! decides, the group-commit writer ([`writer`]) makes the decision durable, a decision the
//! database refuses is undone in the gate, and [`reconcile`] brings the two back in line.
//! [`place`] is the one way a request claims; [`request`] names what it creates, and
//! [`gate_source`] lets the gate rebuild a pool from the database.

mod gate_source;
pub(crate) mod place;
mod reconcile;
mod request;
mod writer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use dashmap::DashMap;
use moka::future::Cache;
use rushline_gate::{Claim, ClaimOutcome, Gate, PoolKey};
use rushline_store::{ClaimWrite, CommitOutcome, Store};
use tracing::Instrument;
use tracing::field::Empty;
use uuid::Uuid;

pub use gate_source::StorePools;
pub(crate) use request::first_attempt;
pub use request::{Creates, created_id, fingerprint, request_id};
use writer::ClaimWriter;

use crate::AppError;

/// A node rebuilds a pool the database contradicted at most this often: every grant in flight
/// while it rebuilds can be refused once more, and rebuilding on each refusal would keep the
/// pool's state from ever settling.
const REBUILD_AT_MOST_EVERY: Duration = Duration::from_millis(100);

/// The claim path of every pool: the gate decides, the group-commit writer makes the decision
/// durable, and a decision the database refuses is undone in the gate.
pub struct Claims {
    pub gate: Arc<dyn Gate>,
    writer: ClaimWriter,
    /// When this node last rebuilt each pool the database contradicted.
    rebuilt: DashMap<String, Instant>,
    /// A grant this old that the database does not hold was lost (its node died before the
    /// write); younger ones may still be in their group commit.
    orphan_after: TimeDelta,
    /// Buyers whose order the group commit just refused for their unpaid orders: refused at
    /// once for [`CAPPED_FOR`], so that one buyer repeating a purchase at the cap cannot make
    /// batch after batch fall back to one transaction per write.
    capped: Cache<Uuid, ()>,
}

/// How long a node refuses, without a claim, a buyer the group commit refused for the cap on
/// unpaid orders. A buyer who pays an order meanwhile on another node waits at most this long.
const CAPPED_FOR: Duration = Duration::from_secs(1);

impl Claims {
    pub fn new(gate: Arc<dyn Gate>, store: Arc<dyn Store>, orphan_after: TimeDelta) -> Self {
        Self {
            gate,
            writer: ClaimWriter::start(store),
            rebuilt: DashMap::new(),
            orphan_after,
            capped: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(CAPPED_FOR)
                .build(),
        }
    }

    /// Waits until every grant handed to the group-commit writer so far is committed or failed.
    pub async fn flush(&self) {
        self.writer.flush().await;
    }

    /// One atomic step in the gate; `kind` labels the metric (`drop`, `product`, `coupon`).
    pub async fn claim(
        &self,
        kind: &'static str,
        pool: &PoolKey,
        claim: &Claim,
    ) -> Result<ClaimOutcome, AppError> {
        let span = tracing::debug_span!("gate.claim", pool = kind, outcome = Empty);
        let outcome = self
            .gate
            .claim(pool, claim)
            .instrument(span.clone())
            .await?;
        let name = match outcome {
            ClaimOutcome::Granted { .. } => "granted",
            ClaimOutcome::Replayed { .. } => "replayed",
            ClaimOutcome::Mismatch => "mismatch",
            ClaimOutcome::SoldOut => "sold_out",
            ClaimOutcome::LimitReached => "limit_reached",
        };
        span.record("outcome", name);
        metrics::counter!("rushline_claims_total", "pool" => kind, "outcome" => name).increment(1);
        Ok(outcome)
    }

    /// Makes a granted write durable. Unless it committed, its grants are undone in the gate,
    /// which must not keep stock that no order holds; when the database refused a grant, the
    /// gate's copy of the pool is stale and is rebuilt.
    pub async fn commit(&self, write: ClaimWrite) -> Result<CommitOutcome, AppError> {
        let grants: Vec<(PoolKey, Uuid)> = write
            .claims()
            .map(|claim| (PoolKey(claim.pool_key.clone()), claim.id))
            .collect();
        let grants_buyer = match &write {
            ClaimWrite::Order(order) => Some(order.buyer_id),
            ClaimWrite::Coupon(_) | ClaimWrite::Application(_) | ClaimWrite::Entry(_) => None,
        };
        let span = tracing::debug_span!("group_commit", outcome = Empty);
        let committed = self
            .writer
            .commit(write, span.clone())
            .instrument(span.clone())
            .await;
        if let Ok(outcome) = &committed {
            span.record("outcome", tracing::field::debug(outcome));
        }
        if matches!(committed, Ok(CommitOutcome::Committed)) {
            return Ok(CommitOutcome::Committed);
        }
        for (pool, id) in &grants {
            self.undo(pool, *id).await;
        }
        let outcome = committed?;
        if outcome == CommitOutcome::TooManyPendingOrders
            && let Some(buyer) = grants_buyer
        {
            self.capped.insert(buyer, ()).await;
        }
        if matches!(
            outcome,
            CommitOutcome::SoldOut | CommitOutcome::LimitReached
        ) {
            for (pool, _) in &grants {
                self.rebuild(pool).await;
            }
        }
        Ok(outcome)
    }

    /// Whether the group commit refused an order of `buyer` for the cap on unpaid orders within
    /// the last [`CAPPED_FOR`].
    pub(crate) async fn recently_capped(&self, buyer: Uuid) -> bool {
        self.capped.contains_key(&buyer)
    }

    /// Forgets that `buyer` was refused for the cap: one of their orders was paid or left
    /// `pending_payment` otherwise, here (other nodes forget within [`CAPPED_FOR`]).
    pub(crate) async fn no_longer_capped(&self, buyer: Uuid) {
        self.capped.invalidate(&buyer).await;
    }

    /// Undoes a grant that no order holds. Should the gate be out of reach, the caller's answer
    /// stands and reconciliation undoes the grant once it is older than `gate.orphan_after`.
    pub async fn undo(&self, pool: &PoolKey, id: Uuid) {
        if let Err(e) = self.gate.abort(pool, id).await {
            tracing::warn!(pool = %pool.0, request = %id, error = %e, "could not undo a grant; reconciliation will");
        }
    }

    /// Rebuilds a pool the database contradicted, at most every [`REBUILD_AT_MOST_EVERY`]; should
    /// the gate be out of reach, reconciliation rebuilds it.
    async fn rebuild(&self, pool: &PoolKey) {
        let now = Instant::now();
        let mut due = false;
        self.rebuilt
            .entry(pool.0.clone())
            .and_modify(|last| {
                if now.duration_since(*last) >= REBUILD_AT_MOST_EVERY {
                    *last = now;
                    due = true;
                }
            })
            .or_insert_with(|| {
                due = true;
                now
            });
        if due {
            tracing::warn!(pool = %pool.0, "the database refused a grant; rebuilding the gate's pool");
            if let Err(e) = self.gate.invalidate(pool).await {
                tracing::warn!(pool = %pool.0, error = %e, "could not rebuild a pool; reconciliation will");
            }
        }
    }
}
