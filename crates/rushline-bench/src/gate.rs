//! rushline's gates alone, without the database behind them: one atomic step per claim.

use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use chrono::Utc;
use rushline_gate::{
    Claim, ClaimOutcome, Gate, GateError, MemoryGate, PoolKey, PoolSnapshot, PoolSource, RedisGate,
};
use rushline_testkit::TestRedis;
use uuid::Uuid;

use crate::drive::{Attempt, Claimer, drive};
use crate::{Measurement, Strategy, Workload, check_stock};

pub(crate) async fn run(strategy: Strategy, workload: &Workload) -> anyhow::Result<Measurement> {
    let source = Arc::new(NewPool(PoolSnapshot {
        total: workload.units,
        // Every claim is for another buyer, so a limit of one never binds, yet is checked.
        per_user_limit: 1,
        last_seq: 0,
        holds: Vec::new(),
    }));
    // A key prefix of the run's own, its keys deleted with `_redis`.
    let (gate, _redis): (Arc<dyn Gate>, _) = match strategy {
        Strategy::Memory => (Arc::new(MemoryGate::new(source)), None),
        Strategy::RedisLua => {
            let redis = TestRedis::new().context("RUSHLINE_TEST_REDIS_URL is not set")?;
            let conn = redis.connection().await.context("connect to Redis")?;
            let gate = RedisGate::new(conn, redis.prefix.clone(), source);
            (Arc::new(gate), Some(redis))
        }
        other => anyhow::bail!("{} is not a gate strategy", other.name()),
    };
    let pool = PoolKey("drop:bench".to_owned());
    // Loads the pool before the clock starts.
    gate.remaining(&pool).await?;

    let claimer = Arc::new(GateClaimer {
        gate: Arc::clone(&gate),
        pool: pool.clone(),
    });
    let run = drive(claimer, workload).await?;
    let remaining = gate
        .remaining(&pool)
        .await?
        .context("the gate lost the pool")?;
    Ok(Measurement {
        strategy,
        concurrency: workload.concurrency,
        units: workload.units,
        granted: run.granted,
        elapsed: run.elapsed,
        retries: run.retries,
        latency: run.latency,
        check: check_stock(workload.units, run.granted, i64::try_from(remaining)?),
    })
}

/// A pool as a fresh drop has it: full, nothing claimed.
struct NewPool(PoolSnapshot);

#[async_trait]
impl PoolSource for NewPool {
    async fn load_pool(&self, _pool: &PoolKey) -> Result<Option<PoolSnapshot>, GateError> {
        Ok(Some(self.0.clone()))
    }
}

struct GateClaimer {
    gate: Arc<dyn Gate>,
    pool: PoolKey,
}

impl Claimer for GateClaimer {
    async fn claim(&self, buyer: u64) -> anyhow::Result<Attempt> {
        let claim = Claim {
            user: Uuid::from_u64_pair(1, buyer),
            qty: 1,
            request_id: Uuid::from_u64_pair(2, buyer),
            fingerprint: 0,
            at: Utc::now().timestamp_micros(),
        };
        match self.gate.claim(&self.pool, &claim).await? {
            ClaimOutcome::Granted { .. } => Ok(Attempt::granted()),
            ClaimOutcome::SoldOut => Ok(Attempt::sold_out()),
            other => anyhow::bail!("the gate answered {other:?} to a new buyer"),
        }
    }
}
