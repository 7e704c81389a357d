//! The Redis mutex the field reaches for (Lettuce spin locks, Redisson's `RLock` in spirit): a
//! lease-bound lock around a read-modify-write of a plain counter.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use anyhow::Context as _;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands as _, Script};
use rushline_testkit::TestRedis;

use crate::drive::{Attempt, Claimer, drive};
use crate::{Measurement, Strategy, Workload, check_stock};

/// The lock's lease: a holder stalled longer than this loses the lock mid-update.
const LEASE_MS: u64 = 1_000;

/// How long a task waits after a refused lock attempt before trying again.
const BACKOFF: Duration = Duration::from_millis(1);

/// Deletes the lock only while it still holds this claim's token, so that a holder whose lease
/// expired cannot release the next holder's lock.
static UNLOCK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end \
         return 0",
    )
});

pub(crate) async fn run(workload: &Workload) -> anyhow::Result<Measurement> {
    // A key prefix of the run's own, its keys deleted with `redis`.
    let redis = TestRedis::new().context("RUSHLINE_TEST_REDIS_URL is not set")?;
    let mut conn = redis.connection().await.context("connect to Redis")?;
    let claimer = Arc::new(MutexClaimer {
        conn: conn.clone(),
        qty: format!("{}qty", redis.prefix),
        lock: format!("{}lock", redis.prefix),
    });
    conn.set::<_, _, ()>(&claimer.qty, workload.units).await?;

    let run = drive(Arc::clone(&claimer), workload).await?;
    let remaining: i64 = conn.get(&claimer.qty).await?;
    Ok(Measurement {
        strategy: Strategy::RedisMutex,
        concurrency: workload.concurrency,
        units: workload.units,
        granted: run.granted,
        elapsed: run.elapsed,
        retries: run.retries,
        latency: run.latency,
        check: check_stock(workload.units, run.granted, remaining),
    })
}

struct MutexClaimer {
    conn: ConnectionManager,
    qty: String,
    lock: String,
}

impl Claimer for MutexClaimer {
    async fn claim(&self, buyer: u64) -> anyhow::Result<Attempt> {
        let mut conn = self.conn.clone();
        let token = buyer.to_string();
        let mut retries = 0;
        loop {
            let locked: Option<String> = redis::cmd("SET")
                .arg(&self.lock)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(LEASE_MS)
                .query_async(&mut conn)
                .await?;
            if locked.is_some() {
                break;
            }
            retries += 1;
            tokio::time::sleep(BACKOFF).await;
        }
        let qty: i64 = conn.get(&self.qty).await?;
        let granted = qty > 0;
        if granted {
            conn.set::<_, _, ()>(&self.qty, qty - 1).await?;
        }
        let _released: i64 = UNLOCK
            .key(&self.lock)
            .arg(&token)
            .invoke_async(&mut conn)
            .await?;
        Ok(Attempt { granted, retries })
    }
}
