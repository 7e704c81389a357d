//! Wiring: from a [`Config`] to the objects a node runs, backends picked once from URL schemes.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use chrono::TimeDelta;
use rushline_domain::Clock;
use rushline_jobs::{Worker, WorkerOptions};
use rushline_server::auth::AccessTokens;
use rushline_server::{App, AppState};
use rushline_store::Store;
use rushline_store_postgres::PgStore;
use rushline_store_sqlite::SqliteStore;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::Config;
use crate::config::ServiceUrl;

/// One node: the shared state behind the HTTP API and the job worker.
pub struct Rushline {
    pub config: Config,
    pub state: AppState,
    registry: Arc<rushline_jobs::Registry>,
}

impl Rushline {
    /// Connects to every configured backend. Does not migrate and does not listen.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let store = open_store(&config).await?;
        let redis = match &config.redis.url {
            Some(url) => Some(connect_redis(url).await.context("redis.url")?),
            None => None,
        };
        let secret = jwt_secret(&config)?;
        let catalog = crate::catalog::open_catalog(&config, redis.as_ref())?;
        let state = AppState::new(App {
            store,
            clock,
            redis,
            metrics: rushline_server::prometheus_handle(),
            tokens: AccessTokens::new(&secret, TimeDelta::from_std(config.auth.access_ttl)?),
            catalog,
        });
        let registry = Arc::new(rushline_server::jobs::registry(&state));
        Ok(Self {
            config,
            state,
            registry,
        })
    }

    pub fn router(&self) -> Router {
        rushline_server::router(self.state.clone())
    }

    /// A job worker for this node; tests call `run_due` on it after moving the clock.
    pub fn worker(&self) -> Worker {
        Worker::new(
            self.state.store.clone(),
            self.state.clock.clone(),
            self.registry.clone(),
            WorkerOptions {
                poll_interval: self.config.jobs.poll_interval,
                lease: self.config.jobs.lease,
                ..WorkerOptions::default()
            },
        )
    }

    /// Serves HTTP on `listener` (and runs jobs when `jobs`) until `shutdown` is cancelled, then
    /// drains in-flight requests and the job batch in progress.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: CancellationToken,
        jobs: bool,
    ) -> anyhow::Result<()> {
        let worker = jobs.then(|| tokio::spawn(self.worker().run(shutdown.clone())));
        let stopping = shutdown.clone();
        rushline_server::serve(
            listener,
            self.router(),
            async move { stopping.cancelled().await },
            self.config.http.shutdown_grace,
        )
        .await
        .context("HTTP server failed")?;
        shutdown.cancel();
        if let Some(worker) = worker {
            worker.await.context("job worker panicked")?;
        }
        Ok(())
    }
}

/// The system of record named by `database.url` (SQLite in `data_dir` by default).
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.database_url();
    Ok(match url.scheme() {
        "sqlite" => {
            std::fs::create_dir_all(&config.data_dir)
                .with_context(|| format!("cannot create data_dir {}", config.data_dir.display()))?;
            Arc::new(
                SqliteStore::connect(url.expose())
                    .await
                    .with_context(|| format!("cannot open {url}"))?,
            )
        }
        _ => Arc::new(
            PgStore::connect(url.expose(), config.database.max_connections)
                .with_context(|| format!("database.url {url}"))?,
        ),
    })
}

async fn connect_redis(url: &ServiceUrl) -> anyhow::Result<redis::aio::ConnectionManager> {
    let client = redis::Client::open(url.expose()).with_context(|| format!("invalid URL {url}"))?;
    client
        .get_connection_manager()
        .await
        .with_context(|| format!("cannot reach Redis at {url}"))
}

/// The configured token-signing secret, else the one generated into `data_dir` on first start.
fn jwt_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.auth.jwt_secret {
        return Ok(secret.expose().as_bytes().to_vec());
    }
    let path = config.data_dir.join("jwt_secret");
    match std::fs::read_to_string(&path) {
        Ok(hex) => {
            hex::decode(hex.trim()).with_context(|| format!("{} is not hex", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&config.data_dir)
                .with_context(|| format!("cannot create data_dir {}", config.data_dir.display()))?;
            let secret: [u8; 32] = rand::random();
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            file.write_all(hex::encode(secret).as_bytes())?;
            tracing::info!(path = %path.display(), "generated a token-signing secret; set auth.jwt_secret to share one across nodes");
            Ok(secret.to_vec())
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}
