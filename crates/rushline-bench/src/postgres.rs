//! The PostgreSQL designs: the stock is one row, `bench_stock`, in a schema of the run's own.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rushline_testkit::TestDb;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::drive::{Attempt, Claimer, drive};
use crate::{Measurement, Strategy, Workload, check_stock};

/// Connections per process, as `database.max_connections` gives a rushline node by default.
const CONNECTIONS: u32 = 32;

const STOCK_ID: i64 = 1;

/// How a claim takes a unit from the row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Method {
    RowLock,
    Conditional,
    Optimistic,
}

pub(crate) async fn run(
    strategy: Strategy,
    method: Method,
    workload: &Workload,
) -> anyhow::Result<Measurement> {
    // A schema of the run's own, dropped with `db`.
    let db = TestDb::postgres()
        .await
        .context("RUSHLINE_TEST_POSTGRES_URL is not set")?;
    let pool = PgPoolOptions::new()
        .max_connections(CONNECTIONS)
        // At 256 tasks most wait for a connection; that wait is part of the strategy's cost,
        // not a failure.
        .acquire_timeout(Duration::from_secs(120))
        .connect(&db.url)
        .await
        .context("connect to PostgreSQL")?;
    // No CHECK (qty >= 0): the strategy alone must keep the stock from going negative.
    sqlx::query(
        "CREATE TABLE bench_stock (id BIGINT PRIMARY KEY, qty BIGINT NOT NULL, version BIGINT NOT NULL)",
    )
    .execute(&pool)
    .await?;
    sqlx::query("INSERT INTO bench_stock (id, qty, version) VALUES ($1, $2, 0)")
        .bind(STOCK_ID)
        .bind(i64::try_from(workload.units)?)
        .execute(&pool)
        .await?;
    warm(&pool).await?;

    let claimer = Arc::new(RowClaimer {
        pool: pool.clone(),
        method,
    });
    let run = drive(claimer, workload).await?;
    let remaining: i64 = sqlx::query_scalar("SELECT qty FROM bench_stock WHERE id = $1")
        .bind(STOCK_ID)
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    Ok(Measurement {
        strategy,
        concurrency: workload.concurrency,
        units: workload.units,
        granted: run.granted,
        elapsed: run.elapsed,
        retries: run.retries,
        latency: run.latency,
        check: check_stock(workload.units, run.granted, remaining),
    })
}

/// Opens every connection before the clock starts, so that no strategy pays for connecting.
async fn warm(pool: &PgPool) -> anyhow::Result<()> {
    let mut held = Vec::new();
    for _ in 0..CONNECTIONS {
        held.push(pool.acquire().await?);
    }
    Ok(())
}

struct RowClaimer {
    pool: PgPool,
    method: Method,
}

impl Claimer for RowClaimer {
    async fn claim(&self, _buyer: u64) -> anyhow::Result<Attempt> {
        match self.method {
            Method::RowLock => self.row_lock().await,
            Method::Conditional => self.conditional().await,
            Method::Optimistic => self.optimistic().await,
        }
    }
}

impl RowClaimer {
    /// Every buyer queues on the row lock, held across three round trips (select, update,
    /// commit) and the commit's WAL flush.
    async fn row_lock(&self) -> anyhow::Result<Attempt> {
        let mut tx = self.pool.begin().await?;
        let qty: i64 = sqlx::query_scalar("SELECT qty FROM bench_stock WHERE id = $1 FOR UPDATE")
            .bind(STOCK_ID)
            .fetch_one(&mut *tx)
            .await?;
        if qty <= 0 {
            tx.rollback().await?;
            return Ok(Attempt::sold_out());
        }
        sqlx::query("UPDATE bench_stock SET qty = qty - 1 WHERE id = $1")
            .bind(STOCK_ID)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Attempt::granted())
    }

    /// One statement: buyers still queue on the row lock, but it is held only inside the server,
    /// for the update and its WAL flush, with no round trip to the client in between.
    async fn conditional(&self) -> anyhow::Result<Attempt> {
        let updated = sqlx::query("UPDATE bench_stock SET qty = qty - 1 WHERE id = $1 AND qty > 0")
            .bind(STOCK_ID)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(if updated == 1 {
            Attempt::granted()
        } else {
            Attempt::sold_out()
        })
    }

    /// Read, then write if nobody wrote in between; otherwise read again. Each statement commits
    /// on its own, as an ORM's `@Version` retry loop does.
    async fn optimistic(&self) -> anyhow::Result<Attempt> {
        let mut conn = self.pool.acquire().await?;
        let mut retries = 0;
        loop {
            let (qty, version): (i64, i64) =
                sqlx::query_as("SELECT qty, version FROM bench_stock WHERE id = $1")
                    .bind(STOCK_ID)
                    .fetch_one(&mut *conn)
                    .await?;
            if qty <= 0 {
                return Ok(Attempt {
                    granted: false,
                    retries,
                });
            }
            let updated = sqlx::query(
                "UPDATE bench_stock SET qty = qty - 1, version = version + 1 \
                 WHERE id = $1 AND version = $2",
            )
            .bind(STOCK_ID)
            .bind(version)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if updated == 1 {
                return Ok(Attempt {
                    granted: true,
                    retries,
                });
            }
            retries += 1;
        }
    }
}
