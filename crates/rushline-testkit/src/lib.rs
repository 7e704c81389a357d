//! The test harness: every test gets its own database (a SQLite file or a PostgreSQL schema) and
//! its own Redis key prefix, so tests run in parallel on one machine's shared servers.
//!
//! PostgreSQL and Redis suites run when `RUSHLINE_TEST_POSTGRES_URL` / `RUSHLINE_TEST_REDIS_URL`
//! are set. In CI (`CI` set) a missing URL fails the test instead of skipping it: a backend suite
//! that silently skips in CI is a hole.

mod db;

pub use db::{TestDb, postgres_url};
