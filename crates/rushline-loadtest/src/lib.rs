//! `rushline loadtest`: rehearses a sale against running nodes, through their public API only,
//! so that it runs against a local node, a staging deployment or several nodes at once.
//!
//! A flash sale: an admin imports a seller and N buyers (with a cheap argon2 hash computed here,
//! so that thousands of logins cost the server little), the seller lists a product and a drop
//! opening a few seconds later, the buyers log in, and at the opening every buyer tries to buy
//! over a fixed number of keep-alive connections until they win or are refused. Then the
//! invariants are checked against what the server reports.
//!
//! This crate is a client: it must not depend on the server's crates, only on its HTTP API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a rehearsal tool: a failed unwrap is a failed rehearsal, reported as such"
)]

mod api;
mod baseline;
mod buyer;
mod flash_sale;
mod report;
mod stats;
mod summary;

pub use baseline::Baseline;
pub use flash_sale::FlashSale;
pub use summary::{
    Check, CheckOutcome, Latency, LatencyBucket, Outcomes, PerSecond, QueueCounts, SetupTimes,
    Summary,
};

/// Why a run could not be carried out (a failed invariant is not an error: it is in the
/// [`Summary`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Options(String),
    /// The server answered a setup or check call with an unexpected status.
    #[error("{step}: answered {status}: {body}")]
    Refused {
        step: String,
        status: u16,
        body: String,
    },
    #[error("{step}: no answer: {detail}")]
    Transport { step: String, detail: String },
    #[error("{step}: unexpected answer: {detail}")]
    Unexpected { step: String, detail: String },
    #[error("a buyer's task failed: {0}")]
    Task(String),
}
