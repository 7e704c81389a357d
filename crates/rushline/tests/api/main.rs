//! The HTTP API end to end: the real router on real backends, one module per resource.

mod cart;
mod catalog;
mod coupons;
mod drops;
mod identity;
mod import;
mod loadtest;
mod money;
mod openapi;
mod ops;
mod orders;
mod queue;
mod redemption;
