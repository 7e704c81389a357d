//! The PostgreSQL backend of the storage port: the system of record when several rushline nodes
//! share one database.
//!
//! Work that several nodes may race for (jobs, periodic occurrences) is claimed with
//! `FOR UPDATE SKIP LOCKED` or a conditional `UPDATE`, never with application locks.

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
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::error::map_err;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects lazily to a `postgres://` URL, so that a node starts (and answers `/readyz` with
    /// 503) while PostgreSQL is down. Does not migrate.
    pub fn connect(url: &str, max_connections: u32) -> Result<Self, DbError> {
        let options = PgConnectOptions::from_str(url).map_err(map_err)?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(3))
            .connect_lazy_with(options);
        Ok(Self { pool })
    }
}

#[async_trait]
impl Store for PgStore {
    async fn migrate(&self) -> Result<(), DbError> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| DbError::Other(format!("migration failed: {e}")))
    }

    async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(map_err)
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}
