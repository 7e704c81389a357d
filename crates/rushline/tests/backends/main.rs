//! Every backend against the same expectations: the job queue across several workers, and
//! behaviour while a dependency is cut off. The storage and rate-limit conformance suites have
//! test binaries of their own (`tests/store.rs`, `tests/ratelimit.rs`).

mod chaos;
mod crash;
mod jobs;
mod startup;
