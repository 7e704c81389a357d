//! The results table, for the terminal and as Markdown.

use std::fmt::Write as _;
use std::time::Duration;

use crate::Measurement;

const HEADER: [&str; 9] = [
    "strategy",
    "C",
    "claims/s",
    "p50",
    "p99",
    "max",
    "granted",
    "retries/claim",
    "oversell check",
];

fn row(m: &Measurement) -> [String; 9] {
    let retries = if m.retries == 0 {
        "–".to_owned()
    } else {
        format!("{:.1}", m.retries as f64 / m.latency.len().max(1) as f64)
    };
    [
        m.strategy.name().to_owned(),
        m.concurrency.to_string(),
        thousands(m.claims_per_second().round() as u64),
        nanos(m.latency.value_at_quantile(0.5)),
        nanos(m.latency.value_at_quantile(0.99)),
        nanos(m.latency.max()),
        format!(
            "{} in {:.2} s",
            thousands(m.granted),
            m.elapsed.as_secs_f64()
        ),
        retries,
        if m.check.is_ok() { "ok" } else { "FAILED" }.to_owned(),
    ]
}

/// The table with aligned columns, for the terminal.
pub fn console_table(measurements: &[Measurement]) -> String {
    let rows: Vec<[String; 9]> = measurements.iter().map(row).collect();
    let mut widths = HEADER.map(|title| title.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = HEADER.map(str::to_owned);
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, width))| {
                let pad = " ".repeat(width - cell.chars().count());
                // Names to the left, numbers to the right.
                if i == 0 {
                    format!("{cell}{pad}")
                } else {
                    format!("{pad}{cell}")
                }
            })
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end()).expect("writing to a String");
    }
    out
}

/// The table as a Markdown document: what ran, the table, and any failed checks.
pub fn markdown(
    measurements: &[Measurement],
    units: u64,
    duration: Duration,
    notes: &[String],
) -> String {
    let mut out = format!(
        "One pool of {} units; C tasks claim one unit at a time, each for a buyer of its own, \
         for {} or until the pool is sold out. Latency is per claim call.\n\n",
        thousands(units),
        humantime::format_duration(duration)
    );
    writeln!(out, "| {} |", HEADER.join(" | ")).expect("writing to a String");
    let align: Vec<&str> = (0..HEADER.len())
        .map(|i| if i == 0 { "---" } else { "---:" })
        .collect();
    writeln!(out, "|{}|", align.join("|")).expect("writing to a String");
    for m in measurements {
        writeln!(out, "| {} |", row(m).join(" | ")).expect("writing to a String");
    }
    for note in notes {
        writeln!(out, "\n{note}").expect("writing to a String");
    }
    out
}

/// A latency in the unit that keeps it short: `850 ns`, `12.3 µs`, `4.56 ms`, `1.20 s`.
fn nanos(ns: u64) -> String {
    let ns = ns as f64;
    let (value, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    let precision = if unit == "ns" || value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.precision$} {unit}")
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_easily() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(nanos(850), "850 ns");
        assert_eq!(nanos(12_345), "12.3 µs");
        assert_eq!(nanos(4_561_000), "4.56 ms");
        assert_eq!(nanos(1_200_000_000), "1.20 s");
    }
}
