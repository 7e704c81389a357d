//! Runs work later, durably: typed jobs on the store's job table, retried with exponential
//! backoff until they succeed or run out of attempts, and periodic jobs that run once per due time
//! however many nodes run a worker.
//!
//! This crate owns the mechanism only. The jobs themselves live with the domain that needs them
//! and register a handler in a [`Registry`]. Every handler must be idempotent: a job whose worker
//! died mid-run is run again when its lease ends.

mod registry;
mod worker;

pub use registry::{Job, Registry, new_job};
pub use worker::{Worker, WorkerOptions};
