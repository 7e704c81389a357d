//! The claim-strategy benchmark: the evidence for the gate's design. One pool of stock, C
//! concurrent tasks each claiming one unit at a time for a buyer of its own, run for a fixed time
//! against the designs the field uses (a PostgreSQL row lock, a conditional `UPDATE`, optimistic
//! versions, a Redis mutex) and against rushline's own (the memory and Redis gates, and a gate
//! plus the group-commit writer end to end).
//!
//! It owns measuring and the oversell check each strategy runs afterwards against its own source
//! of truth. It must not assert on speed: the numbers describe one machine at one moment.
//! Servers come from `RUSHLINE_TEST_POSTGRES_URL` and `RUSHLINE_TEST_REDIS_URL`; every run gets
//! a schema and a Redis key prefix of its own, removed when the run ends.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark harness: a failed unwrap is a failed run"
)]

mod drive;
mod end_to_end;
mod fixtures;
mod gate;
mod postgres;
pub mod raffle;
mod redis_mutex;
mod report;
pub mod seller_stats;
pub mod settlement;
pub mod wishlist;

use std::time::Duration;

use clap::ValueEnum;
use clap::builder::PossibleValue;
use hdrhistogram::Histogram;

use crate::postgres::Method;

pub use report::{console_table, markdown};

/// A way to hand out limited stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// `SELECT … FOR UPDATE`, then `UPDATE`, in one transaction.
    PgRowLock,
    /// `UPDATE … WHERE qty > 0`; the rows affected decide.
    PgConditional,
    /// Read the quantity and a version; `UPDATE … WHERE version = $2`, retried on conflict.
    PgOptimistic,
    /// `SET NX PX` lock, read, write, compare-and-delete unlock.
    RedisMutex,
    /// rushline's `RedisGate`: one Lua script per claim.
    RedisLua,
    /// rushline's `MemoryGate`: one compare-and-swap per claim.
    Memory,
    /// The memory gate, then an order committed through the group-commit writer on SQLite.
    EndToEndSqlite,
    /// The Redis gate, then an order committed through the group-commit writer on PostgreSQL.
    EndToEndPostgres,
}

const POSTGRES_URL: &str = "RUSHLINE_TEST_POSTGRES_URL";
const REDIS_URL: &str = "RUSHLINE_TEST_REDIS_URL";

impl Strategy {
    pub const ALL: [Strategy; 8] = [
        Strategy::PgRowLock,
        Strategy::PgConditional,
        Strategy::PgOptimistic,
        Strategy::RedisMutex,
        Strategy::RedisLua,
        Strategy::Memory,
        Strategy::EndToEndSqlite,
        Strategy::EndToEndPostgres,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::PgRowLock => "pg-row-lock",
            Strategy::PgConditional => "pg-conditional",
            Strategy::PgOptimistic => "pg-optimistic",
            Strategy::RedisMutex => "redis-mutex",
            Strategy::RedisLua => "redis-lua",
            Strategy::Memory => "memory",
            Strategy::EndToEndSqlite => "e2e-memory-sqlite",
            Strategy::EndToEndPostgres => "e2e-redis-postgres",
        }
    }

    /// The environment variables naming the servers this strategy needs.
    fn needs(self) -> &'static [&'static str] {
        match self {
            Strategy::PgRowLock | Strategy::PgConditional | Strategy::PgOptimistic => {
                &[POSTGRES_URL]
            }
            Strategy::RedisMutex | Strategy::RedisLua => &[REDIS_URL],
            Strategy::Memory | Strategy::EndToEndSqlite => &[],
            Strategy::EndToEndPostgres => &[POSTGRES_URL, REDIS_URL],
        }
    }

    /// The first server variable this strategy needs that is not set, if any.
    pub fn unconfigured(self) -> Option<&'static str> {
        self.needs()
            .iter()
            .copied()
            .find(|var| std::env::var(var).map_or(true, |url| url.is_empty()))
    }
}

impl ValueEnum for Strategy {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

/// What every strategy runs: `concurrency` tasks claim one unit at a time, each for a buyer of
/// its own, from one pool of `units`, until `duration` has passed or the pool is sold out.
#[derive(Debug, Clone)]
pub struct Workload {
    pub units: u64,
    pub concurrency: usize,
    pub duration: Duration,
}

/// One run of one strategy at one concurrency.
#[derive(Debug)]
pub struct Measurement {
    pub strategy: Strategy,
    pub concurrency: usize,
    pub units: u64,
    /// Units the strategy reported granted.
    pub granted: u64,
    /// From the start until every task stopped: at the deadline or once the pool sold out.
    pub elapsed: Duration,
    /// Extra round trips spent waiting for a turn: lock attempts refused (`redis-mutex`) or
    /// version conflicts (`pg-optimistic`).
    pub retries: u64,
    /// Nanoseconds per claim call, retries included.
    pub latency: Histogram<u64>,
    /// The oversell check against the strategy's own source of truth: why it failed, if it did.
    pub check: Result<(), String>,
}

impl Measurement {
    pub fn claims_per_second(&self) -> f64 {
        self.granted as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs one strategy once, on a pool, schema and key prefix of its own.
pub async fn run(strategy: Strategy, workload: &Workload) -> anyhow::Result<Measurement> {
    if let Some(var) = strategy.unconfigured() {
        anyhow::bail!("{} needs {var}, which is not set", strategy.name());
    }
    match strategy {
        Strategy::PgRowLock => postgres::run(strategy, Method::RowLock, workload).await,
        Strategy::PgConditional => postgres::run(strategy, Method::Conditional, workload).await,
        Strategy::PgOptimistic => postgres::run(strategy, Method::Optimistic, workload).await,
        Strategy::RedisMutex => redis_mutex::run(workload).await,
        Strategy::RedisLua | Strategy::Memory => gate::run(strategy, workload).await,
        Strategy::EndToEndSqlite | Strategy::EndToEndPostgres => {
            end_to_end::run(strategy, workload).await
        }
    }
}

/// Granted units can never exceed the pool, and every granted unit must be gone from what the
/// source of truth says remains.
fn check_stock(total: u64, granted: u64, remaining: i64) -> Result<(), String> {
    let taken = i128::from(total) - i128::from(remaining);
    if granted > total {
        Err(format!("oversold: granted {granted} of {total} units"))
    } else if i128::from(granted) != taken {
        Err(format!(
            "granted {granted} units, but {taken} are gone from the {total} ({remaining} remain)"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stock_check_catches_oversell_and_lost_updates() {
        assert_eq!(check_stock(10, 10, 0), Ok(()));
        assert_eq!(check_stock(10, 4, 6), Ok(()));
        assert!(check_stock(10, 11, 0).unwrap_err().contains("oversold"));
        // A lost update: two buyers read the same quantity and both wrote quantity − 1.
        assert!(check_stock(10, 5, 6).is_err());
        // A decrement below zero.
        assert!(check_stock(10, 10, -1).is_err());
    }

    #[test]
    fn strategy_names_parse_back() {
        for strategy in Strategy::ALL {
            assert_eq!(Strategy::from_str(strategy.name(), false), Ok(strategy));
        }
    }
}
