//! `cargo bench -p rushline-bench [-- OPTIONS]`: runs the claim strategies, prints the table and
//! writes it as Markdown. Exits non-zero when a strategy oversold or could not run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use rushline_bench::{Strategy, Workload, console_table, markdown, run};

#[derive(Debug, Parser)]
#[command(about = "Claim strategies under one workload: claims/s, latency, oversell check")]
struct Args {
    /// How long each run claims, unless the pool sells out first (e.g. `10s`, `500ms`).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Concurrent claiming tasks; one run per value.
    #[arg(long, value_delimiter = ',', default_value = "16,64,256",
          value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: Vec<u16>,
    /// Strategies to run, comma-separated [default: all].
    #[arg(long, value_delimiter = ',')]
    strategies: Vec<Strategy>,
    /// Units in the pool.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    units: u64,
    /// Where to write the Markdown table [default: bench-strategies.md in cargo's target
    /// directory]. A relative path is taken from crates/rushline-bench, where cargo runs
    /// benchmarks.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Passed by `cargo bench` to every benchmark; nothing to do here.
    #[arg(long, hide = true)]
    bench: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let strategies = if args.strategies.is_empty() {
        Strategy::ALL.to_vec()
    } else {
        args.strategies.clone()
    };
    let mut measurements = Vec::new();
    let mut notes = Vec::new();
    let mut failed = false;
    for strategy in strategies {
        let name = strategy.name();
        if let Some(var) = strategy.unconfigured() {
            eprintln!("skipped {name}: {var} is not set");
            notes.push(format!("Skipped {name}: {var} is not set."));
            continue;
        }
        for &concurrency in &args.concurrency {
            let workload = Workload {
                units: args.units,
                concurrency: usize::from(concurrency),
                duration: args.duration,
            };
            eprintln!("{name} at C={concurrency}: setting up and running");
            match run(strategy, &workload).await {
                Ok(measurement) => {
                    if let Err(why) = &measurement.check {
                        failed = true;
                        eprintln!("{name} at C={concurrency} FAILED the oversell check: {why}");
                        notes.push(format!(
                            "{name} at C={concurrency} FAILED the oversell check: {why}."
                        ));
                    }
                    measurements.push(measurement);
                }
                Err(e) => {
                    failed = true;
                    eprintln!("{name} at C={concurrency} did not finish: {e:#}");
                    notes.push(format!("{name} at C={concurrency} did not finish: {e:#}."));
                }
            }
        }
    }

    println!("{}", console_table(&measurements));
    let document = markdown(&measurements, args.units, args.duration, &notes);
    match write(args.out, &document) {
        Ok(path) => eprintln!("wrote {}", path.display()),
        Err(e) => {
            failed = true;
            eprintln!("could not write the Markdown table: {e:#}");
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn write(out: Option<PathBuf>, document: &str) -> anyhow::Result<PathBuf> {
    let path = match out {
        Some(path) => path,
        // This binary is `<target>/<profile>/deps/strategies-<hash>`.
        None => std::env::current_exe()?
            .ancestors()
            .nth(3)
            .context("cannot tell cargo's target directory from this binary's path")?
            .join("bench-strategies.md"),
    };
    std::fs::write(&path, document).with_context(|| format!("write {}", path.display()))?;
    Ok(std::path::absolute(&path)?)
}
