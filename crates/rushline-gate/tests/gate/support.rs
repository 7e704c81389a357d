use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use rushline_gate::{
    Claim, Gate, GateError, Hold, MemoryGate, PoolKey, PoolSnapshot, PoolSource, RedisGate,
};
use uuid::Uuid;

/// What a conformance case gets: a way to build the backend under test over a source.
pub type NewGate = dyn Fn(Arc<dyn PoolSource>) -> Arc<dyn Gate>;

pub fn memory() -> Box<NewGate> {
    Box::new(|source| Arc::new(MemoryGate::new(source)))
}

/// Skips a backend test with a notice, except in CI, where a skipped backend would be a hole.
pub fn skip(reason: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{reason}, and CI is set: the backend tests must run in CI"
    );
    eprintln!("skipping: {reason}");
}

/// The shared Redis from `RUSHLINE_TEST_REDIS_URL`, under a key prefix of this test's own;
/// its keys are deleted on drop, even when the test panics.
pub struct TestRedis {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
}

impl TestRedis {
    pub async fn from_env() -> Option<Self> {
        let Ok(url) = std::env::var("RUSHLINE_TEST_REDIS_URL") else {
            skip("RUSHLINE_TEST_REDIS_URL is not set");
            return None;
        };
        let client = redis::Client::open(url).unwrap();
        let conn = ConnectionManager::new(client.clone()).await.unwrap();
        let prefix = format!("rltest:{}:", Uuid::new_v4());
        Some(Self {
            client,
            conn,
            prefix,
        })
    }

    pub fn new_gate(&self) -> Box<NewGate> {
        let (conn, prefix) = (self.conn.clone(), self.prefix.clone());
        Box::new(move |source| Arc::new(RedisGate::new(conn.clone(), prefix.clone(), source)))
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn keys(&self) -> redis::RedisResult<Vec<String>> {
        let mut conn = self.client.get_connection()?;
        let pattern = format!("{}*", self.prefix);
        let (mut cursor, mut keys) = (0u64, Vec::new());
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query(&mut conn)?;
            keys.extend(batch);
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let deleted = self.keys().and_then(|keys| {
            if keys.is_empty() {
                return Ok(());
            }
            redis::cmd("DEL")
                .arg(keys)
                .exec(&mut self.client.get_connection()?)
        });
        if let Err(e) = deleted {
            eprintln!("could not delete the keys under {}: {e}", self.prefix);
        }
    }
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
