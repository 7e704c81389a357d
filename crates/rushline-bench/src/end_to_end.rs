//! The whole claim path of a purchase, minus HTTP: the gate decides, then the order is committed
//! through the group-commit writer, and the claim counts only once its batch committed.

use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, TimeDelta, Utc};
use rushline_app::claims::{Claims, Creates, StorePools, fingerprint, request_id};
use rushline_domain::{Role, Won};
use rushline_gate::{Claim, ClaimOutcome, Gate, MemoryGate, PoolKey, RedisGate};
use rushline_store::{
    ClaimRow, ClaimWrite, CommitOutcome, NewOrder, NewOrderLine, ProductDrop, Redemption, Store,
    User,
};
use rushline_testkit::{TestDb, TestRedis};
use uuid::Uuid;

use crate::drive::{Attempt, Claimer, drive};
use crate::fixtures::{account, open_drop, product};
use crate::{Measurement, Strategy, Workload, check_stock};

const PRICE: Won = Won::new(89_000);

pub(crate) async fn run(strategy: Strategy, workload: &Workload) -> anyhow::Result<Measurement> {
    // A database and key prefix of the run's own, removed when these guards drop; a fresh
    // database per run, so that no run pays for the orders of the one before.
    let (db, redis) = match strategy {
        Strategy::EndToEndSqlite => (TestDb::sqlite().await, None),
        Strategy::EndToEndPostgres => (
            TestDb::postgres()
                .await
                .context("RUSHLINE_TEST_POSTGRES_URL is not set")?,
            Some(TestRedis::new().context("RUSHLINE_TEST_REDIS_URL is not set")?),
        ),
        other => anyhow::bail!("{} is not an end-to-end strategy", other.name()),
    };
    let store = Arc::clone(&db.store);
    let now = Utc::now();
    let buyers = u64::try_from(workload.concurrency)? + workload.units;
    let sale = new_drop(&store, workload.units, buyers, now).await?;

    let source = Arc::new(StorePools(Arc::clone(&store)));
    let gate: Arc<dyn Gate> = match &redis {
        None => Arc::new(MemoryGate::new(source)),
        Some(redis) => {
            let conn = redis.connection().await.context("connect to Redis")?;
            Arc::new(RedisGate::new(conn, redis.prefix.clone(), source))
        }
    };
    let pool = PoolKey(sale.drop.pool_key());
    // Loads the pool before the clock starts.
    gate.remaining(&pool).await?;

    let claimer = Arc::new(OrderClaimer {
        claims: Claims::new(
            Arc::clone(&gate),
            Arc::clone(&store),
            TimeDelta::seconds(30),
        ),
        fingerprint: fingerprint(&[b"purchase", sale.drop.id.as_bytes(), &1u32.to_be_bytes()]),
        pool: pool.clone(),
        drop: sale.drop,
        buyers: sale.buyers,
    });
    let run = drive(claimer, workload).await?;

    // The database is the truth: its pool row and its active claims must both say exactly what
    // the committed orders say, and the gate must agree with it.
    let (row, claims) = store
        .pool_snapshot(&pool.0)
        .await
        .map_err(|e| anyhow::anyhow!("read the pool back: {e}"))?;
    let claimed: i64 = claims.iter().map(|claim| i64::from(claim.qty)).sum();
    let in_gate = gate
        .remaining(&pool)
        .await?
        .context("the gate lost the pool")?;
    let check = check_stock(workload.units, run.granted, row.total - row.held).and_then(|()| {
        if claimed != row.held {
            Err(format!(
                "the pool says {} units are held, its claims say {claimed}",
                row.held
            ))
        } else if i128::from(in_gate) != i128::from(row.total - row.held) {
            Err(format!(
                "the gate says {in_gate} units remain, the database {}",
                row.total - row.held
            ))
        } else {
            Ok(())
        }
    });
    Ok(Measurement {
        strategy,
        concurrency: workload.concurrency,
        units: workload.units,
        granted: run.granted,
        elapsed: run.elapsed,
        retries: run.retries,
        latency: run.latency,
        check,
    })
}

struct Sale {
    drop: ProductDrop,
    buyers: Vec<Uuid>,
}

/// An open drop of `units` with a limit of one per buyer, and `buyers` verified buyers.
async fn new_drop(
    store: &Arc<dyn Store>,
    units: u64,
    buyers: u64,
    now: DateTime<Utc>,
) -> anyhow::Result<Sale> {
    let seller = account(Role::Seller, "seller@bench.example".to_owned(), now);
    let buyers: Vec<User> = (0..buyers)
        .map(|n| account(Role::Buyer, format!("buyer{n}@bench.example"), now))
        .collect();
    let product = product(seller.id, "Bench sneakers", PRICE, now);
    let drop = open_drop(&product, i64::try_from(units)?, now);
    let setup = async {
        store.insert_user(&seller).await?;
        store.insert_users(&buyers).await?;
        store.insert_product(&product).await?;
        store.create_drop(&drop, None, &[]).await
    };
    setup
        .await
        .map_err(|e| anyhow::anyhow!("set up the drop: {e}"))?;
    Ok(Sale {
        drop,
        buyers: buyers.iter().map(|buyer| buyer.id).collect(),
    })
}

struct OrderClaimer {
    claims: Claims,
    fingerprint: u64,
    pool: PoolKey,
    drop: ProductDrop,
    buyers: Vec<Uuid>,
}

impl Claimer for OrderClaimer {
    /// What `POST /drops/{id}/purchase` does after authentication, for one unit.
    async fn claim(&self, n: u64) -> anyhow::Result<Attempt> {
        let buyer = *usize::try_from(n)
            .ok()
            .and_then(|n| self.buyers.get(n))
            .context("more claims than buyers: the gate granted more than the pool holds")?;
        let now = Utc::now();
        let key = format!("bench-{n}");
        let order_id = request_id(buyer, Creates::Order, &key);
        let claim = Claim {
            user: buyer,
            qty: 1,
            request_id: order_id,
            fingerprint: self.fingerprint,
            at: now.timestamp_micros(),
        };
        let seq = match self
            .claims
            .claim("drop", &self.pool, &claim)
            .await
            .map_err(|e| anyhow::anyhow!("claim: {e:?}"))?
        {
            ClaimOutcome::Granted { seq } => seq,
            ClaimOutcome::SoldOut => return Ok(Attempt::sold_out()),
            other => anyhow::bail!("the gate answered {other:?} to a new buyer"),
        };
        let order = NewOrder {
            id: order_id,
            buyer_id: buyer,
            idempotency_key: key,
            total: self.drop.price,
            hold_expires_at: now + TimeDelta::minutes(10),
            created_at: now,
            cause: "purchase",
            lines: vec![NewOrderLine {
                product_id: self.drop.product_id,
                drop_id: Some(self.drop.id),
                qty: 1,
                unit_price: self.drop.price,
                claim: ClaimRow {
                    id: order_id,
                    pool_key: self.pool.0.clone(),
                    user_id: buyer,
                    qty: 1,
                    seq: i64::try_from(seq)?,
                    fingerprint: i64::try_from(claim.fingerprint)?,
                    claimed_at: now,
                    released_at: None,
                },
            }],
            redemption: Redemption::default(),
            max_pending: 1_000,
        };
        match self
            .claims
            .commit(ClaimWrite::Order(order))
            .await
            .map_err(|e| anyhow::anyhow!("commit: {e:?}"))?
        {
            CommitOutcome::Committed => Ok(Attempt::granted()),
            // The gate granted what the database refused: the two disagree, which the run must
            // report rather than count as a sale.
            other => anyhow::bail!("the database refused a grant of the gate: {other:?}"),
        }
    }
}
