//! `cargo bench -p rushline-bench --bench seller_stats [-- OPTIONS]`: a statistics request over
//! a year of a busy seller, beside an ordinary list request of the same run, on SQLite and (with
//! `RUSHLINE_TEST_POSTGRES_URL` and `RUSHLINE_TEST_REDIS_URL`) PostgreSQL.

use std::process::ExitCode;

use clap::Parser;
use rushline_bench::seller_stats::{Year, run};
use rushline_testkit::Backend;

#[derive(Debug, Parser)]
#[command(about = "GET /seller/stats over a year of a busy seller, against GET /drops")]
struct Args {
    /// The seller's drops over the year.
    #[arg(long, default_value_t = 1_000)]
    drops: usize,
    /// The seller's trials over the year.
    #[arg(long, default_value_t = 100)]
    trials: usize,
    /// Other sellers with a row for every day of the year.
    #[arg(long, default_value_t = 999)]
    others: usize,
    /// Timed requests of each kind.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Passed by `cargo bench` to every benchmark; nothing to do here.
    #[arg(long, hide = true)]
    bench: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let year = Year {
        drops: args.drops,
        trials: args.trials,
        others: args.others,
        requests: args.requests,
    };
    let mut failed = false;
    println!(
        "| backend | day rows | answer (days, drops, trials) | stats p50 / p99 | drops list p50 / p99 | p50 ratio |"
    );
    println!("|---|---:|---|---:|---:|---:|");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if !backend.available() {
            eprintln!("skipped {backend:?}: its servers are not configured");
            continue;
        }
        match run(backend, year).await {
            Ok(f) => {
                let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
                println!(
                    "| {backend:?} | {} | {:?} | {:.1} / {:.1} ms | {:.1} / {:.1} ms | {:.1}× |",
                    f.day_rows,
                    f.answered,
                    ms(f.stats.p50()),
                    ms(f.stats.p99()),
                    ms(f.baseline.p50()),
                    ms(f.baseline.p99()),
                    f.stats.p50().as_secs_f64() / f.baseline.p50().as_secs_f64(),
                );
                eprintln!("{backend:?}: seeded in {:.1} s", f.seeding.as_secs_f64());
            }
            Err(e) => {
                eprintln!("{backend:?}: {e:#}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
