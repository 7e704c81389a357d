//! What the buyers saw, recorded as it happens: latencies, statuses and error codes, and
//! per-second counts from the opening.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Latencies are kept in microseconds, up to two minutes, to three significant digits.
pub(crate) const MAX_LATENCY_MICROS: u64 = 120_000_000;

pub(crate) struct Recorder {
    /// The drop's opening, by this machine's clock: second 0 of the per-second counts.
    pub opening: Instant,
    stats: Mutex<Stats>,
}

/// One endpoint's counts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counts {
    pub requests: u64,
    /// By HTTP status, or `timeout` / `connect` / `transport` for a request without an answer.
    pub statuses: BTreeMap<String, u64>,
    /// By the stable `error.code` of error answers.
    pub codes: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Second {
    pub requests: u64,
    pub created: u64,
}

pub(crate) struct Stats {
    pub purchases: Counts,
    pub queue: Counts,
    pub latency: Histogram<u64>,
    /// Purchase requests and 201s, by the second (since the opening) their answer came in.
    pub seconds: Vec<Second>,
    /// When the last purchase answer came in, since the opening.
    pub last_answer: Duration,
    /// When the last 201 came in, since the opening.
    pub last_created: Option<Duration>,
}

/// How one request ended.
pub(crate) enum Ending<'a> {
    Answered { status: u16, code: Option<&'a str> },
    Failed { kind: &'static str },
}

impl Recorder {
    pub fn new(opening: Instant) -> Self {
        Self {
            opening,
            stats: Mutex::new(Stats {
                purchases: Counts::default(),
                queue: Counts::default(),
                latency: Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, 3)
                    .expect("valid histogram bounds"),
                seconds: Vec::new(),
                last_answer: Duration::ZERO,
                last_created: None,
            }),
        }
    }

    pub fn purchase(&self, ending: &Ending<'_>, latency: Duration) {
        let since_opening = self.opening.elapsed();
        let created = matches!(ending, Ending::Answered { status: 201, .. });
        let mut stats = self.stats.lock().expect("stats lock");
        stats.purchases.count(ending);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        stats.latency.saturating_record(micros.max(1));
        let second = usize::try_from(since_opening.as_secs()).unwrap_or(usize::MAX);
        if stats.seconds.len() <= second {
            stats.seconds.resize(second + 1, Second::default());
        }
        stats.seconds[second].requests += 1;
        if created {
            stats.seconds[second].created += 1;
            stats.last_created = Some(since_opening);
        }
        stats.last_answer = stats.last_answer.max(since_opening);
    }

    pub fn queue(&self, ending: &Ending<'_>) {
        self.stats.lock().expect("stats lock").queue.count(ending);
    }

    /// Purchase requests and 201s so far, for the progress bar.
    pub fn progress(&self) -> (u64, u64) {
        let stats = self.stats.lock().expect("stats lock");
        (
            stats.purchases.requests,
            stats.purchases.statuses.get("201").copied().unwrap_or(0),
        )
    }

    pub fn into_stats(self) -> Stats {
        self.stats.into_inner().expect("stats lock")
    }
}

impl Counts {
    fn count(&mut self, ending: &Ending<'_>) {
        self.requests += 1;
        let status = match ending {
            Ending::Answered { status, code } => {
                if let Some(code) = code {
                    *self.codes.entry((*code).to_owned()).or_default() += 1;
                }
                status.to_string()
            }
            Ending::Failed { kind } => (*kind).to_owned(),
        };
        *self.statuses.entry(status).or_default() += 1;
    }
}
