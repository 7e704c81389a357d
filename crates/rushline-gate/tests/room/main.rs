//! The waiting room's conformance suite: every case runs against the memory room and the
//! Redis room, plus the Redis-only tests (key layout, two nodes, Redis down) and the
//! memory-only measurement of bytes per waiting buyer. Tests are named `memory::<case>`,
//! `redis::<case>`, `redis_only::<test>` and `memory_only::<test>`.

#![deny(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod cases;
mod memory_only;
mod redis_only;
mod support;

use libtest_mimic::{Arguments, Trial};
use rushline_testkit::{TestRedis, trial};

/// The Redis cases are skipped with a notice when `RUSHLINE_TEST_REDIS_URL` is unset, and fail
/// instead when `CI` is set.
fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for &(name, case) in cases::CASES {
        trials.push(trial(format!("memory::{name}"), 2, move || {
            case(support::memory())
        }));
        trials.push(trial(format!("redis::{name}"), 2, move || async move {
            if let Some(redis) = TestRedis::new() {
                case(support::redis_room(&redis).await).await;
            }
        }));
    }
    for &(name, test) in redis_only::TESTS {
        trials.push(trial(format!("redis_only::{name}"), 2, test));
    }
    for &(name, test) in memory_only::TESTS {
        trials.push(Trial::test(format!("memory_only::{name}"), move || {
            test();
            Ok(())
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}
