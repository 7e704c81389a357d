//! PostgreSQL: the system of record when several rushline nodes share one database.
//!
//! Work that several nodes may race for (jobs, periodic occurrences) is claimed with
//! `FOR UPDATE SKIP LOCKED` or a conditional `UPDATE`, never with application locks.
//!
//! This module is PostgreSQL's side of the seam: connection set-up, migrations, error mapping and
//! the few fragments of SQL that differ from SQLite's. The store traits are implemented once, in
//! `shared`, which is compiled here against these items.

mod error;
#[path = "../shared/mod.rs"]
mod shared;

use std::str::FromStr;
use std::time::Duration;

use rushline_store::DbError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, QueryBuilder};
use uuid::Uuid;

use error::map_err;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

const BACKEND: &str = "postgres";

type Db = sqlx::Postgres;
type SqlStore = PgStore;

const GREATEST: &str = "GREATEST";

/// Concurrent transactions on one row serialise on its lock, taken where a transaction reads a
/// row that its later writes depend on (a user's wrong-code count, a refresh token, a product's
/// image count).
const FOR_UPDATE: &str = " FOR UPDATE";

/// Taken by each batch that writes raffle entries on the raffle's row: batches do not block one
/// another, and the draw's `FOR UPDATE` waits for those in flight and holds off the next.
const FOR_KEY_SHARE: &str = " FOR KEY SHARE";

/// A new id in SQL, for rows written set-based: a UUIDv7 (a random UUID with milliseconds since
/// the epoch over its first six bytes, and version 7), so that the rows of one statement go to
/// the end of their id indexes instead of dirtying a random page of each for every row.
const NEW_UUID: &str = "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing \
    substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) \
    FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid";
/// A fan-out writes its pages back to back: purchases take other connections meanwhile.
const FAN_OUT_RESTS: bool = false;
/// Rows a claim takes: concurrent claims each take different rows instead of queueing.
const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

/// The job claim, before its `RETURNING`. SKIP LOCKED: concurrent workers each take different
/// rows instead of queueing on the first one; the row locks last until this statement's implicit
/// commit.
const CLAIM_JOBS: &str = "WITH due AS (SELECT id FROM jobs \
                          WHERE (status = 'queued' AND run_at <= $1) \
                          OR (status = 'running' AND locked_until <= $1) \
                          ORDER BY run_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
                          UPDATE jobs SET status = 'running', attempts = attempts + 1, \
                          locked_until = $2, updated_at = $1 \
                          FROM due WHERE jobs.id = due.id";

/// `column = ANY($n)`: the ids as one array parameter, so that one prepared statement serves
/// every number of ids.
fn push_one_of(query: &mut QueryBuilder<'_, Db>, column: &str, ids: &[Uuid]) {
    query
        .push(column)
        .push(" = ANY(")
        .push_bind(ids.to_vec())
        .push(")");
}

/// Products whose name or description holds every term, through the generated `search` column
/// of `0004_catalog.sql`.
fn push_search(query: &mut QueryBuilder<'_, Db>, terms: &[String]) {
    query
        .push("search @@ plainto_tsquery('simple', ")
        .push_bind(terms.join(" "))
        .push(")");
}

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

    /// PostgreSQL reads and writes through one pool; the shared code asks for either.
    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }
}
