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
mod notifications;
mod orders;
mod payments;
mod points;
mod raffles;
mod reviews;
mod settlements;
mod stats;
mod trials;
mod users;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_store::{DbError, DropWindow, Store};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::{
    BACKEND, CLAIM_JOBS, Db, FAN_OUT_RESTS, FOR_KEY_SHARE, FOR_UPDATE, GREATEST, MIGRATOR,
    NEW_UUID, SKIP_LOCKED, SqlStore, map_err, push_one_of, push_search,
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

/// Keeps the rows whose `opens_at` is in `[start, end)`.
fn push_opening(query: &mut QueryBuilder<'_, Db>, opening: Option<(DateTime<Utc>, DateTime<Utc>)>) {
    if let Some((start, end)) = opening {
        query.push(" AND opens_at >= ").push_bind(start);
        query.push(" AND opens_at < ").push_bind(end);
    }
}

/// Whether `query` (a `SELECT 1 … LIMIT 1`) finds a row on `conn`.
async fn finds_any(
    conn: &mut DbConnection,
    mut query: QueryBuilder<'_, Db>,
) -> Result<bool, DbError> {
    Ok(query
        .build()
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?
        .is_some())
}

/// The error for a conditional write to row `id` of `table` that matched nothing: the row is
/// not in the state the write expected (`Conflict { constraint }`) or does not exist.
async fn conflict_or_missing(
    conn: &mut DbConnection,
    table: &str,
    id: Uuid,
    constraint: &str,
) -> DbError {
    match sqlx::query(&format!("SELECT 1 FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
    {
        Ok(Some(_)) => DbError::Conflict {
            constraint: constraint.to_owned(),
        },
        Ok(None) => DbError::NotFound,
        Err(e) => map_err(e),
    }
}

/// Deletes row `id` of `table` (a drop or a trial) while it has not opened at `now`, with its
/// pool; `constraint` is the conflict once it has.
async fn delete_scheduled(
    store: &SqlStore,
    table: &str,
    id: Uuid,
    pool_key: String,
    now: chrono::DateTime<chrono::Utc>,
    constraint: &str,
) -> Result<(), DbError> {
    let mut tx = store.writer().begin().await.map_err(map_err)?;
    let deleted = sqlx::query(&format!(
        "DELETE FROM {table} WHERE id = $1 AND opens_at > $2"
    ))
    .bind(id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?
    .rows_affected();
    if deleted == 0 {
        return Err(conflict_or_missing(&mut tx, table, id, constraint).await);
    }
    // A raffle drop's raffle: before opening, it has no entries.
    sqlx::query("DELETE FROM raffles WHERE subject_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    sqlx::query("DELETE FROM pools WHERE key = $1")
        .bind(pool_key)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    tx.commit().await.map_err(map_err)
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

    fn pool_stats(&self) -> rushline_store::PoolStats {
        let pool = self.reader();
        rushline_store::PoolStats {
            size: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        }
    }
}
