//! The rate-limit conformance suite against every backend, in process and in Redis: one test per
//! case and backend, named `memory::<case>` and `redis::<case>`, generated from the suite's table
//! of cases, so that no case can be left out here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::sync::Arc;

use libtest_mimic::Arguments;
use rushline_ratelimit::conformance::CASES;
use rushline_ratelimit::{MemoryRateLimiter, RedisRateLimiter};
use rushline_testkit::{TestRedis, trial};

fn main() {
    let args = Arguments::from_args();
    let trials = CASES
        .iter()
        .flat_map(|&(name, case)| {
            [
                trial(format!("memory::{name}"), 2, move || {
                    case(Arc::new(MemoryRateLimiter::new()))
                }),
                // A limiter under a key prefix of this test's own; `redis` deletes its keys.
                trial(format!("redis::{name}"), 2, move || async move {
                    if let Some(redis) = TestRedis::new() {
                        let conn = redis.connection().await.expect("connect to Redis");
                        case(Arc::new(RedisRateLimiter::new(conn, redis.prefix.clone()))).await;
                    }
                }),
            ]
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
