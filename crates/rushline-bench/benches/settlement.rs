//! `cargo bench -p rushline-bench --bench settlement [-- OPTIONS]`: seeds a business day of
//! completed orders across many sellers and times one settlement run over it, per backend.
//! Exits non-zero when a check fails.

use std::process::ExitCode;

use clap::Parser;
use rushline_bench::settlement::{SettleBackend, run};

#[derive(Debug, Parser)]
#[command(about = "One settlement run over a day of completed orders: orders/s, per backend")]
struct Args {
    /// Completed orders of the day, one line each.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    orders: u64,
    /// Sellers they are spread over, evenly.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    sellers: u64,
    /// `sqlite`, `postgres` or both (comma-separated) [default: both; postgres when
    /// RUSHLINE_TEST_POSTGRES_URL is set].
    #[arg(long, value_delimiter = ',')]
    backends: Vec<String>,
    /// Passed by `cargo bench` to every benchmark; nothing to do here.
    #[arg(long, hide = true)]
    bench: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let postgres = rushline_testkit::postgres_url().is_some();
    let backends: Vec<SettleBackend> = if args.backends.is_empty() {
        let mut all = vec![SettleBackend::Sqlite];
        if postgres {
            all.push(SettleBackend::Postgres);
        } else {
            eprintln!("skipped postgres: RUSHLINE_TEST_POSTGRES_URL is not set");
        }
        all
    } else {
        let mut chosen = Vec::new();
        for name in &args.backends {
            match name.as_str() {
                "sqlite" => chosen.push(SettleBackend::Sqlite),
                "postgres" => chosen.push(SettleBackend::Postgres),
                other => {
                    eprintln!("unknown backend {other:?}: sqlite or postgres");
                    return ExitCode::FAILURE;
                }
            }
        }
        chosen
    };
    let mut failed = false;
    println!("| backend | orders | sellers | seeding | settling | orders/s | rerun | check |");
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    for backend in backends {
        eprintln!(
            "{}: seeding {} orders and settling them",
            backend.name(),
            args.orders
        );
        match run(backend, args.orders, args.sellers).await {
            Ok(m) => {
                failed |= m.check.is_err();
                println!(
                    "| {} | {} | {} | {:.1} s | {:.2} s | {:.0} | {:.2} s | {} |",
                    backend.name(),
                    m.orders,
                    m.sellers,
                    m.seeding.as_secs_f64(),
                    m.settling.as_secs_f64(),
                    m.orders_per_second(),
                    m.rerun.as_secs_f64(),
                    m.check
                        .as_ref()
                        .map_or_else(|why| format!("FAILED: {why}"), |()| "ok".to_owned()),
                );
            }
            Err(e) => {
                failed = true;
                eprintln!("{} did not finish: {e:#}", backend.name());
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
