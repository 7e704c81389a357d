use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rushline_app::payments::Payments;
use rushline_domain::SystemClock;
use tokio_util::sync::CancellationToken;

use crate::Rushline;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Do not apply database migrations at start.
    #[arg(long)]
    pub no_migrate: bool,
    /// Serve the API only; leave background jobs to other nodes or `rushline worker`.
    #[arg(long)]
    pub no_jobs: bool,
}

pub fn run(config: Option<&Path>, args: Args) -> anyhow::Result<()> {
    let config = super::load_config(config)?;
    crate::logging::init(&config.log);
    super::runtime()?.block_on(async {
        let node = Rushline::build(config.clone(), Arc::new(SystemClock)).await?;
        if !args.no_migrate {
            node.state
                .store
                .migrate()
                .await
                .context("migration failed")?;
        }
        let listener = tokio::net::TcpListener::bind(config.http.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.http.addr))?;
        let addr = listener.local_addr()?;
        println!("rushline listening on http://{addr}");
        let payments = node.state.payments.name();
        tracing::info!(%addr, database = %node.state.store.backend(), payments, "serving");
        if matches!(node.state.payments, Payments::Sandbox(_)) {
            tracing::warn!(
                "payments.provider is \"sandbox\": every card but the test numbers is approved \
                 and nothing is charged; not for real sales"
            );
        }
        let shutdown = CancellationToken::new();
        tokio::spawn(stop_on_signal(shutdown.clone()));
        node.serve(listener, shutdown, !args.no_jobs).await
    })
}

/// Cancels `shutdown` on SIGINT or SIGTERM.
async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        },
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; stopping on SIGINT only");
            let _ = ctrl_c.await;
        }
    }
    tracing::info!("shutting down: no new connections, finishing in-flight requests");
    shutdown.cancel();
}
