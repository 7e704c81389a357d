//! The PostgreSQL server this crate's own tests use, and a schema of a test's own on it.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

/// `RUSHLINE_TEST_POSTGRES_URL`; None (the test skips) only outside CI, which must test both
/// backends.
pub(crate) fn url() -> Option<String> {
    match std::env::var("RUSHLINE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "RUSHLINE_TEST_POSTGRES_URL is not set, and CI must test PostgreSQL too"
            );
            eprintln!("skipped: RUSHLINE_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

/// A schema of its own on the server, removed by [`OwnSchema::remove`].
pub(crate) struct OwnSchema {
    admin: PgConnection,
    name: String,
}

impl OwnSchema {
    /// Creates the schema on the server at `base_url`; connect with the options returned, whose
    /// search path is the schema.
    pub(crate) async fn create(base_url: &str) -> Result<(Self, PgConnectOptions), sqlx::Error> {
        let name = format!("t_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(base_url).await?;
        admin
            .execute(format!("CREATE SCHEMA {name}").as_str())
            .await?;
        let options = PgConnectOptions::from_str(base_url)?.options([("search_path", &name)]);
        Ok((Self { admin, name }, options))
    }

    pub(crate) async fn remove(mut self) -> Result<(), sqlx::Error> {
        self.admin
            .execute(format!("DROP SCHEMA {} CASCADE", self.name).as_str())
            .await?;
        Ok(())
    }
}
