//! Every backend against the same expectations: the storage and rate-limit conformance suites,
//! the job queue across several workers, and behaviour while a dependency is cut off.

mod chaos;
mod crash;
mod jobs;
mod ratelimit;
mod startup;
mod store;
