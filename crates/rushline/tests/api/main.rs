//! The HTTP API end to end: the real router on real backends, one module per resource.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod cart;
mod catalog;
mod coupons;
mod drops;
mod identity;
mod import;
mod loadtest;
mod money;
mod notifications;
mod openapi;
mod ops;
mod orders;
mod pages;
mod queue;
mod raffles;
mod redemption;
mod reviews;
mod settlements;
mod stats;
mod trials;
