//! `cargo bench -p rushline-bench --bench wishlist [-- OPTIONS]`: the fan-out of one wishlist
//! alert to every wisher of a product, and what the group-commit writer (the purchase path's
//! durable write) does meanwhile, against a baseline of the same load just before; on SQLite and
//! (with `RUSHLINE_TEST_POSTGRES_URL`) PostgreSQL.

use std::process::ExitCode;

use clap::Parser;
use rushline_bench::wishlist;

#[derive(Debug, Parser)]
#[command(about = "Wishlist alert fan-out time, and the group commit beside it")]
struct Args {
    /// Wishers of the product; one run per value.
    #[arg(long, value_delimiter = ',', default_value = "100000")]
    wishers: Vec<usize>,
    /// Concurrent committing tasks.
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
    println!(
        "| backend | wishers | fan-out | commits/s before → during | p99 before → during | max before → during |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for &wishers in &args.wishers {
        for (name, postgres) in [("SQLite", false), ("PostgreSQL", true)] {
            if postgres && std::env::var_os("RUSHLINE_TEST_POSTGRES_URL").is_none() {
                eprintln!("skipped PostgreSQL: RUSHLINE_TEST_POSTGRES_URL is not set");
                continue;
            }
            match wishlist::run(postgres, wishers, args.concurrency).await {
                Ok(f) => println!(
                    "| {name} | {wishers} | {:.2} s | {:.0} → {:.0} | {:.1} → {:.1} ms | {:.1} → {:.1} ms |",
                    f.fan_out.as_secs_f64(),
                    f.baseline.per_second(),
                    f.during.per_second(),
                    f.baseline.p99.as_secs_f64() * 1e3,
                    f.during.p99.as_secs_f64() * 1e3,
                    f.baseline.max.as_secs_f64() * 1e3,
                    f.during.max.as_secs_f64() * 1e3,
                ),
                Err(e) => {
                    eprintln!("{name}, {wishers} wishers: {e:#}");
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
