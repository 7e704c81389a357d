//! The gate's conformance suite: every case runs against the memory gate and the Redis gate,
//! plus the Redis-only tests (lost state, key layout). Tests are named `memory::<case>`,
//! `redis::<case>` and `redis_only::<test>`.

#![deny(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod cases;
mod redis_only;
mod support;

use libtest_mimic::Arguments;
use rushline_testkit::{TestRedis, trial};

/// The Redis cases are skipped with a notice when `RUSHLINE_TEST_REDIS_URL` is unset, and fail
/// instead when `CI` is set.
fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for &(name, case) in cases::CASES {
        trials.push(trial(format!("memory::{name}"), 4, move || {
            case(support::memory())
        }));
        trials.push(trial(format!("redis::{name}"), 4, move || async move {
            if let Some(redis) = TestRedis::new() {
                case(support::redis_gate(&redis).await).await;
            }
        }));
    }
    for &(name, test) in redis_only::TESTS {
        trials.push(trial(format!("redis_only::{name}"), 4, test));
    }
    libtest_mimic::run(&args, trials).exit();
}
