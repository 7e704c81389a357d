//! The gate's view of the database: what it rebuilds a pool from.

use std::sync::Arc;

use async_trait::async_trait;
use rushline_gate::{GateError, Hold, PoolKey, PoolSnapshot, PoolSource};
use rushline_store::{DbError, Store};

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
