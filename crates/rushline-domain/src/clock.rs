//! Where "now" comes from. Production uses [`SystemClock`]; tests use [`ManualClock`] and move it.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Timelike, Utc};

/// A source of the current time, truncated to microseconds so that a time written to SQLite or
/// PostgreSQL reads back equal.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// `t` without its nanoseconds below a microsecond, which neither database keeps. Works for
/// every time, unlike `duration_trunc`, which needs nanoseconds since 1970 to fit an `i64`.
pub fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = t.nanosecond();
    t.with_nanosecond(nanos - nanos % 1_000).unwrap_or(t)
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        to_micros(Utc::now())
    }
}

/// A clock that only moves when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(to_micros(start))))
    }

    /// Starts at the current system time, so times look real in logs and databases.
    pub fn starting_now() -> Self {
        Self::new(Utc::now())
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now = to_micros(*now + by);
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = to_micros(to);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told_and_clones_share_time() {
        let clock = ManualClock::starting_now();
        let other = clock.clone();
        let t0 = clock.now();
        assert_eq!(clock.now(), t0);
        other.advance(Duration::seconds(90));
        assert_eq!(clock.now(), t0 + Duration::seconds(90));
    }

    #[test]
    fn times_are_truncated_to_microseconds() {
        let t = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        let clock = ManualClock::new(t);
        assert_eq!(clock.now().timestamp_subsec_nanos(), 123_456_000);
        assert_eq!(SystemClock.now().timestamp_subsec_nanos() % 1_000, 0);
    }
}
