use std::path::Path;
use std::time::Duration;

use rushline_app::payments::Payments;
use rushline_server::AppState;
use tokio_util::sync::CancellationToken;

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
    let _telemetry = crate::telemetry::init(&config.log, &config.telemetry)?;
    super::runtime()?.block_on(async {
        let (node, listener) =
            super::start(&config, args.no_migrate, config.http.addr, "http.addr").await?;
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
        tokio::spawn(drain_on_signal(
            node.state.clone(),
            config.http.drain_grace,
            shutdown.clone(),
        ));
        node.serve(listener, shutdown, !args.no_jobs).await
    })
}

/// On SIGINT or SIGTERM: `/readyz` answers 503 for `grace` while the node still serves, so that
/// load balancers stop sending it requests; then `shutdown` is cancelled, and the node stops
/// accepting, finishes in-flight requests and the group commit, and exits. A second signal
/// ends the grace at once.
async fn drain_on_signal(state: AppState, grace: Duration, shutdown: CancellationToken) {
    let mut signals = super::Signals::new();
    signals.next().await;
    state.start_draining();
    tracing::info!(
        ?grace,
        "draining: /readyz answers 503; still serving until the grace ends"
    );
    tokio::select! {
        () = tokio::time::sleep(grace) => {}
        () = signals.next() => tracing::info!("second signal: ending the grace now"),
    }
    tracing::info!("shutting down: no new connections, finishing in-flight requests");
    shutdown.cancel();
}
