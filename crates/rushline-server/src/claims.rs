//! The hot path's machinery shared by every kind of pool (drops, regular stock, coupons): the
//! gate's view of the database, the group-commit writer, and request fingerprints.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use dashmap::DashMap;
use rushline_gate::{
    Claim, ClaimOutcome, Gate, GateError, Hold, PoolKey, PoolSnapshot, PoolSource,
};
use rushline_store::{ClaimWrite, CommitOutcome, DbError, Store};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::ApiError;

/// The most writes one batch commits: bounded by the bind parameters one SQLite statement takes.
const MAX_BATCH: usize = 512;

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
}

impl Claims {
    pub fn new(gate: Arc<dyn Gate>, store: Arc<dyn Store>, orphan_after: TimeDelta) -> Self {
        Self {
            gate,
            writer: ClaimWriter::start(store),
            rebuilt: DashMap::new(),
            orphan_after,
        }
    }

    /// Brings the gate back in line with the database, the truth: grants the database does not
    /// hold (their node died between grant and commit, or a release never reached the gate) are
    /// undone once older than `orphan_after`, and a pool missing claims the database holds is
    /// rebuilt. Returns how many grants it undid and how many pools it rebuilt.
    pub async fn reconcile(
        &self,
        store: &Arc<dyn Store>,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize), ApiError> {
        let cutoff = (now - self.orphan_after).timestamp_micros();
        let (mut undone, mut rebuilt) = (0, 0);
        for pool in self.gate.pools().await? {
            // The gate first: a grant made after this read cannot look like an orphan below.
            let in_gate = self.gate.grants(&pool).await?;
            let in_db = match store.pool_snapshot(&pool.0).await {
                Ok((_, claims)) => claims,
                Err(DbError::NotFound) => {
                    self.gate.invalidate(&pool).await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let held: HashSet<Uuid> = in_db.iter().map(|claim| claim.id).collect();
            for grant in in_gate
                .iter()
                .filter(|g| g.at < cutoff && !held.contains(&g.request_id))
            {
                if self.gate.abort(&pool, grant.request_id).await? {
                    tracing::warn!(pool = %pool.0, request = %grant.request_id, "undid a grant the database never recorded");
                    undone += 1;
                }
            }
            let granted: HashSet<Uuid> = in_gate.iter().map(|g| g.request_id).collect();
            let missing = in_db.iter().any(|claim| {
                claim.claimed_at.timestamp_micros() < cutoff && !granted.contains(&claim.id)
            });
            if missing {
                tracing::warn!(pool = %pool.0, "the gate lacks claims the database holds; rebuilding it");
                self.gate.invalidate(&pool).await?;
                rebuilt += 1;
            }
        }
        metrics::counter!("rushline_gate_reconciled_total", "action" => "undo")
            .increment(undone as u64);
        metrics::counter!("rushline_gate_reconciled_total", "action" => "rebuild")
            .increment(rebuilt as u64);
        Ok((undone, rebuilt))
    }

    /// One atomic step in the gate; `kind` labels the metric (`drop`, `product`, `coupon`).
    pub async fn claim(
        &self,
        kind: &'static str,
        pool: &PoolKey,
        claim: &Claim,
    ) -> Result<ClaimOutcome, ApiError> {
        let outcome = self.gate.claim(pool, claim).await?;
        let name = match outcome {
            ClaimOutcome::Granted { .. } => "granted",
            ClaimOutcome::Replayed { .. } => "replayed",
            ClaimOutcome::Mismatch => "mismatch",
            ClaimOutcome::SoldOut => "sold_out",
            ClaimOutcome::LimitReached => "limit_reached",
        };
        metrics::counter!("rushline_claims_total", "pool" => kind, "outcome" => name).increment(1);
        Ok(outcome)
    }

    /// Makes a granted write durable. Unless it committed, its grants are undone in the gate,
    /// which must not keep stock that no order holds; when the database refused a grant, the
    /// gate's copy of the pool is stale and is rebuilt.
    pub async fn commit(&self, write: ClaimWrite) -> Result<CommitOutcome, ApiError> {
        let grants: Vec<(PoolKey, Uuid)> = write
            .claims()
            .map(|claim| (PoolKey(claim.pool_key.clone()), claim.id))
            .collect();
        let committed = self.writer.commit(write).await;
        if matches!(committed, Ok(CommitOutcome::Committed)) {
            return Ok(CommitOutcome::Committed);
        }
        for (pool, id) in &grants {
            self.undo(pool, *id).await;
        }
        let outcome = committed?;
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

/// What a retried request's first attempt created (its order, its coupon), once durable:
/// `fetch` reads it, and that attempt may still be in its group commit, a few milliseconds away.
/// 409 `request_in_progress` if it does not appear within a second.
pub async fn first_attempt<T, F>(mut fetch: impl FnMut() -> F) -> Result<T, ApiError>
where
    F: Future<Output = Result<T, DbError>>,
{
    for _ in 0..200 {
        match fetch().await {
            Ok(found) => return Ok(found),
            Err(DbError::NotFound) => tokio::time::sleep(Duration::from_millis(5)).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::request_in_progress())
}

/// Lets the gate (re)build a pool from the database, the truth.
pub struct StorePools(pub Arc<dyn Store>);

#[async_trait]
impl PoolSource for StorePools {
    async fn load_pool(&self, pool: &PoolKey) -> Result<Option<PoolSnapshot>, GateError> {
        let (pool, claims) = match self.0.pool_snapshot(&pool.0).await {
            Ok(found) => found,
            Err(DbError::NotFound) => return Ok(None),
            Err(e) => return Err(GateError::Source(e.to_string())),
        };
        let count =
            |n: i64| u64::try_from(n).map_err(|_| GateError::Source(format!("negative count {n}")));
        // The pool row and its claims are read one after the other: claims committed in
        // between carry seqs past the row's `last_seq`.
        let last_seq = claims
            .iter()
            .map(|claim| claim.seq)
            .fold(pool.last_seq, i64::max);
        Ok(Some(PoolSnapshot {
            total: count(pool.total)?,
            per_user_limit: u32::try_from(pool.per_user_limit).unwrap_or(u32::MAX),
            last_seq: count(last_seq)?,
            holds: claims
                .into_iter()
                .map(|claim| {
                    Ok(Hold {
                        request_id: claim.id,
                        user: claim.user_id,
                        qty: u32::try_from(claim.qty)
                            .map_err(|_| GateError::Source("negative qty".into()))?,
                        seq: count(claim.seq)?,
                        fingerprint: count(claim.fingerprint)?,
                    })
                })
                .collect::<Result<_, GateError>>()?,
        }))
    }
}

/// A stable 63-bit hash of what a request asks for, so that a reused idempotency key with a
/// different body is told apart from a retry. Stable across builds and nodes (SHA-256), and
/// non-negative so the database stores it as a plain BIGINT.
pub fn fingerprint(parts: &[&[u8]]) -> u64 {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    let digest = hash.finalize();
    u64::from_be_bytes(
        digest[..8]
            .try_into()
            .expect("a SHA-256 digest has 8 bytes"),
    ) >> 1
}

/// What a request creates; each kind names its ids apart from the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Creates {
    Order,
    Coupon,
    Payment,
    Drop,
    Campaign,
    Product,
}

/// The id of whatever a user's request creates, derived from the user, the kind and the
/// idempotency key: every retry of one request, on any node, names the same order (or coupon),
/// so the gate and the database both recognise it. The kind keeps one key used for an order and
/// for a coupon from naming one claim twice.
pub fn request_id(user: Uuid, creates: Creates, idempotency_key: &str) -> Uuid {
    let kind = match creates {
        Creates::Order => "order",
        Creates::Coupon => "coupon",
        Creates::Payment => "payment",
        Creates::Drop => "drop",
        Creates::Campaign => "campaign",
        Creates::Product => "product",
    };
    Uuid::new_v5(&user, format!("{kind}:{idempotency_key}").as_bytes())
}

struct Pending {
    write: ClaimWrite,
    reply: oneshot::Sender<Result<CommitOutcome, DbError>>,
}

/// The group-commit writer: one task per process that writes granted claims in batches, one
/// transaction per batch, and answers each waiting request only after its batch committed.
///
/// Batches form by themselves: while one batch commits, new grants queue, and the next batch
/// takes everything queued (up to [`MAX_BATCH`]). An idle writer commits a lone grant at once,
/// so batching never adds latency, and under load one fsync serves hundreds of orders.
#[derive(Clone)]
struct ClaimWriter {
    queue: mpsc::Sender<Pending>,
}

impl ClaimWriter {
    /// Starts the writer task; it stops once every handle is dropped and the queue is drained.
    fn start(store: Arc<dyn Store>) -> Self {
        let (queue, pending) = mpsc::channel(MAX_BATCH * 8);
        tokio::spawn(run(store, pending));
        Self { queue }
    }

    /// Makes `write` durable; returns once its batch has committed (or failed).
    async fn commit(&self, write: ClaimWrite) -> Result<CommitOutcome, DbError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending { write, reply })
            .await
            .map_err(|_| DbError::Unavailable("the group-commit writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| DbError::Unavailable("the group-commit writer has stopped".into()))?
    }
}

async fn run(store: Arc<dyn Store>, mut pending: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (writes, replies): (Vec<_>, Vec<_>) =
            batch.drain(..).map(|p| (p.write, p.reply)).unzip();
        let started = Instant::now();
        let committed = store.commit_claims(&writes).await;
        metrics::histogram!("rushline_group_commit_batch_size").record(writes.len() as f64);
        metrics::histogram!("rushline_group_commit_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        for (reply, outcome) in replies.into_iter().zip(committed) {
            if let Err(e) = &outcome {
                tracing::error!(error = %e, "a write of the group commit failed");
            }
            let _ = reply.send(outcome);
        }
    }
}

impl From<GateError> for ApiError {
    fn from(e: GateError) -> Self {
        match e {
            GateError::UnknownPool => ApiError::not_found(),
            GateError::Unavailable(cause) | GateError::Source(cause) => {
                tracing::error!(%cause, "claim gate failed");
                ApiError::unavailable(
                    "gate_unavailable",
                    "the stock gate is unavailable; retry later",
                )
                .with_retry_after(1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_separate_their_parts() {
        assert_eq!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"ab", b"c"]));
        assert_ne!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"a", b"bc"]));
        assert!(i64::try_from(fingerprint(&[b"anything"])).is_ok());
        // Pinned: nodes of different builds, and the claims they stored, must agree.
        assert_eq!(fingerprint(&[b"drop", b"1"]), 630_047_615_160_972_758);
    }

    #[test]
    fn request_ids_are_per_buyer_and_key() {
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let order = |user, key| request_id(user, Creates::Order, key);
        assert_eq!(order(alice, "k1"), order(alice, "k1"));
        assert_ne!(order(alice, "k1"), order(alice, "k2"));
        assert_ne!(order(alice, "k1"), order(bob, "k1"));
        // A key that spells another kind's name still names something else.
        assert_ne!(
            order(alice, "coupon:k1"),
            request_id(alice, Creates::Coupon, "k1")
        );
        assert_ne!(
            request_id(alice, Creates::Coupon, "order:k1"),
            order(alice, "order:k1")
        );
    }
}
