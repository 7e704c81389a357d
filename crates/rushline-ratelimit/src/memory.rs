use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{Admission, Limit, RateLimitError, RateLimiter, Ticket};

/// After this many acquisitions, windows whose events have all left them are dropped, so that
/// keys seen once (an address tried once) do not stay in memory for ever.
const SWEEP_EVERY: u64 = 1024;

/// The rate limiter of a single node: a window of event times per key, behind one mutex held
/// only for a few comparisons.
#[derive(Default)]
pub struct MemoryRateLimiter {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    windows: HashMap<String, Window>,
    acquisitions: u64,
}

struct Window {
    limit: Limit,
    events: VecDeque<(DateTime<Utc>, Ticket)>,
}

impl Window {
    fn forget_before(&mut self, now: DateTime<Utc>) {
        let start = now - self.limit.per;
        self.events.retain(|(at, _)| *at > start);
    }
}

impl MemoryRateLimiter {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn acquire(
        &self,
        key: &str,
        limit: Limit,
        now: DateTime<Utc>,
    ) -> Result<Admission, RateLimitError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.acquisitions += 1;
        if state.acquisitions.is_multiple_of(SWEEP_EVERY) {
            state.windows.retain(|_, window| {
                window.forget_before(now);
                !window.events.is_empty()
            });
        }
        let window = state
            .windows
            .entry(key.to_owned())
            .or_insert_with(|| Window {
                limit,
                events: VecDeque::new(),
            });
        window.limit = limit;
        window.forget_before(now);
        let max = usize::try_from(limit.max).unwrap_or(usize::MAX);
        if window.events.len() >= max {
            let mut times: Vec<_> = window.events.iter().map(|(at, _)| *at).collect();
            times.sort_unstable();
            // Enough events must leave the window to bring the count below `max`; the last of
            // them to leave decides when.
            let retry_after = match times.get(times.len() - max) {
                Some(at) => *at + limit.per - now,
                None => limit.per,
            };
            return Ok(Admission::Refused { retry_after });
        }
        let ticket = Ticket(Uuid::new_v4());
        window.events.push_back((now, ticket));
        Ok(Admission::Allowed(ticket))
    }

    async fn release(&self, key: &str, ticket: Ticket) -> Result<(), RateLimitError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(window) = state.windows.get_mut(key) {
            window.events.retain(|(_, t)| *t != ticket);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    #[tokio::test]
    async fn windows_whose_events_all_left_are_swept_away() {
        let limiter = MemoryRateLimiter::new();
        let limit = Limit {
            max: 5,
            per: TimeDelta::minutes(15),
        };
        let t0 = DateTime::from_timestamp(1_772_355_600, 0).unwrap();
        for i in 0..SWEEP_EVERY - 1 {
            limiter
                .acquire(&format!("once:{i}"), limit, t0)
                .await
                .unwrap();
        }
        let later = t0 + TimeDelta::minutes(15);
        limiter.acquire("recent", limit, later).await.unwrap();
        let windows = &limiter.state.lock().unwrap().windows;
        assert_eq!(windows.keys().collect::<Vec<_>>(), ["recent"]);
    }
}
