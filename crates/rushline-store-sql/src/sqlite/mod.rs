//! SQLite: one file in WAL mode, the default when rushline runs on one machine with zero setup.
//!
//! Writes go through a single writer connection (SQLite allows one writer at a time; queueing in
//! the pool is cheaper than `SQLITE_BUSY` retries), reads through a small pool of readers that WAL
//! lets run beside the writer. `synchronous = FULL` makes every commit durable before it returns:
//! the group-commit writer amortises that fsync over a whole batch.
//!
//! This module is SQLite's side of the seam: connection set-up, migrations, error mapping and the
//! few fragments of SQL that differ from PostgreSQL's. The store traits are implemented once, in
//! `shared`, which is compiled here against these items.

pub(crate) mod error;
#[path = "../shared/mod.rs"]
mod shared;

use std::str::FromStr;
use std::time::Duration;

use rushline_store::DbError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, SqlitePool};
use uuid::Uuid;

use error::map_err;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

const BACKEND: &str = "sqlite";

/// The writer's page cache, in KiB when negative (SQLite's convention): 64 MiB.
const WRITER_CACHE: &str = "-65536";
/// WAL pages (4 KiB) after which a commit checkpoints: 64 MiB.
const WRITER_CHECKPOINT_PAGES: &str = "16384";

type Db = sqlx::Sqlite;
type SqlStore = SqliteStore;

/// PostgreSQL's `GREATEST`: SQLite's scalar `MAX` of two values.
const GREATEST: &str = "MAX";

/// Every transaction runs on the one writer connection, so no other transaction can change a row
/// it has read before it commits: SQLite needs no row locks (and has none).
const FOR_UPDATE: &str = "";
const FOR_KEY_SHARE: &str = "";

/// A new id in SQL, for rows written set-based: a UUIDv7 (milliseconds since the epoch, then
/// random bits), so that the rows of one statement go to the end of their id indexes instead of
/// dirtying a random page of each for every row.
const NEW_UUID: &str = "unhex(printf('%012x%04x%04x%012x', \
    CAST(unixepoch('subsec') * 1000 AS INTEGER), 28672 | (random() & 4095), \
    32768 | (random() & 16383), random() & 281474976710655))";
/// A fan-out rests after each page of its audience as long as the page held the writer, the
/// one connection every write shares: purchases commit at least half of the time meanwhile.
const FAN_OUT_RESTS: bool = true;
/// Rows a claim takes: the writer connection serialises claims already.
const SKIP_LOCKED: &str = "";

/// The job claim, before its `RETURNING`: the writer connection serialises claims, so the
/// sub-select cannot hand one job to two workers.
const CLAIM_JOBS: &str = "UPDATE jobs SET status = 'running', attempts = attempts + 1, \
                          locked_until = $2, updated_at = $1 \
                          WHERE id IN (SELECT id FROM jobs \
                          WHERE (status = 'queued' AND run_at <= $1) \
                          OR (status = 'running' AND locked_until <= $1) \
                          ORDER BY run_at LIMIT $3)";

/// `column IN ($n, …)`: one bound parameter per id, as SQLite has no arrays.
fn push_one_of(query: &mut QueryBuilder<'_, Db>, column: &str, ids: &[Uuid]) {
    query.push(column).push(" IN (");
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    query.push(")");
}

/// Products whose name or description holds every term, through the FTS5 index of
/// `0004_catalog.sql`. Each term is quoted, so that FTS5 reads it as a word, never as syntax
/// (terms are letters and digits only).
fn push_search(query: &mut QueryBuilder<'_, Db>, terms: &[String]) {
    let all_of: Vec<String> = terms.iter().map(|t| format!("\"{t}\"")).collect();
    query
        .push("search_rowid IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ")
        .push_bind(all_of.join(" "))
        .push(")");
}

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
        // The writer's page cache holds the hot index pages of a large sale (SQLite's default
        // is 2 MiB): a purchase inserts into indexes keyed by random ids, and with the default
        // each batch reread most of the pages it touched. A checkpoint every 64 MiB of WAL
        // rather than every 4 MiB: a batch of a large sale dirties megabytes of index pages,
        // and with the default nearly every commit paid for a checkpoint too (a page written by
        // several commits reaches the database file once per checkpoint).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(
                options
                    .clone()
                    .pragma("cache_size", WRITER_CACHE)
                    .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES),
            )
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

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }
}
