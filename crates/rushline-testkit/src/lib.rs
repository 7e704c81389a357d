//! The test harness: every test gets its own database (a SQLite file or a PostgreSQL schema) and
//! its own Redis key prefix, so tests run in parallel on one machine's shared servers.
//!
//! PostgreSQL and Redis suites run when `RUSHLINE_TEST_POSTGRES_URL` / `RUSHLINE_TEST_REDIS_URL`
//! are set. In CI (`CI` set) a missing URL fails the test instead of skipping it: a backend suite
//! that silently skips in CI is a hole.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a failed unwrap is a failed test"
)]

mod app;
mod chaos;
mod db;
mod private_redis;
mod redis_prefix;
mod slack;
mod smtp;
mod toss;
mod trial;

pub use app::{Backend, TestApp, TestAppBuilder, TestClient, TestResponse, TestStream, TestUser};
pub use chaos::ChaosProxy;
pub use db::{TestDb, orders_of_drop, postgres_url};
pub use private_redis::PrivateRedis;
pub use redis_prefix::{TestRedis, redis_url};
pub use slack::{FakeSlack, SlackPost};
pub use smtp::{ReceivedMail, SmtpServer};
pub use toss::{FakeToss, TOSS_SECRET, TossCall};
pub use trial::trial;

/// Declares `$name` once per backend pair: `$name::sqlite` (SQLite + memory gate) and
/// `$name::postgres` (PostgreSQL + Redis). The body is an async fn taking a [`Backend`].
#[macro_export]
macro_rules! backend_test {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident: Backend) $body:block) => {
        $(#[$meta])*
        async fn $name($backend: $crate::Backend) $body

        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::Backend::Postgres.available() {
                    super::$name($crate::Backend::Postgres).await
                }
            }
        }
    };
}
