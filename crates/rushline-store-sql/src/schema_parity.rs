//! Both backends' migrations build the same schema, as far as the two databases can say the same
//! thing:
//!
//! - the same tables, with the same columns, each as nullable on both or on neither. Types differ
//!   by design (`BLOB`/`UUID`, `TEXT`/`TIMESTAMPTZ`, …) and are not compared. SQLite reports its
//!   `INTEGER PRIMARY KEY` (the rowid) as nullable, but it never holds NULL: it counts as NOT NULL.
//! - the same CHECK constraint names per table: SQLite's are the `CONSTRAINT name CHECK` clauses
//!   of the table's SQL, the name its errors report.
//! - the same unique names per table. On PostgreSQL a unique constraint and a unique index both
//!   report their name on a violation, so both count; SQLite reports the columns instead, and the
//!   name is what the error module maps them to. Equal names mean a unique violation is the same
//!   `DbError::Conflict` on both backends.
//! - primary and foreign keys by their columns and what they reference: SQLite cannot name them.
//!
//! Left out, as each backend's own: full-text search (SQLite's `products_fts*` tables and
//! `products.search_rowid` with its unique index, PostgreSQL's `products.search`), sqlx's
//! `_sqlx_migrations`, and `drops_room_prequeue_minutes_check`, which only PostgreSQL has: SQLite
//! cannot add a table constraint to an existing table, so its `0006_waiting_room.sql` folds that
//! check into `drops_waiting_room_check`, and a released migration is never edited.

use std::collections::BTreeSet;
use std::fmt::Debug;

use sqlx::{Connection, PgConnection, Row, SqliteConnection};

use crate::sqlite::error::unique_constraint;
use crate::test_postgres::{self, OwnSchema};

/// What is one backend's own, as (table, column or constraint); see the module's doc.
const BACKEND_OWN: &[(&str, &str)] = &[
    ("products", "search_rowid"),
    ("products", "products.search_rowid"),
    ("products", "search"),
    ("drops", "drops_room_prequeue_minutes_check"),
];

fn is_own(table: &str, name: &str) -> bool {
    table.starts_with("products_fts")
        || table == "_sqlx_migrations"
        || BACKEND_OWN.contains(&(table, name))
}

type Columns = Vec<String>;

#[derive(Debug, Default)]
struct Schema {
    /// (table, column, nullable)
    columns: BTreeSet<(String, String, bool)>,
    primary_keys: BTreeSet<(String, Columns)>,
    /// (table, columns, referenced table, referenced columns)
    foreign_keys: BTreeSet<(String, Columns, String, Columns)>,
    /// (table, name)
    uniques: BTreeSet<(String, String)>,
    /// (table, name)
    checks: BTreeSet<(String, String)>,
}

impl Schema {
    fn add_column(&mut self, table: &str, column: String, nullable: bool) {
        if !is_own(table, &column) {
            self.columns.insert((table.to_owned(), column, nullable));
        }
    }

    fn add_unique(&mut self, table: &str, name: String) {
        if !is_own(table, &name) {
            self.uniques.insert((table.to_owned(), name));
        }
    }

    fn add_check(&mut self, table: &str, name: String) {
        if !is_own(table, &name) {
            self.checks.insert((table.to_owned(), name));
        }
    }
}

async fn sqlite_schema() -> Result<Schema, sqlx::Error> {
    let mut conn = SqliteConnection::connect("sqlite::memory:").await?;
    crate::sqlite::MIGRATOR
        .run(&mut conn)
        .await
        .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
    let mut schema = Schema::default();
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut conn)
    .await?;
    for (table, sql) in tables.iter().filter(|(table, _)| !is_own(table, "")) {
        let mut primary_key = Vec::new();
        let columns = sqlx::query("SELECT name, type, \"notnull\", pk FROM pragma_table_info($1)")
            .bind(table)
            .fetch_all(&mut conn)
            .await?;
        for column in &columns {
            let name: String = column.try_get("name")?;
            let rowid = column.try_get::<String, _>("type")? == "INTEGER"
                && column.try_get::<i64, _>("pk")? > 0;
            let nullable = !column.try_get::<bool, _>("notnull")? && !rowid;
            if column.try_get::<i64, _>("pk")? > 0 {
                primary_key.push((column.try_get::<i64, _>("pk")?, name.clone()));
            }
            schema.add_column(table, name, nullable);
        }
        primary_key.sort();
        if !primary_key.is_empty() {
            schema.primary_keys.insert((
                table.clone(),
                primary_key.into_iter().map(|(_, name)| name).collect(),
            ));
        }

        let keys: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list($1) \
             ORDER BY id, seq",
        )
        .bind(table)
        .fetch_all(&mut conn)
        .await?;
        let mut ids: Vec<i64> = keys.iter().map(|key| key.0).collect();
        ids.dedup();
        for id in ids {
            let parts: Vec<_> = keys.iter().filter(|key| key.0 == id).collect();
            schema.foreign_keys.insert((
                table.clone(),
                parts.iter().map(|key| key.2.clone()).collect(),
                parts[0].1.clone(),
                parts
                    .iter()
                    .map(|key| key.3.clone().unwrap_or_else(|| "(its primary key)".into()))
                    .collect(),
            ));
        }

        let indexes: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM pragma_index_list($1) WHERE \"unique\" = 1 AND origin <> 'pk'",
        )
        .bind(table)
        .fetch_all(&mut conn)
        .await?;
        for index in indexes {
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(&mut conn)
                    .await?;
            let listed: Vec<String> = columns.iter().map(|c| format!("{table}.{c}")).collect();
            schema.add_unique(table, unique_constraint(&listed.join(", ")).to_owned());
        }

        let words: Vec<&str> = sql.split_whitespace().collect();
        for clause in words.windows(3) {
            if clause[0].eq_ignore_ascii_case("CONSTRAINT")
                && clause[2].eq_ignore_ascii_case("CHECK")
            {
                schema.add_check(table, clause[1].to_owned());
            }
        }
    }
    Ok(schema)
}

/// The schema the PostgreSQL migrations build in a schema of their own on the server at
/// `base_url`, dropped afterwards.
async fn postgres_schema(base_url: &str) -> Result<Schema, sqlx::Error> {
    let (own, options) = OwnSchema::create(base_url).await?;
    let schema = match PgConnection::connect_with(&options).await {
        Ok(mut conn) => read_postgres_schema(&mut conn).await,
        Err(e) => Err(e),
    };
    own.remove().await?;
    schema
}

async fn read_postgres_schema(conn: &mut PgConnection) -> Result<Schema, sqlx::Error> {
    crate::postgres::MIGRATOR
        .run(&mut *conn)
        .await
        .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
    let mut schema = Schema::default();
    let columns: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, is_nullable = 'YES' \
         FROM information_schema.columns WHERE table_schema = current_schema()",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (table, column, nullable) in columns.into_iter().filter(|c| !is_own(&c.0, "")) {
        schema.add_column(&table, column, nullable);
    }

    let constraints: Vec<(String, String, String, Columns, Option<String>, Columns)> =
        sqlx::query_as(
            "SELECT t.relname::text, c.contype::text, c.conname::text, \
                    ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(num, i) \
                          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num \
                          ORDER BY k.i), \
                    r.relname::text, \
                    ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(num, i) \
                          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num \
                          ORDER BY k.i) \
             FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
             LEFT JOIN pg_class r ON r.oid = c.confrelid \
             WHERE c.connamespace = current_schema()::regnamespace AND c.contype IN ('p', 'f', 'c')",
        )
        .fetch_all(&mut *conn)
        .await?;
    for (table, kind, name, columns, referenced, referenced_columns) in
        constraints.into_iter().filter(|c| !is_own(&c.0, ""))
    {
        match kind.as_str() {
            "p" => {
                schema.primary_keys.insert((table, columns));
            }
            "f" => {
                let referenced = referenced.unwrap_or_default();
                schema
                    .foreign_keys
                    .insert((table, columns, referenced, referenced_columns));
            }
            _ => schema.add_check(&table, name),
        }
    }

    let uniques: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
         WHERE t.relnamespace = current_schema()::regnamespace \
         AND x.indisunique AND NOT x.indisprimary",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (table, name) in uniques {
        schema.add_unique(&table, name);
    }
    Ok(schema)
}

/// The entries of `sqlite` and `postgres` that the other lacks, one line each.
fn differences<T: Ord + Debug>(
    what: &str,
    sqlite: &BTreeSet<T>,
    postgres: &BTreeSet<T>,
) -> Vec<String> {
    assert!(
        !sqlite.is_empty() && !postgres.is_empty(),
        "no {what} read: the schema was not read"
    );
    let only = |backend: &str, one: &BTreeSet<T>, other: &BTreeSet<T>| {
        one.difference(other)
            .map(|entry| format!("{what} only on {backend}: {entry:?}"))
            .collect::<Vec<_>>()
    };
    let mut lines = only("SQLite", sqlite, postgres);
    lines.extend(only("PostgreSQL", postgres, sqlite));
    lines
}

#[tokio::test]
async fn both_backends_migrate_to_the_same_schema() {
    let Some(base_url) = test_postgres::url() else {
        return;
    };
    let sqlite = sqlite_schema().await.expect("read the SQLite schema");
    let postgres = postgres_schema(&base_url)
        .await
        .expect("read the PostgreSQL schema");

    let mut found = differences(
        "column (table, name, nullable)",
        &sqlite.columns,
        &postgres.columns,
    );
    found.extend(differences(
        "primary key",
        &sqlite.primary_keys,
        &postgres.primary_keys,
    ));
    found.extend(differences(
        "foreign key",
        &sqlite.foreign_keys,
        &postgres.foreign_keys,
    ));
    found.extend(differences("unique", &sqlite.uniques, &postgres.uniques));
    found.extend(differences("check", &sqlite.checks, &postgres.checks));
    assert!(
        found.is_empty(),
        "the backends' schemas differ:\n{}",
        found.join("\n")
    );
}
