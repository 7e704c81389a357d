//! The SQLite backend of the storage port: one file in WAL mode, the default when rushline runs on
//! one machine with zero setup.
//!
//! Writes go through a single writer connection (SQLite allows one writer at a time; queueing in
//! the pool is cheaper than `SQLITE_BUSY` retries), reads through a small pool of readers that WAL
//! lets run beside the writer. `synchronous = FULL` makes every commit durable before it returns:
//! the group-commit writer amortises that fsync over a whole batch.

mod cart;
mod catalog;
mod claims;
mod coupons;
mod drops;
mod error;
mod identity;
mod jobs;
mod orders;
mod payments;
mod points;
mod users;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use rushline_store::{DbError, Store};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::map_err;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at a `sqlite://` URL. Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(map_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(map_err)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(true))
            .await
            .map_err(map_err)?;
        Ok(Self { reader, writer })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), DbError> {
        MIGRATOR
            .run(&self.writer)
            .await
            .map_err(|e| DbError::Other(format!("migration failed: {e}")))
    }

    async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map(drop)
            .map_err(map_err)
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}
