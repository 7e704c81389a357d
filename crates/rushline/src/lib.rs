//! The rushline binary as a library: configuration, command-line interface and the wiring that
//! turns a [`Config`] into a running node. `main.rs` only parses arguments and calls in here, so
//! the test harness builds exactly what `rushline serve` runs.

pub mod app;
mod catalog;
pub mod cli;
mod commands;
pub mod config;
pub mod import;
pub mod raffle_verify;
mod telemetry;

pub use app::Rushline;
pub use cli::Cli;
pub use config::Config;
