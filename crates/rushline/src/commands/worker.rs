use std::path::Path;

use tokio_util::sync::CancellationToken;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Do not apply database migrations at start.
    #[arg(long)]
    pub no_migrate: bool,
}

/// Runs background jobs only: no API, just `/healthz` and `/metrics` on `worker.addr`. Any
/// number of workers and `serve --no-jobs` nodes share one database; each due job runs once.
pub fn run(config: Option<&Path>, args: Args) -> anyhow::Result<()> {
    let config = super::load_config(config)?;
    let _telemetry = crate::telemetry::init(&config.log, &config.telemetry)?;
    super::runtime()?.block_on(async {
        let (node, listener) =
            super::start(&config, args.no_migrate, config.worker.addr, "worker.addr").await?;
        let addr = listener.local_addr()?;
        println!("rushline worker: jobs running; /healthz and /metrics on http://{addr}");
        tracing::info!(%addr, database = %node.state.store.backend(), "running jobs");
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            super::Signals::new().next().await;
            tracing::info!("stopping: no new jobs, finishing the running ones");
            stop.cancel();
        });
        node.work(listener, shutdown).await
    })
}
