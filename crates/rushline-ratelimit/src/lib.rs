//! Rate limits: at most `max` events per key within any window of `per`, counted in process
//! ([`MemoryRateLimiter`], one node) or in Redis ([`RedisRateLimiter`], shared by every node).
//!
//! Each event is recorded with its time, so the limit is exact over a sliding window, and one
//! event can be taken back: a login attempt is counted before the password is checked (so that
//! concurrent guesses cannot overrun the limit) and released when it turns out not to be a
//! failure. Time is passed in by the caller from the application clock, never read here, so
//! tests drive the limits with a manual clock.
//!
//! This crate knows keys and counts, not what they mean; it must not touch the database.

mod memory;
mod redis;

#[cfg(feature = "conformance")]
pub mod conformance;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

pub use crate::memory::MemoryRateLimiter;
pub use crate::redis::RedisRateLimiter;

/// At most `max` events within any window of length `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub per: TimeDelta,
}

/// One counted event, by which [`RateLimiter::release`] takes it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ticket(Uuid);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The event was counted.
    Allowed(Ticket),
    /// `max` events already fall within the window; the next one is allowed after `retry_after`.
    Refused { retry_after: TimeDelta },
}

#[async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Counts one event for `key` at `now`, unless `limit.max` events of `key` already happened
    /// in `(now - limit.per, now]`. Atomic: of concurrent calls, at most `limit.max` are allowed.
    async fn acquire(
        &self,
        key: &str,
        limit: Limit,
        now: DateTime<Utc>,
    ) -> Result<Admission, RateLimitError>;

    /// Uncounts an event. Idempotent; a ticket whose event left the window is no error.
    async fn release(&self, key: &str, ticket: Ticket) -> Result<(), RateLimitError>;
}

#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    /// Redis is unreachable or refused the command.
    #[error("rate limiter unavailable: {0}")]
    Unavailable(String),
}
