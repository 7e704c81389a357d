//! One module per subcommand: load the configuration, call into the library.

pub mod admin;
pub mod import_users;
pub mod loadtest;
pub mod migrate;
pub mod raffle;
pub mod serve;
pub mod settle;

use std::path::Path;

use anyhow::Context;

use crate::Config;

fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    Config::load(path).context("invalid configuration")
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}
