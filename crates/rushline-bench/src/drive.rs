//! The load every strategy gets: the same tasks, the same stop rules, the same clock.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::task::JoinSet;

use crate::Workload;

/// What one claim call came to.
pub(crate) struct Attempt {
    pub granted: bool,
    /// Round trips spent waiting for a turn (see [`crate::Measurement::retries`]).
    pub retries: u64,
}

impl Attempt {
    pub fn granted() -> Self {
        Self {
            granted: true,
            retries: 0,
        }
    }

    pub fn sold_out() -> Self {
        Self {
            granted: false,
            retries: 0,
        }
    }
}

/// One strategy's claim step.
pub(crate) trait Claimer: Send + Sync + 'static {
    /// Claims one unit for buyer `n`: every call of a run gets another `n`, counting from 0, so
    /// a run of `units` units and `concurrency` tasks asks for fewer than `units + concurrency`
    /// buyers unless the strategy oversells.
    fn claim(&self, n: u64) -> impl Future<Output = anyhow::Result<Attempt>> + Send;
}

pub(crate) struct Run {
    pub granted: u64,
    pub retries: u64,
    pub elapsed: Duration,
    pub latency: Histogram<u64>,
}

/// Runs `workload.concurrency` tasks, each claiming until the deadline or until it is told the
/// pool is sold out; one sold-out answer stops every task before its next claim.
pub(crate) async fn drive<C: Claimer>(claimer: Arc<C>, workload: &Workload) -> anyhow::Result<Run> {
    let next = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = started + workload.duration;
    let mut tasks = JoinSet::new();
    for _ in 0..workload.concurrency {
        let (claimer, next, stop) = (Arc::clone(&claimer), Arc::clone(&next), Arc::clone(&stop));
        tasks.spawn(async move {
            let tally = claim_until(&*claimer, &next, &stop, deadline).await;
            if tally.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            tally
        });
    }
    let mut run = Run {
        granted: 0,
        retries: 0,
        elapsed: Duration::ZERO,
        latency: new_histogram(),
    };
    let mut failed = None;
    while let Some(joined) = tasks.join_next().await {
        match joined? {
            Ok(tally) => {
                run.granted += tally.granted;
                run.retries += tally.retries;
                run.latency.add(&tally.latency)?;
            }
            Err(e) => {
                failed.get_or_insert(e);
            }
        }
    }
    run.elapsed = started.elapsed();
    match failed {
        Some(e) => Err(e),
        None => Ok(run),
    }
}

struct Tally {
    granted: u64,
    retries: u64,
    latency: Histogram<u64>,
}

async fn claim_until(
    claimer: &impl Claimer,
    next: &AtomicU64,
    stop: &AtomicBool,
    deadline: Instant,
) -> anyhow::Result<Tally> {
    let mut tally = Tally {
        granted: 0,
        retries: 0,
        latency: new_histogram(),
    };
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let asked = Instant::now();
        let attempt = claimer.claim(n).await?;
        let took = u64::try_from(asked.elapsed().as_nanos()).unwrap_or(u64::MAX);
        tally.latency.saturating_record(took);
        tally.retries += attempt.retries;
        if attempt.granted {
            tally.granted += 1;
        } else {
            stop.store(true, Ordering::Relaxed);
        }
    }
    Ok(tally)
}

/// Nanoseconds from 1 to a minute, to three significant digits.
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}
