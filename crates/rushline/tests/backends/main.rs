//! Every backend against the same expectations: the storage conformance suite, the job queue
//! across several workers, and behaviour while a dependency is cut off.

mod chaos;
mod crash;
mod jobs;
mod store;
