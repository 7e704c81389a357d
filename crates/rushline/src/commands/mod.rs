//! One module per subcommand: load the configuration, call into the library.

pub mod admin;
pub mod import_users;
pub mod loadtest;
pub mod migrate;
pub mod raffle;
pub mod serve;
pub mod settle;
pub mod worker;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rushline_domain::SystemClock;

use crate::{Config, Rushline};

fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    Config::load(path).context("invalid configuration")
}

/// A node built from `config` (its schema migrated unless `no_migrate`) and a listener on `addr`,
/// which `key` names in errors: how `serve` and `worker` start.
async fn start(
    config: &Config,
    no_migrate: bool,
    addr: SocketAddr,
    key: &str,
) -> anyhow::Result<(Rushline, tokio::net::TcpListener)> {
    let node = Rushline::build(config.clone(), Arc::new(SystemClock)).await?;
    if !no_migrate {
        node.state
            .store
            .migrate()
            .await
            .context("migration failed")?;
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} ({key})"))?;
    Ok((node, listener))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

/// SIGINT and SIGTERM, as one stream.
struct Signals {
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Self {
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| tracing::warn!(error = %e, "cannot listen for SIGTERM; stopping on SIGINT only"))
            .ok();
        Self { term }
    }

    /// The next SIGINT or SIGTERM.
    async fn next(&mut self) {
        match &mut self.term {
            Some(term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            },
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
