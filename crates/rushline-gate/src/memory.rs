use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use dashmap::{DashMap, Entry};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::{ActiveGrant, Claim, ClaimOutcome, Gate, GateError, PoolKey, PoolSnapshot, PoolSource};

/// The gate for a single process: per pool one atomic word, plus concurrent maps for the
/// per-user counts and the grants by request id. No global lock, and no lock is held across an
/// await. After a restart it rebuilds each pool from the [`PoolSource`] on first use.
pub struct MemoryGate {
    source: Arc<dyn PoolSource>,
    // A cell per pool so that concurrent first uses wait for one load instead of each reading
    // the database.
    pools: DashMap<PoolKey, Arc<OnceCell<Arc<Pool>>>>,
    /// The last seq each invalidated pool gave: grants still in flight from it may commit after
    /// the rebuild's snapshot was read, so the rebuilt pool continues after it.
    last_seqs: DashMap<PoolKey, u64>,
}

impl MemoryGate {
    pub fn new(source: Arc<dyn PoolSource>) -> Self {
        Self {
            source,
            pools: DashMap::new(),
            last_seqs: DashMap::new(),
        }
    }

    async fn pool(&self, key: &PoolKey) -> Result<Arc<Pool>, GateError> {
        loop {
            // A shard read lock on the hot path; the write lock and the key's clone only on
            // first use.
            let cell = self
                .pools
                .get(key)
                .map(|cell| Arc::clone(&cell))
                .unwrap_or_else(|| Arc::clone(&self.pools.entry(key.clone()).or_default()));
            // Loaded: should `invalidate` retire it from here on, its claims find out.
            if let Some(pool) = cell.get() {
                return Ok(Arc::clone(pool));
            }
            let pool = cell
                .get_or_try_init(|| async {
                    let mut snapshot = self
                        .source
                        .load_pool(key)
                        .await?
                        .ok_or(GateError::UnknownPool)?;
                    if let Some(given) = self.last_seqs.get(key) {
                        snapshot.last_seq = snapshot.last_seq.max(*given);
                    }
                    Pool::load(key, snapshot).map(Arc::new)
                })
                .await?;
            // Invalidated while it loaded, it never serves: it may miss seqs its successor must
            // count past.
            if self
                .pools
                .get(key)
                .is_some_and(|current| Arc::ptr_eq(&current, &cell))
            {
                return Ok(Arc::clone(pool));
            }
        }
    }

    /// Takes the pool serving `key` out of service (only if it is `pool`, when given): it grants
    /// no more, its last seq is kept for its successor, and the next use loads the successor.
    /// All of it under the shard's write lock, so no successor loads before the last seq is kept.
    fn retire(&self, key: &PoolKey, pool: Option<&Arc<Pool>>) {
        self.pools.remove_if(key, |_, cell| {
            let current = cell.get();
            if pool.is_some_and(|pool| !current.is_some_and(|c| Arc::ptr_eq(c, pool))) {
                return false;
            }
            if let Some(last_seq) = current.and_then(|c| c.retire()) {
                let mut given = self.last_seqs.entry(key.clone()).or_default();
                *given = (*given).max(last_seq);
            }
            true
        });
    }
}

#[async_trait]
impl Gate for MemoryGate {
    async fn claim(&self, pool: &PoolKey, claim: &Claim) -> Result<ClaimOutcome, GateError> {
        loop {
            let current = self.pool(pool).await?;
            match current.claim(claim) {
                Ok(outcome) => return Ok(outcome),
                // Invalidated between the lookup and the claim: claim from its successor.
                Err(Retired) => self.retire(pool, Some(&current)),
            }
        }
    }

    async fn release(&self, pool: &PoolKey, request_id: Uuid) -> Result<bool, GateError> {
        Ok(self.pool(pool).await?.release(request_id, false))
    }

    async fn abort(&self, pool: &PoolKey, request_id: Uuid) -> Result<bool, GateError> {
        Ok(self.pool(pool).await?.release(request_id, true))
    }

    async fn remaining(&self, pool: &PoolKey) -> Result<Option<u64>, GateError> {
        match self.pool(pool).await {
            Ok(pool) => Ok(Some(pool.remaining())),
            Err(GateError::UnknownPool) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn invalidate(&self, pool: &PoolKey) -> Result<(), GateError> {
        self.retire(pool, None);
        Ok(())
    }

    async fn pools(&self) -> Result<Vec<PoolKey>, GateError> {
        Ok(self
            .pools
            .iter()
            .filter(|cell| cell.value().initialized())
            .map(|cell| cell.key().clone())
            .collect())
    }

    async fn grants(&self, pool: &PoolKey) -> Result<Vec<ActiveGrant>, GateError> {
        let Some(pool) = self.pools.get(pool).and_then(|cell| cell.get().cloned()) else {
            return Ok(Vec::new());
        };
        Ok(pool
            .grants
            .iter()
            .filter(|grant| !grant.released)
            .map(|grant| ActiveGrant {
                request_id: *grant.key(),
                qty: grant.qty,
                at: grant.at,
            })
            .collect())
    }
}

/// A pool taken out of service by `invalidate`: its claims go to its successor.
struct Retired;

/// The low half of [`Pool::state`], and the largest value either half can hold.
const HALF: u64 = u32::MAX as u64;

struct Pool {
    total: u64,
    limit: u32,
    /// The database's `last_seq` at load: grants continue after it.
    base_seq: u64,
    /// Units held in the high half, grants since the load in the low half. One compare-and-swap
    /// takes the stock and the seq together, so seq order is exactly grant order. Counting held
    /// units rather than remaining ones keeps a pool whose total was lowered below its holds
    /// sold out until enough is released.
    state: AtomicU64,
    held_by_user: DashMap<Uuid, u32>,
    // Released grants stay, marked, so that a retried claim still replays instead of claiming
    // again.
    grants: DashMap<Uuid, Grant>,
}

#[derive(Clone, Copy)]
struct Grant {
    user: Uuid,
    qty: u32,
    seq: u64,
    fingerprint: u64,
    at: i64,
    released: bool,
}

impl Pool {
    fn load(key: &PoolKey, snapshot: PoolSnapshot) -> Result<Self, GateError> {
        let held: u64 = snapshot.holds.iter().map(|h| u64::from(h.qty)).sum();
        if snapshot.total > HALF || held > HALF {
            return Err(GateError::Source(format!(
                "pool {}: total {} or held {held} exceeds the memory gate's {HALF} units",
                key.0, snapshot.total
            )));
        }
        let held_by_user = DashMap::new();
        let grants = DashMap::with_capacity(snapshot.holds.len());
        for hold in snapshot.holds {
            let mut count = held_by_user.entry(hold.user).or_insert(0u32);
            *count = count.saturating_add(hold.qty);
            drop(count);
            grants.insert(
                hold.request_id,
                Grant {
                    user: hold.user,
                    qty: hold.qty,
                    seq: hold.seq,
                    fingerprint: hold.fingerprint,
                    at: 0,
                    released: false,
                },
            );
        }
        tracing::info!(pool = %key.0, held, last_seq = snapshot.last_seq, "memory gate loaded pool");
        Ok(Self {
            total: snapshot.total,
            limit: snapshot.per_user_limit,
            base_seq: snapshot.last_seq,
            state: AtomicU64::new(held << 32),
            held_by_user,
            grants,
        })
    }

    fn claim(&self, claim: &Claim) -> Result<ClaimOutcome, Retired> {
        // The request id's entry stays locked for the whole step, so concurrent replays of one
        // request serialise on it and only the first can grant. Lock order is always grants,
        // then the user's count (release follows it too), so the two maps cannot deadlock.
        let vacant = match self.grants.entry(claim.request_id) {
            Entry::Occupied(grant) => {
                let grant = grant.get();
                return Ok(if grant.fingerprint == claim.fingerprint {
                    ClaimOutcome::Replayed { seq: grant.seq }
                } else {
                    ClaimOutcome::Mismatch
                });
            }
            Entry::Vacant(vacant) => vacant,
        };
        let user = self.held_by_user.entry(claim.user);
        let held = match &user {
            Entry::Occupied(count) => *count.get(),
            Entry::Vacant(_) => 0,
        };
        if u64::from(held) + u64::from(claim.qty) > u64::from(self.limit) {
            return Ok(ClaimOutcome::LimitReached);
        }
        let Some(grants_since_load) = self.take(claim.qty)? else {
            return Ok(ClaimOutcome::SoldOut);
        };
        user.and_modify(|count| *count += claim.qty)
            .or_insert(claim.qty);
        let seq = self.base_seq + grants_since_load;
        vacant.insert(Grant {
            user: claim.user,
            qty: claim.qty,
            seq,
            fingerprint: claim.fingerprint,
            at: claim.at,
            released: false,
        });
        Ok(ClaimOutcome::Granted { seq })
    }

    /// Takes `qty` units and the next seq in one step; None when fewer than `qty` remain.
    fn take(&self, qty: u32) -> Result<Option<u64>, Retired> {
        // Relaxed is enough: the word is only ever read-modify-written as a whole, and every
        // such update is ordered by the word's own modification order.
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            let (held, grants) = (current >> 32, current & HALF);
            if grants == HALF {
                return Err(Retired);
            }
            if held + u64::from(qty) > self.total {
                return Ok(None);
            }
            let next = ((held + u64::from(qty)) << 32) | (grants + 1);
            match self.state.compare_exchange_weak(
                current,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(Some(grants + 1)),
                Err(actual) => current = actual,
            }
        }
    }

    /// Gives a grant back once; with `forget`, also drops its record so that the request id can
    /// claim afresh.
    fn release(&self, request_id: Uuid, forget: bool) -> bool {
        let grant = if forget {
            match self.grants.remove(&request_id) {
                Some((_, grant)) if !grant.released => grant,
                _ => return false,
            }
        } else {
            let Some(mut grant) = self.grants.get_mut(&request_id) else {
                return false;
            };
            if grant.released {
                return false;
            }
            grant.released = true;
            Grant { ..*grant }
        };
        if let Entry::Occupied(mut count) = self.held_by_user.entry(grant.user) {
            if *count.get() <= grant.qty {
                count.remove();
            } else {
                *count.get_mut() -= grant.qty;
            }
        }
        self.state
            .fetch_sub(u64::from(grant.qty) << 32, Ordering::Relaxed);
        true
    }

    /// Ends this pool's grants in the same atomic word they are taken from, so none can follow;
    /// returns the last seq it gave, or None when it was retired already (or gave all 2³² − 1
    /// seqs of its load, which also retires it).
    fn retire(&self) -> Option<u64> {
        let previous = self.state.fetch_or(HALF, Ordering::Relaxed) & HALF;
        (previous != HALF).then_some(self.base_seq + previous)
    }

    fn remaining(&self) -> u64 {
        let held = self.state.load(Ordering::Relaxed) >> 32;
        self.total.saturating_sub(held)
    }
}
