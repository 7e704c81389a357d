//! The rate-limit conformance suite against every backend: in process, and in Redis.

use std::sync::Arc;

use rushline_ratelimit::{MemoryRateLimiter, RateLimiter, RedisRateLimiter};
use rushline_testkit::TestRedis;

async fn memory() -> Option<(Arc<dyn RateLimiter>, ())> {
    Some((Arc::new(MemoryRateLimiter::new()), ()))
}

/// A limiter under a key prefix of this test's own; the guard deletes its keys.
async fn redis() -> Option<(Arc<dyn RateLimiter>, TestRedis)> {
    let redis = TestRedis::new()?;
    let conn = redis.connection().await.expect("connect to Redis");
    let limiter = RedisRateLimiter::new(conn, redis.prefix.clone());
    Some((Arc::new(limiter), redis))
}

mod memory {
    rushline_ratelimit::conformance_tests!(super::memory);
}

mod redis {
    rushline_ratelimit::conformance_tests!(super::redis);
}
