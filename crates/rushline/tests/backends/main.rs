//! Every backend against the same expectations: the job queue across several workers, and
//! behaviour while a dependency is cut off, restarted or stalled, mid-sale too; and a node as
//! operators run it: killed, drained, traced. The storage and
//! rate-limit conformance suites have test binaries of their own (`tests/store.rs`,
//! `tests/ratelimit.rs`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod chaos;
mod crash;
mod drain;
mod faults;
mod jobs;
mod startup;
mod traces;
