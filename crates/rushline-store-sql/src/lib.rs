//! The SQL backends of rushline's storage port: SQLite for one machine, PostgreSQL for several.
//!
//! Every store trait is implemented once, in `shared/`, and compiled into each backend module
//! ([`sqlite`], [`postgres`]) against the seam that module defines: its `sqlx` database type, its
//! store and pools, migrations, error mapping, and the few fragments of SQL the two dialects spell
//! differently (docs/ARCHITECTURE.md, "Storage", says why it is built this way).
//!
//! This crate owns the SQL and the schema. It must hold no business rule beyond the invariants
//! the database checks again (pool totals, per-buyer limits, status changes only from the expected
//! status), and knows nothing of HTTP.

pub mod postgres;
pub mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

#[cfg(test)]
mod mail_scrub;
#[cfg(test)]
mod not_selected_upgrade;
#[cfg(test)]
mod schema_parity;
#[cfg(test)]
mod test_postgres;
