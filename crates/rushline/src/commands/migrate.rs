use std::path::Path;

use anyhow::Context;

pub fn run(config: Option<&Path>) -> anyhow::Result<()> {
    let config = super::load_config(config)?;
    crate::logging::init(&config.log);
    super::runtime()?.block_on(async {
        let store = crate::app::open_store(&config).await?;
        store.migrate().await.context("migration failed")?;
        println!("migrated {} at {}", store.backend(), config.database_url());
        Ok(())
    })
}
