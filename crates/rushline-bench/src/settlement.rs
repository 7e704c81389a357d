//! The settlement benchmark: one business day of completed orders, one line each, spread over
//! many sellers, settled by one run of `SettlementStore::settle` as the daily job runs it.
//!
//! The orders are seeded with set-based SQL of the benchmark's own (the store has no bulk path
//! for completed orders, and seeding through the order lifecycle would take hours); then the
//! run is timed, checked (one settlement per seller, every order settled once, the lines summing
//! to the settlements) and run again, which must settle nothing.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use rushline_domain::settlement::business_day_bounds;
use rushline_domain::{FeeRate, Role, Won};
use rushline_store::{Product, SettlementRun, Store, User};
use rushline_testkit::TestDb;
use sqlx::Connection as _;
use uuid::Uuid;

use crate::fixtures::product;

/// Where the orders live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettleBackend {
    Sqlite,
    Postgres,
}

impl SettleBackend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// One timed run.
#[derive(Debug)]
pub struct SettleMeasurement {
    pub backend: SettleBackend,
    pub orders: u64,
    pub sellers: u64,
    pub seeding: Duration,
    pub settling: Duration,
    /// The same day run again: it finds every order settled and writes nothing.
    pub rerun: Duration,
    /// Why the checks failed, if they did.
    pub check: Result<(), String>,
}

impl SettleMeasurement {
    #[expect(clippy::cast_precision_loss, reason = "a rate to print")]
    pub fn orders_per_second(&self) -> f64 {
        self.orders as f64 / self.settling.as_secs_f64()
    }
}

const ZONE: chrono_tz::Tz = chrono_tz::Asia::Seoul;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 7).expect("a date")
}

/// Seeds `orders` completed orders of `day()` across `sellers` sellers, then settles the day.
pub async fn run(
    backend: SettleBackend,
    orders: u64,
    sellers: u64,
) -> anyhow::Result<SettleMeasurement> {
    let db = match backend {
        SettleBackend::Sqlite => TestDb::sqlite().await,
        SettleBackend::Postgres => TestDb::postgres()
            .await
            .context("RUSHLINE_TEST_POSTGRES_URL is not set")?,
    };
    let store = &db.store;
    let (start, end) = business_day_bounds(day(), ZONE);
    let started = Instant::now();
    seed(backend, &db.url, store, orders, sellers, start).await?;
    let seeding = started.elapsed();

    let run = SettlementRun {
        day: day(),
        windows: rushline_app::settlement::windows(day(), ZONE),
        seller: None,
        platform_fee: FeeRate::from_fraction(0.05).expect("a rate"),
        payment_fee: FeeRate::from_fraction(0.033).expect("a rate"),
        at: end,
        dry_run: false,
        notice: rushline_app::settlement::ready_notice,
    };
    let started = Instant::now();
    let settled = store
        .settle(&run, &|_| {})
        .await
        .map_err(|e| anyhow::anyhow!("settle: {e}"))?;
    let settling = started.elapsed();
    let started = Instant::now();
    let again = store
        .settle(&run, &|_| {})
        .await
        .map_err(|e| anyhow::anyhow!("settle again: {e}"))?;
    let rerun = started.elapsed();

    let counted: i64 = settled.iter().map(|s| s.orders).sum();
    let gross: i64 = settled.iter().map(|s| s.gross.get()).sum();
    let net_ok = settled
        .iter()
        .all(|s| s.net.get() == s.gross.get() - s.platform_fee.get() - s.payment_fee.get());
    let check = if settled.len() as u64 != sellers {
        Err(format!(
            "{} settlements for {sellers} sellers",
            settled.len()
        ))
    } else if u64::try_from(counted).ok() != Some(orders) {
        Err(format!("{counted} orders settled of {orders}"))
    } else if gross != expected_gross(orders) {
        Err(format!(
            "gross {gross}, expected {}",
            expected_gross(orders)
        ))
    } else if !net_ok {
        Err("a settlement's net is not its gross less its fees".to_owned())
    } else if !again.is_empty() {
        Err(format!("the rerun wrote {} settlements", again.len()))
    } else {
        Ok(())
    };
    Ok(SettleMeasurement {
        backend,
        orders,
        sellers,
        seeding,
        settling,
        rerun,
        check,
    })
}

/// Order `i` holds one unit at `10,000 + i mod 1,000` won.
fn expected_gross(orders: u64) -> i64 {
    (0..orders).map(|i| 10_000 + (i % 1_000) as i64).sum()
}

async fn seed(
    backend: SettleBackend,
    url: &str,
    store: &std::sync::Arc<dyn Store>,
    orders: u64,
    sellers: u64,
    start: DateTime<Utc>,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let user = |role: Role, n: u64| User {
        id: Uuid::now_v7(),
        email: format!("{role}-{n}@bench.example"),
        name: format!("Bench {role} {n}"),
        role,
        password_hash: "not a usable hash".to_owned(),
        verified_at: Some(now),
        created_at: now,
        updated_at: now,
    };
    let mut users: Vec<User> = (0..sellers).map(|n| user(Role::Seller, n)).collect();
    let buyer = user(Role::Buyer, 0);
    users.push(buyer.clone());
    store
        .insert_users(&users)
        .await
        .map_err(|e| anyhow::anyhow!("insert users: {e}"))?;
    for seller in users.iter().filter(|u| u.role == Role::Seller) {
        let product = Product {
            max_per_order: 10,
            ..product(seller.id, "Bench product", Won::new(10_000), now)
        };
        store
            .insert_product(&product)
            .await
            .map_err(|e| anyhow::anyhow!("insert product: {e}"))?;
    }

    // Order i completes at start + i × 86,400 / orders seconds, and its line is product i mod
    // sellers; an order is its own claim.
    let epoch = start.timestamp();
    let buyer_id = buyer.id;
    let (series, id, at, numbered) = match backend {
        SettleBackend::Sqlite => (
            format!(
                "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {}) \
                 SELECT i FROM s",
                orders - 1
            ),
            "randomblob(16)".to_owned(),
            format!(
                "strftime('%Y-%m-%dT%H:%M:%S', {epoch} + i * 86400 / {orders}, 'unixepoch') || '+00:00'"
            ),
            "CREATE TEMP TABLE bench_products AS SELECT (ROW_NUMBER() OVER (ORDER BY id)) - 1 AS n, id, seller_id FROM products",
        ),
        SettleBackend::Postgres => (
            format!("SELECT i FROM generate_series(0::bigint, {}) i", orders - 1),
            "gen_random_uuid()".to_owned(),
            format!("to_timestamp({epoch} + i * 86400 / {orders})"),
            "CREATE TEMP TABLE bench_products AS SELECT (ROW_NUMBER() OVER (ORDER BY id)) - 1 AS n, id, seller_id FROM products",
        ),
    };
    let buyer_literal = match backend {
        SettleBackend::Sqlite => format!("X'{}'", buyer_id.simple()),
        SettleBackend::Postgres => format!("'{buyer_id}'"),
    };
    let statements = [
        numbered.to_owned(),
        "INSERT INTO pools (key, total, per_user_limit, held, last_seq) VALUES ('bench', 0, 1, 0, 0)".to_owned(),
        format!(
            "INSERT INTO orders (id, buyer_id, status, idempotency_key, total, hold_expires_at, \
             status_changed_at, created_at, updated_at) \
             SELECT {id}, {buyer_literal}, 'completed', CAST(i AS TEXT), 10000 + i % 1000, t, t, t, t \
             FROM (SELECT i, {at} AS t FROM ({series}) s) timed"
        ),
        "INSERT INTO claims (id, pool_key, user_id, qty, seq, fingerprint, claimed_at, released_at) \
         SELECT id, 'bench', buyer_id, 1, 0, 0, created_at, NULL FROM orders"
            .to_owned(),
        format!(
            "INSERT INTO order_lines (order_id, line_no, product_id, drop_id, qty, unit_price, \
             claim_id, created_at) \
             SELECT o.id, 1, p.id, NULL, 1, o.total, o.id, o.created_at FROM orders o \
             JOIN bench_products p ON p.n = CAST(o.idempotency_key AS BIGINT) % {sellers}"
        ),
        "ANALYZE".to_owned(),
    ];
    match backend {
        SettleBackend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await?;
            for statement in &statements {
                sqlx::query(statement).execute(&mut conn).await?;
            }
        }
        SettleBackend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await?;
            for statement in &statements {
                sqlx::query(statement).execute(&mut conn).await?;
            }
        }
    }
    Ok(())
}
