use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rushline_gate::{
    Claim, Gate, GateError, Hold, MemoryGate, PoolKey, PoolSnapshot, PoolSource, RedisGate,
};
use rushline_testkit::TestRedis;
use uuid::Uuid;

/// What a conformance case gets: a way to build the backend under test over a source.
pub type NewGate = dyn Fn(Arc<dyn PoolSource>) -> Arc<dyn Gate>;

pub fn memory() -> Box<NewGate> {
    Box::new(|source| Arc::new(MemoryGate::new(source)))
}

/// The gate under test on the shared Redis, under the test's own key prefix.
pub async fn redis_gate(redis: &TestRedis) -> Box<NewGate> {
    let (conn, prefix) = (redis.connection().await.unwrap(), redis.prefix.clone());
    Box::new(move |source| Arc::new(RedisGate::new(conn.clone(), prefix.clone(), source)))
}

pub fn pool() -> PoolKey {
    PoolKey("drop:0192f0c1-test".into())
}

/// A claim with a fresh request id, fingerprinted by its quantity.
pub fn claim(user: Uuid, qty: u32) -> Claim {
    Claim {
        user,
        qty,
        request_id: Uuid::new_v4(),
        fingerprint: u64::from(qty),
        at: 1_700_000_000_000_000,
    }
}

/// Stands in for the database: holds pools as snapshots, counts loads, and commits grants
/// the way the store does, refusing any that would break the total or the user's limit.
#[derive(Default)]
pub struct FakeDb {
    pools: Mutex<HashMap<PoolKey, PoolSnapshot>>,
    loads: AtomicUsize,
}

impl FakeDb {
    pub fn with_pool(total: u64, per_user_limit: u32) -> Arc<Self> {
        let db = Arc::new(Self::default());
        db.put(PoolSnapshot {
            total,
            per_user_limit,
            last_seq: 0,
            holds: Vec::new(),
        });
        db
    }

    pub fn put(&self, snapshot: PoolSnapshot) {
        self.pools.lock().unwrap().insert(pool(), snapshot);
    }

    pub fn set_total(&self, total: u64) {
        self.pools.lock().unwrap().get_mut(&pool()).unwrap().total = total;
    }

    pub fn commit(&self, hold: Hold) -> bool {
        let mut pools = self.pools.lock().unwrap();
        let snapshot = pools.get_mut(&pool()).unwrap();
        let held: u64 = snapshot.holds.iter().map(|h| u64::from(h.qty)).sum();
        let user_held: u64 = snapshot
            .holds
            .iter()
            .filter(|h| h.user == hold.user)
            .map(|h| u64::from(h.qty))
            .sum();
        if held + u64::from(hold.qty) > snapshot.total
            || user_held + u64::from(hold.qty) > u64::from(snapshot.per_user_limit)
        {
            return false;
        }
        snapshot.last_seq = snapshot.last_seq.max(hold.seq);
        snapshot.holds.push(hold);
        true
    }

    pub fn release(&self, request_id: Uuid) {
        let mut pools = self.pools.lock().unwrap();
        let snapshot = pools.get_mut(&pool()).unwrap();
        snapshot.holds.retain(|h| h.request_id != request_id);
    }

    pub fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl PoolSource for FakeDb {
    async fn load_pool(&self, pool: &PoolKey) -> Result<Option<PoolSnapshot>, GateError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        Ok(self.pools.lock().unwrap().get(pool).cloned())
    }
}
