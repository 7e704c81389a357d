use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use rushline_loadtest::FlashSale;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// A flash sale: N buyers after a limited drop, at its opening, over a fixed number of
    /// keep-alive connections; then the invariants. Exits non-zero when one fails.
    FlashSale(FlashSaleArgs),
}

#[derive(Debug, clap::Args)]
pub struct FlashSaleArgs {
    /// A node's base URL; repeat for several nodes, which get requests round-robin.
    #[arg(long = "url", required = true, value_name = "URL")]
    pub urls: Vec<String>,
    #[arg(long, default_value_t = 1_000)]
    pub buyers: usize,
    /// Units in the drop.
    #[arg(long, default_value_t = 100)]
    pub stock: u64,
    #[arg(long, default_value_t = 1)]
    pub per_user_limit: u32,
    /// Keep-alive HTTP/1.1 connections (requests in flight at once).
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Keep buying this long after the opening (`30s`, `2m`), past the sell-out, to measure
    /// the sold-out path too; without it the run ends when every buyer is done.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Put a waiting room in front of the drop: buyers join before the opening, poll their
    /// place and buy with their pass.
    #[arg(long)]
    pub waiting_room: bool,
    /// The waiting room's admission rate (buyers per minute, at most 100000).
    #[arg(long, default_value_t = 60_000, requires = "waiting_room")]
    pub admit_per_minute: u32,
    /// How long after the setup the drop opens.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub open_in: Duration,
    /// First drive `GET /healthz` over the same connections this long (`5s`), and give the
    /// purchase rate as a share of that HTTP ceiling.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub baseline: Option<Duration>,
    /// Write the summary, a latency histogram and the throughput per second as one
    /// self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write the summary as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// An admin account's e-mail (see `rushline admin create-user`).
    #[arg(long, env = "RUSHLINE_ADMIN_EMAIL")]
    pub admin_email: String,
    /// Its password; prefer the environment variable, which `ps` does not show.
    #[arg(long, env = "RUSHLINE_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: String,
}

pub fn run(command: Command) -> anyhow::Result<()> {
    let Command::FlashSale(args) = command;
    let sale = FlashSale {
        urls: args.urls,
        buyers: args.buyers,
        stock: args.stock,
        per_user_limit: args.per_user_limit,
        connections: args.connections,
        duration: args.duration,
        admit_per_minute: args.waiting_room.then_some(args.admit_per_minute),
        open_in: args.open_in,
        baseline: args.baseline,
        admin_email: args.admin_email,
        admin_password: args.admin_password,
        progress: true,
    };
    let summary = super::runtime()?.block_on(sale.run())?;
    print!("{}", summary.text());
    if let Some(path) = &args.json {
        let json =
            serde_json::to_string_pretty(&summary).context("cannot serialise the summary")?;
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.report {
        std::fs::write(path, summary.html())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    anyhow::ensure!(summary.passed(), "an invariant check failed");
    Ok(())
}
