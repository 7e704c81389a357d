//! `cargo bench -p rushline-bench --bench raffles [-- OPTIONS]`: raffle entries per second through
//! the group commit, and the time to draw them, on SQLite and (with `RUSHLINE_TEST_POSTGRES_URL`)
//! PostgreSQL.

use std::process::ExitCode;

use clap::Parser;
use rushline_bench::raffle;

#[derive(Debug, Parser)]
#[command(about = "Raffle entries/s through the group commit, and the draw's time")]
struct Args {
    /// Entrants; one run per value.
    #[arg(long, value_delimiter = ',', default_value = "100000")]
    entries: Vec<usize>,
    /// Concurrent entering tasks.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Passed by `cargo bench` to every benchmark; nothing to do here.
    #[arg(long, hide = true)]
    bench: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut failed = false;
    println!("| backend | entries | entries/s | draw |");
    println!("|---|---:|---:|---:|");
    for &entries in &args.entries {
        for (name, postgres) in [("SQLite", false), ("PostgreSQL", true)] {
            if postgres && std::env::var_os("RUSHLINE_TEST_POSTGRES_URL").is_none() {
                eprintln!("skipped PostgreSQL: RUSHLINE_TEST_POSTGRES_URL is not set");
                continue;
            }
            match raffle::run(postgres, entries, args.concurrency).await {
                Ok(figures) => println!(
                    "| {name} | {entries} | {:.0} | {:.2} s |",
                    figures.entries_per_second(),
                    figures.drawing.as_secs_f64()
                ),
                Err(e) => {
                    eprintln!("{name}, {entries} entries: {e:#}");
                    failed = true;
                }
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
