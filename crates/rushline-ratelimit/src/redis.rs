use std::sync::LazyLock;

use ::redis::aio::ConnectionManager;
use ::redis::{AsyncCommands, RedisError, Script};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::{Admission, Limit, RateLimitError, RateLimiter, Ticket};

static ACQUIRE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("redis/acquire.lua")));

/// The rate limiter shared by every node: one sorted set per key,
/// `<prefix>ratelimit:<key>`, checked and written by one Lua script so that concurrent
/// acquisitions from any number of nodes never overrun the limit.
///
/// Scores are times from the caller's clock, not Redis's, so that all nodes (and tests with a
/// manual clock) agree on what falls within a window. Redis's own clock only expires idle keys.
pub struct RedisRateLimiter {
    conn: ConnectionManager,
    prefix: String,
}

impl RedisRateLimiter {
    /// `key_prefix` starts every key (e.g. `rushline:`), so deployments and tests can share one
    /// Redis.
    pub fn new(conn: ConnectionManager, key_prefix: impl Into<String>) -> Self {
        Self {
            conn,
            prefix: key_prefix.into(),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}ratelimit:{key}", self.prefix)
    }
}

fn unavailable(e: RedisError) -> RateLimitError {
    RateLimitError::Unavailable(e.to_string())
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn acquire(
        &self,
        key: &str,
        limit: Limit,
        now: DateTime<Utc>,
    ) -> Result<Admission, RateLimitError> {
        let ticket = Ticket(Uuid::new_v4());
        let now = now.timestamp_micros();
        let per = limit.per.num_microseconds().unwrap_or(i64::MAX);
        let lifetime_ms = limit.per.num_milliseconds() + 1;
        let (allowed, wait): (i64, i64) = ACQUIRE
            .key(self.key(key))
            .arg(now)
            .arg(now - per)
            .arg(per)
            .arg(lifetime_ms)
            .arg(limit.max)
            .arg(ticket.0.to_string())
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        Ok(if allowed == 1 {
            Admission::Allowed(ticket)
        } else {
            Admission::Refused {
                retry_after: TimeDelta::microseconds(wait),
            }
        })
    }

    async fn release(&self, key: &str, ticket: Ticket) -> Result<(), RateLimitError> {
        let _: i64 = self
            .conn
            .clone()
            .zrem(self.key(key), ticket.0.to_string())
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
