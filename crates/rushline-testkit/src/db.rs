use std::sync::Arc;

use rushline_store::{Order, OrderFilter, Store};
use rushline_store_sql::{PgStore, SqliteStore};
use sqlx::Connection;
use uuid::Uuid;

/// The base URL of the test PostgreSQL server, or `None` to skip (outside CI only).
pub fn postgres_url() -> Option<String> {
    backend_url("RUSHLINE_TEST_POSTGRES_URL")
}

pub(crate) fn backend_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{var} is not set, and CI must run every backend suite")
        }
        _ => {
            eprintln!("skipped: {var} is not set");
            None
        }
    }
}

/// A freshly migrated, empty database that disappears when dropped.
pub struct TestDb {
    pub url: String,
    pub store: Arc<dyn Store>,
    cleanup: Cleanup,
}

enum Cleanup {
    /// Removes the directory of the database file.
    Sqlite {
        _dir: tempfile::TempDir,
    },
    Postgres {
        base_url: String,
        schema: String,
    },
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("rushline.db").display());
        let store = SqliteStore::connect(&url).await.expect("open SQLite");
        store.migrate().await.expect("migrate SQLite");
        Self {
            url,
            store: Arc::new(store),
            cleanup: Cleanup::Sqlite { _dir: dir },
        }
    }

    /// A schema of its own on the test server; `None` when no server is configured.
    pub async fn postgres() -> Option<Self> {
        let base_url = postgres_url()?;
        let schema = format!("t_{}", Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&base_url)
            .await
            .expect("connect to RUSHLINE_TEST_POSTGRES_URL");
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .await
            .expect("create test schema");
        let separator = if base_url.contains('?') { '&' } else { '?' };
        let url = format!("{base_url}{separator}options[search_path]={schema}");
        let store = PgStore::connect(&url, 16).expect("PostgreSQL options");
        store.migrate().await.expect("migrate PostgreSQL");
        Some(Self {
            url,
            store: Arc::new(store),
            cleanup: Cleanup::Postgres { base_url, schema },
        })
    }

    /// The `(store, guard)` pair the conformance macros expect.
    pub async fn sqlite_pair() -> Option<(Arc<dyn Store>, Self)> {
        let db = Self::sqlite().await;
        Some((db.store.clone(), db))
    }

    pub async fn postgres_pair() -> Option<(Arc<dyn Store>, Self)> {
        let db = Self::postgres().await?;
        Some((db.store.clone(), db))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Cleanup::Postgres { base_url, schema } = &self.cleanup else {
            return;
        };
        let (base_url, drop_sql) = (
            base_url.clone(),
            format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        );
        // Drop runs inside the test's runtime, which cannot block on async work; a thread with a
        // runtime of its own can.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime")
                .block_on(async {
                    let mut admin = sqlx::PgConnection::connect(&base_url).await?;
                    sqlx::query(&drop_sql).execute(&mut admin).await.map(drop)
                })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test schema {schema}: {e}");
        }
    }
}

/// Every order with a line of `drop`, newest first: what the store lists for the drop.
pub async fn orders_of_drop(store: &Arc<dyn Store>, drop: Uuid) -> Vec<Order> {
    let filter = OrderFilter {
        drop_id: Some(drop),
        limit: u32::MAX,
        ..OrderFilter::default()
    };
    store
        .list_orders(&filter)
        .await
        .expect("list the drop's orders")
}
