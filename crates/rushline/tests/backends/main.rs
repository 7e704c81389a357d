//! Every backend against the same expectations: the rate-limit conformance suite, the job queue
//! across several workers, and behaviour while a dependency is cut off. The storage conformance
//! suite has a test binary of its own (`tests/store.rs`).

mod chaos;
mod crash;
mod jobs;
mod ratelimit;
mod startup;
