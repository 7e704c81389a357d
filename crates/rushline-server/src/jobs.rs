//! The jobs every domain registers, in one registry per node.

use std::time::Duration;

use rushline_jobs::Registry;

use crate::AppState;

/// Finished jobs are kept this long for operators, then purged.
const KEEP_DONE_JOBS: chrono::TimeDelta = chrono::TimeDelta::days(7);

pub fn registry(state: &AppState) -> Registry {
    let mut registry = Registry::new();
    let purge = state.clone();
    registry.every("purge_done_jobs", Duration::from_secs(3600), move |due| {
        let state = purge.clone();
        async move {
            let purged = state.store.purge_done_jobs(due - KEEP_DONE_JOBS).await?;
            tracing::info!(purged, "purged finished jobs");
            Ok(())
        }
    });
    crate::mail::register(&mut registry, state);
    crate::identity::register_jobs(&mut registry, state);
    registry
}
