//! The outcome of a run: throughput, latency, counts, and the invariant checks; printed as text,
//! written as JSON (`--json`) or as an HTML page (`--report`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hdrhistogram::Histogram;
use serde::Serialize;
use uuid::Uuid;

use crate::api::ServerOrder;
use crate::baseline::Baseline;
use crate::buyer::End;
use crate::stats::{Counts, Stats};

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub urls: Vec<String>,
    pub buyers: usize,
    pub stock: u64,
    pub per_user_limit: u32,
    pub connections: usize,
    pub duration_seconds: Option<f64>,
    /// Set for a drop behind a waiting room.
    pub admit_per_minute: Option<u32>,
    pub drop_id: Uuid,
    pub opens_at: DateTime<Utc>,
    pub setup: SetupTimes,
    /// `GET /healthz` over the same connections just before the sale (`--baseline`).
    pub baseline: Option<Baseline>,
    /// Purchases per second as a share of the baseline's requests per second (0.25 = 25 %).
    pub purchases_share_of_baseline: Option<f64>,
    /// From the opening to the last purchase answer.
    pub elapsed_seconds: f64,
    /// Purchase requests (queue requests are counted apart).
    pub requests: u64,
    pub requests_per_second: f64,
    /// Purchases answered 201.
    pub purchases: u64,
    /// 201s per second from the opening to the last 201.
    pub purchases_per_second: f64,
    /// When the last 201 came in, from the opening.
    pub last_purchase_after_seconds: Option<f64>,
    /// Of purchase requests, from sending to the whole answer read (time spent waiting for a
    /// free connection not included).
    pub latency_ms: Latency,
    /// Purchase answers by status (`201`, `409`, …; `timeout`, `connect`, `transport` for none).
    pub statuses: BTreeMap<String, u64>,
    /// Purchase error answers by their `error.code`.
    pub error_codes: BTreeMap<String, u64>,
    pub queue: Option<QueueCounts>,
    pub outcomes: Outcomes,
    /// Units in the distinct orders of the 201s.
    pub granted_units: u64,
    pub checks: Vec<Check>,
    /// Purchase answers and 201s per second from the opening.
    pub per_second: Vec<PerSecond>,
    pub latency_buckets: Vec<LatencyBucket>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SetupTimes {
    pub accounts: usize,
    pub import_seconds: f64,
    pub login_seconds: f64,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueueCounts {
    /// Joins and polls.
    pub requests: u64,
    pub statuses: BTreeMap<String, u64>,
    pub error_codes: BTreeMap<String, u64>,
}

/// How each buyer's attempts ended.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcomes {
    /// Bought up to the per-user limit.
    pub won: u64,
    pub sold_out: u64,
    pub limit_reached: u64,
    pub closed: u64,
    pub gave_up: u64,
    /// Still trying when the duration ran out.
    pub unfinished: u64,
    /// Why buyers gave up, with how many did.
    pub gave_up_reasons: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub outcome: CheckOutcome,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Passed,
    Failed,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct PerSecond {
    pub second: usize,
    pub requests: u64,
    pub purchases: u64,
}

/// Purchase latencies from `from_ms` (inclusive) up to `to_ms` (exclusive; none for the last).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LatencyBucket {
    pub from_ms: f64,
    pub to_ms: Option<f64>,
    pub count: u64,
}

impl Summary {
    /// No check failed.
    pub fn passed(&self) -> bool {
        self.checks
            .iter()
            .all(|c| c.outcome != CheckOutcome::Failed)
    }

    /// The summary for a terminal.
    pub fn text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "flash sale: {} buyers, {} units, limit {} per buyer, {} connections, {} node(s){}",
            self.buyers,
            self.stock,
            self.per_user_limit,
            self.connections,
            self.urls.len(),
            self.admit_per_minute
                .map(|r| format!(", waiting room admitting {r}/min"))
                .unwrap_or_default(),
        );
        let _ = writeln!(
            t,
            "setup:     imported {} accounts in {:.1} s; {} buyers logged in within {:.1} s",
            self.setup.accounts, self.setup.import_seconds, self.buyers, self.setup.login_seconds
        );
        if let Some(b) = &self.baseline {
            let l = b.latency_ms;
            let _ = writeln!(
                t,
                "baseline:  GET /healthz {:.0} requests/s over {:.1} s (p50 {:.2} ms, p99 {:.2} ms)",
                b.requests_per_second, b.seconds, l.p50, l.p99
            );
        }
        let _ = writeln!(
            t,
            "requests:  {} purchase requests in {:.2} s = {:.0} requests/s",
            self.requests, self.elapsed_seconds, self.requests_per_second
        );
        let _ = writeln!(
            t,
            "purchases: {} (201) = {:.0} purchases/s{}{}",
            self.purchases,
            self.purchases_per_second,
            self.purchases_share_of_baseline
                .map(|share| format!(" = {:.1} % of the baseline", share * 100.0))
                .unwrap_or_default(),
            self.last_purchase_after_seconds
                .map(|s| format!(", the last {s:.2} s after the opening"))
                .unwrap_or_default()
        );
        let l = self.latency_ms;
        let _ = writeln!(
            t,
            "latency:   p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms (mean {:.2} ms)",
            l.p50, l.p90, l.p99, l.max, l.mean
        );
        let _ = writeln!(t, "statuses:  {}", counts(&self.statuses));
        if !self.error_codes.is_empty() {
            let _ = writeln!(t, "codes:     {}", counts(&self.error_codes));
        }
        if let Some(queue) = &self.queue {
            let _ = writeln!(
                t,
                "queue:     {} requests: {}",
                queue.requests,
                counts(&queue.statuses)
            );
        }
        let o = &self.outcomes;
        let _ = writeln!(
            t,
            "buyers:    {} won, {} sold out, {} at their limit, {} closed, {} gave up, {} unfinished",
            o.won, o.sold_out, o.limit_reached, o.closed, o.gave_up, o.unfinished
        );
        for (reason, n) in &o.gave_up_reasons {
            let _ = writeln!(t, "           gave up × {n}: {reason}");
        }
        let _ = writeln!(t, "checks:");
        for check in &self.checks {
            let mark = match check.outcome {
                CheckOutcome::Passed => "ok  ",
                CheckOutcome::Failed => "FAIL",
            };
            let _ = writeln!(t, "  {mark} {}: {}", check.name, check.detail);
        }
        t
    }
}

fn counts(map: &BTreeMap<String, u64>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k} × {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a run produced, to be summed up.
pub(crate) struct RunResult {
    pub urls: Vec<String>,
    pub buyers: usize,
    pub stock: u64,
    pub per_user_limit: u32,
    pub connections: usize,
    pub duration: Option<Duration>,
    pub admit_per_minute: Option<u32>,
    pub drop_id: Uuid,
    pub opens_at: DateTime<Utc>,
    pub setup: SetupTimes,
    pub baseline: Option<Baseline>,
    pub stats: Stats,
    /// Per buyer (by index): the orders of its 201s and how it ended.
    pub buyer_results: Vec<(Vec<Uuid>, End)>,
    /// What `GET /drops/{id}` said after the run.
    pub remaining: u64,
    /// The drop's orders as the server lists them.
    pub server_orders: Vec<ServerOrder>,
}

pub(crate) fn summarize(run: RunResult) -> Summary {
    let stats = &run.stats;
    let mut outcomes = Outcomes::default();
    for (_, end) in &run.buyer_results {
        match end {
            End::Won => outcomes.won += 1,
            End::SoldOut => outcomes.sold_out += 1,
            End::LimitReached => outcomes.limit_reached += 1,
            End::Closed => outcomes.closed += 1,
            End::Unfinished => outcomes.unfinished += 1,
            End::GaveUp(reason) => {
                outcomes.gave_up += 1;
                *outcomes.gave_up_reasons.entry(reason.clone()).or_default() += 1;
            }
        }
    }
    let orders: HashSet<Uuid> = run
        .buyer_results
        .iter()
        .flat_map(|(orders, _)| orders.iter().copied())
        .collect();
    let granted = orders.len() as u64;
    let purchases = stats.purchases.statuses.get("201").copied().unwrap_or(0);
    let elapsed = stats.last_answer.as_secs_f64();
    let last_created = stats.last_created.map(|d| d.as_secs_f64());
    let per_second_over = |n: u64, seconds: f64| {
        if seconds > 0.0 {
            n as f64 / seconds
        } else {
            0.0
        }
    };
    let checks = checks(&run, &orders, granted, &outcomes);
    let purchases_per_second = per_second_over(purchases, last_created.unwrap_or(0.0));
    Summary {
        urls: run.urls.clone(),
        buyers: run.buyers,
        stock: run.stock,
        per_user_limit: run.per_user_limit,
        connections: run.connections,
        duration_seconds: run.duration.map(|d| d.as_secs_f64()),
        admit_per_minute: run.admit_per_minute,
        drop_id: run.drop_id,
        opens_at: run.opens_at,
        setup: run.setup.clone(),
        purchases_share_of_baseline: run
            .baseline
            .as_ref()
            .filter(|b| b.requests_per_second > 0.0)
            .map(|b| purchases_per_second / b.requests_per_second),
        baseline: run.baseline.clone(),
        elapsed_seconds: elapsed,
        requests: stats.purchases.requests,
        requests_per_second: per_second_over(stats.purchases.requests, elapsed),
        purchases,
        purchases_per_second,
        last_purchase_after_seconds: last_created,
        latency_ms: Latency::of(&stats.latency),
        statuses: stats.purchases.statuses.clone(),
        error_codes: stats.purchases.codes.clone(),
        queue: run.admit_per_minute.map(|_| queue_counts(&stats.queue)),
        outcomes,
        granted_units: granted,
        checks,
        per_second: stats
            .seconds
            .iter()
            .enumerate()
            .map(|(second, s)| PerSecond {
                second,
                requests: s.requests,
                purchases: s.created,
            })
            .collect(),
        latency_buckets: latency_buckets(stats),
    }
}

fn queue_counts(counts: &Counts) -> QueueCounts {
    QueueCounts {
        requests: counts.requests,
        statuses: counts.statuses.clone(),
        error_codes: counts.codes.clone(),
    }
}

impl Latency {
    /// Of latencies recorded in microseconds.
    pub(crate) fn of(h: &Histogram<u64>) -> Self {
        let ms = |micros: u64| micros as f64 / 1_000.0;
        Self {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
            mean: h.mean() / 1_000.0,
        }
    }
}

/// Bucket edges in milliseconds, roughly logarithmic.
const BUCKET_EDGES_MS: [f64; 16] = [
    0.0, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1_000.0, 2_000.0,
    5_000.0, 10_000.0,
];

fn latency_buckets(stats: &Stats) -> Vec<LatencyBucket> {
    let h = &stats.latency;
    let micros = |ms: f64| (ms * 1_000.0) as u64;
    BUCKET_EDGES_MS
        .iter()
        .enumerate()
        .map(|(i, &from)| {
            let to = BUCKET_EDGES_MS.get(i + 1).copied();
            let count = h
                .iter_recorded()
                .filter(|v| {
                    let value = v.value_iterated_to();
                    value >= micros(from) && to.is_none_or(|to| value < micros(to))
                })
                .map(|v| v.count_at_value())
                .sum();
            LatencyBucket {
                from_ms: from,
                to_ms: to,
                count,
            }
        })
        .collect()
}

fn checks(
    run: &RunResult,
    orders: &HashSet<Uuid>,
    granted: u64,
    outcomes: &Outcomes,
) -> Vec<Check> {
    let limit = u64::from(run.per_user_limit);
    let expected = run.stock.min(run.buyers as u64 * limit);
    let mut checks = Vec::new();

    let unfinished = outcomes.unfinished + outcomes.gave_up;
    checks.push(Check {
        name: "granted units equal the stock",
        outcome: pass_if(granted == expected),
        detail: if expected < run.stock {
            format!(
                "{granted} units granted; {expected} expected ({} buyers × {limit}, fewer than the {} in stock)",
                run.buyers, run.stock
            )
        } else if granted < expected && unfinished > 0 {
            format!(
                "{granted} of {expected} units granted; {unfinished} buyers gave up or were still trying"
            )
        } else {
            format!("{granted} of {expected} units granted")
        },
    });

    let most = run
        .buyer_results
        .iter()
        .map(|(orders, _)| orders.iter().collect::<HashSet<_>>().len() as u64)
        .max()
        .unwrap_or(0);
    let mut detail = format!("the most one buyer got is {most} (limit {limit})");
    let mut within = most <= limit;
    let mut per_buyer: HashMap<Uuid, u64> = HashMap::new();
    for order in &run.server_orders {
        let units: u64 = order
            .lines
            .iter()
            .filter(|l| l.drop_id == Some(run.drop_id))
            .map(|l| l.quantity)
            .sum();
        *per_buyer.entry(order.buyer_id).or_default() += units;
    }
    let server_most = per_buyer.values().copied().max().unwrap_or(0);
    within &= server_most <= limit;
    let _ = write!(detail, "; by the server's orders, {server_most}");
    checks.push(Check {
        name: "nobody over the per-user limit",
        outcome: pass_if(within),
        detail,
    });

    let listed: HashSet<Uuid> = run.server_orders.iter().map(|o| o.id).collect();
    let units: u64 = run
        .server_orders
        .iter()
        .flat_map(|o| &o.lines)
        .filter(|l| l.drop_id == Some(run.drop_id))
        .map(|l| l.quantity)
        .sum();
    let unseen = listed.difference(orders).count();
    let missing = orders.difference(&listed).count();
    checks.push(Check {
        name: "the server's orders are the 201s",
        outcome: pass_if(unseen == 0 && missing == 0 && units == granted),
        detail: format!(
            "the server lists {} orders ({units} units), the client saw {} 201 orders; \
             {missing} of those missing, {unseen} never answered 201",
            listed.len(),
            orders.len()
        ),
    });

    let left = run.stock.saturating_sub(granted);
    checks.push(Check {
        name: "the drop's remaining units are the rest",
        outcome: pass_if(run.remaining == left),
        detail: format!(
            "GET /api/v1/drops/{{id}} says {} remain; {} − {granted} = {left}",
            run.remaining, run.stock
        ),
    });
    checks
}

fn pass_if(ok: bool) -> CheckOutcome {
    if ok {
        CheckOutcome::Passed
    } else {
        CheckOutcome::Failed
    }
}
