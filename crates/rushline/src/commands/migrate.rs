use std::path::Path;

use anyhow::Context;

pub fn run(config: Option<&Path>) -> anyhow::Result<()> {
    let config = super::load_config(config)?;
    let _telemetry = crate::telemetry::init(&config.log, &config.telemetry)?;
    super::runtime()?.block_on(async {
        let store = crate::app::open_store(&config).await?;
        store.migrate().await.context("migration failed")?;
        println!("migrated {} at {}", store.backend(), config.database_url());
        Ok(())
    })
}
