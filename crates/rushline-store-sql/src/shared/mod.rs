//! The one implementation of every store trait, compiled once into each backend module
//! (`#[path]`), so the compiler checks it against SQLite and PostgreSQL alike.
//!
//! It names no backend: what differs between them comes through the seam imported below from the
//! module it is compiled into. SQL here must run unchanged on both databases; a fragment that
//! cannot belongs in the seam, not behind a condition here.
#![allow(
    clippy::duplicate_mod,
    reason = "compiled into both backend modules on purpose: that is the design"
)]

mod cart;
mod catalog;
mod claims;
mod coupons;
mod drops;
mod identity;
mod jobs;
mod orders;
mod payments;
mod points;
mod trials;
mod users;

use async_trait::async_trait;
use rushline_store::{DbError, DropWindow, Store};
use sqlx::{QueryBuilder, Row};

use super::{
    BACKEND, CLAIM_JOBS, Db, FOR_UPDATE, GREATEST, MIGRATOR, SqlStore, map_err, push_one_of,
    push_search,
};

type DbRow = <Db as sqlx::Database>::Row;
type DbConnection = <Db as sqlx::Database>::Connection;

/// Reads a text column holding a domain enum (`role`, `status`).
fn parse_column<T>(row: &DbRow, column: &str) -> Result<T, DbError>
where
    T: std::str::FromStr<Err = String>,
{
    let text: String = row.try_get(column).map_err(map_err)?;
    text.parse()
        .map_err(|e| DbError::Other(format!("column {column}: {e}")))
}

/// Narrows a query to the rows whose window `[starts, ends)` (two column names) is scheduled, open
/// or closed at the window's `now`.
fn push_window(
    query: &mut QueryBuilder<'_, Db>,
    window: Option<DropWindow>,
    starts: &str,
    ends: &str,
) {
    match window {
        None => {}
        Some(DropWindow::Scheduled { now }) => {
            query.push(format!(" AND {starts} > ")).push_bind(now);
        }
        Some(DropWindow::Open { now }) => {
            query.push(format!(" AND {starts} <= ")).push_bind(now);
            query.push(format!(" AND {ends} > ")).push_bind(now);
        }
        Some(DropWindow::Closed { now }) => {
            query.push(format!(" AND {ends} <= ")).push_bind(now);
        }
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn migrate(&self) -> Result<(), DbError> {
        MIGRATOR
            .run(self.writer())
            .await
            .map_err(|e| DbError::Other(format!("migration failed: {e}")))
    }

    async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1")
            .execute(self.reader())
            .await
            .map(drop)
            .map_err(map_err)
    }

    fn backend(&self) -> &'static str {
        BACKEND
    }
}
