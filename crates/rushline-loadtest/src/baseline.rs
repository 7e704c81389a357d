//! `--baseline`: the HTTP ceiling of the nodes under test, measured with the same client and
//! connections as the sale (`GET /healthz`, which touches no dependency), so that the sale's
//! rates read as a share of what the stack itself carries on this machine.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use reqwest::Method;
use serde::Serialize;

use crate::Error;
use crate::api::Api;
use crate::stats::MAX_LATENCY_MICROS;
use crate::summary::Latency;

#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    pub seconds: f64,
    /// `GET /healthz` answered 200.
    pub requests: u64,
    pub requests_per_second: f64,
    pub latency_ms: Latency,
}

/// Drives `GET /healthz` over `connections` connections for `duration`.
pub(crate) async fn measure(
    api: &Api,
    connections: usize,
    duration: Duration,
) -> Result<Baseline, Error> {
    let started = Instant::now();
    let until = started + duration;
    let loops = (0..connections).map(|_| async move {
        let mut latency = histogram();
        while Instant::now() < until {
            let sent = Instant::now();
            let answer = api
                .send(api.request(Method::GET, "/healthz", None))
                .await
                .map_err(|failure| failure.into_error("the baseline's GET /healthz"))?;
            if !answer.status.is_success() {
                return Err(answer.refused("the baseline's GET /healthz"));
            }
            let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
            latency.saturating_record(micros.max(1));
        }
        Ok(latency)
    });
    let mut latency = histogram();
    for each in futures::future::join_all(loops).await {
        latency
            .add(each?)
            .map_err(|e| Error::Task(format!("merging the baseline's latencies: {e}")))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(Baseline {
        seconds,
        requests: latency.len(),
        requests_per_second: latency.len() as f64 / seconds,
        latency_ms: Latency::of(&latency),
    })
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, 3)
        .expect("constant bounds a histogram accepts")
}
