use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use rushline_app::settlement::{self, RunSummary};
use rushline_domain::{SystemClock, Won};
use uuid::Uuid;

use crate::Rushline;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The business day to settle (YYYY-MM-DD, in `settlement.timezone`); by default the
    /// previous day, as the daily job does from 00:30.
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// Only this seller's orders.
    #[arg(long)]
    pub seller: Option<Uuid>,
    /// Compute and print everything, then write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(config: Option<&Path>, args: Args) -> anyhow::Result<()> {
    let config = super::load_config(config)?;
    let _telemetry = crate::telemetry::init(&config.log, &config.telemetry)?;
    let zone = config.settlement.timezone.clone();
    let summary = super::runtime()?.block_on(async {
        let node = Rushline::build(config, Arc::new(SystemClock)).await?;
        node.state
            .store
            .migrate()
            .await
            .context("migration failed")?;
        let day = args.date.unwrap_or_else(|| {
            settlement::previous_day(node.state.clock.now(), node.state.settlement.zone)
        });
        let bar = ProgressBar::new(settlement::WINDOWS.unsigned_abs().into()).with_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{wide_bar}] {pos}/{len} windows of {prefix} {msg}",
            )
            .context("the progress bar's template")?
            .progress_chars("=> "),
        );
        bar.set_prefix(day.to_string());
        let started = std::time::Instant::now();
        let progress = |orders: u64| {
            bar.inc(1);
            let rate = orders as f64 / started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!("{orders} orders, {rate:.0} orders/s"));
        };
        let summary = settlement::settle(&node.state, day, args.seller, args.dry_run, &progress)
            .await
            .map_err(|e| anyhow::anyhow!("settling {day} failed: {e:?}"))?;
        bar.finish_and_clear();
        anyhow::Ok(summary)
    })?;
    print!("{}", report(&summary, &zone, args.dry_run));
    Ok(())
}

/// The run in a few lines: counts, speed, the totals, and a line per settlement when few.
fn report(summary: &RunSummary, zone: &str, dry_run: bool) -> String {
    const SHOWN: usize = 20;
    let sellers: HashSet<Uuid> = summary.settlements.iter().map(|s| s.seller_id).collect();
    let orders = summary.orders();
    let secs = summary.elapsed.as_secs_f64();
    #[expect(clippy::cast_precision_loss, reason = "a rate to print")]
    let rate = orders as f64 / secs.max(1e-9);
    let mut text = format!(
        "{} {} ({zone}): {} settlements, {} sellers, {orders} orders in {secs:.2} s ({rate:.0} orders/s)\n",
        if dry_run { "would settle" } else { "settled" },
        summary.day,
        summary.settlements.len(),
        sellers.len(),
    );
    if summary.settlements.is_empty() {
        text.push_str("nothing to settle: every completed order of the day is settled\n");
        return text;
    }
    text.push_str(&format!(
        "{:<38} {:>3} {:>7} {:>13} {:>11} {:>11} {:>9} {:>11} {:>11} {:>13}\n",
        "seller",
        "rev",
        "orders",
        "gross",
        "seller disc",
        "platf disc",
        "points",
        "platf fee",
        "pay fee",
        "net"
    ));
    let row = |name: &str, rev: String, orders: i64, amounts: [Won; 7]| {
        format!(
            "{name:<38} {rev:>3} {orders:>7} {:>13} {:>11} {:>11} {:>9} {:>11} {:>11} {:>13}\n",
            amounts[0], amounts[1], amounts[2], amounts[3], amounts[4], amounts[5], amounts[6]
        )
    };
    let amounts = |s: &rushline_store::Settlement| {
        [
            s.gross,
            s.seller_discount,
            s.platform_discount,
            s.points,
            s.platform_fee,
            s.payment_fee,
            s.net,
        ]
    };
    for s in summary.settlements.iter().take(SHOWN) {
        text.push_str(&row(
            &s.seller_id.to_string(),
            s.revision.to_string(),
            s.orders,
            amounts(s),
        ));
    }
    if summary.settlements.len() > SHOWN {
        text.push_str(&format!(
            "… and {} more\n",
            summary.settlements.len() - SHOWN
        ));
    }
    let mut totals = [0_i64; 7];
    for s in &summary.settlements {
        for (total, amount) in totals.iter_mut().zip(amounts(s)) {
            *total += amount.get();
        }
    }
    text.push_str(&row("total", String::new(), orders, totals.map(Won::new)));
    if dry_run {
        text.push_str("dry run: nothing was written\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::NaiveDate;
    use rushline_store::Settlement;

    use super::*;

    #[test]
    fn the_report_shows_counts_speed_each_settlement_and_the_totals() {
        let settlement = |seller: u128, orders, gross: i64, seller_discount: i64| {
            let base = gross - seller_discount;
            let (platform_fee, payment_fee) = (base / 20, base * 33 / 1000);
            Settlement {
                id: 1,
                seller_id: Uuid::from_u128(seller),
                business_day: NaiveDate::from_ymd_opt(2026, 3, 7).unwrap(),
                revision: 1,
                orders,
                gross: Won::new(gross),
                seller_discount: Won::new(seller_discount),
                platform_discount: Won::new(3_000),
                points: Won::new(4_000),
                platform_fee: Won::new(platform_fee),
                payment_fee: Won::new(payment_fee),
                net: Won::new(base - platform_fee - payment_fee),
                platform_fee_ppm: 50_000,
                payment_fee_ppm: 33_000,
                created_at: chrono::Utc::now(),
                paid_at: None,
            }
        };
        let summary = RunSummary {
            day: NaiveDate::from_ymd_opt(2026, 3, 7).unwrap(),
            settlements: vec![
                settlement(1, 1_200, 118_800_000, 2_000_000),
                settlement(2, 800, 79_200_000, 0),
            ],
            elapsed: Duration::from_millis(20),
        };
        let expected = "\
settled 2026-03-07 (Asia/Seoul): 2 settlements, 2 sellers, 2000 orders in 0.02 s (100000 orders/s)
seller                                 rev  orders         gross seller disc  platf disc    points   platf fee     pay fee           net
00000000-0000-0000-0000-000000000001     1    1200     118800000     2000000        3000      4000     5840000     3854400     107105600
00000000-0000-0000-0000-000000000002     1     800      79200000           0        3000      4000     3960000     2613600      72626400
total                                         2000     198000000     2000000        6000      8000     9800000     6468000     179732000
";
        assert_eq!(report(&summary, "Asia/Seoul", false), expected);
        assert!(report(&summary, "Asia/Seoul", true).ends_with("dry run: nothing was written\n"));
        let empty = RunSummary {
            settlements: Vec::new(),
            ..summary
        };
        assert!(report(&empty, "Asia/Seoul", false).contains("nothing to settle"));
    }
}
