//! The jobs every domain registers, in one registry per node, and their handlers.

use std::sync::Arc;
use std::time::Duration;

use rushline_jobs::Registry;

use crate::App;

/// Finished jobs are kept this long for operators, then purged. The periodic jobs alone finish
/// a few a second, so a week would keep millions of rows; dead jobs are never purged.
const KEEP_DONE_JOBS: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// `reconcile_every`: how often one node compares the claim gate with the database.
pub fn registry(app: &Arc<App>, reconcile_every: Duration) -> Registry {
    let mut registry = Registry::new();
    let purge = app.clone();
    registry.every("purge_done_jobs", Duration::from_secs(3600), move |due| {
        let app = purge.clone();
        async move {
            let purged = app.store.purge_done_jobs(due - KEEP_DONE_JOBS).await?;
            tracing::info!(purged, "purged finished jobs");
            Ok(())
        }
    });
    let drops = app.clone();
    registry.every("advance_drops", Duration::from_secs(1), move |due| {
        let app = drops.clone();
        async move {
            for id in app.store.advance_drops(due, crate::drops::closed).await? {
                app.drops.forget(id).await;
                tracing::info!(drop = %id, "drop window changed");
            }
            crate::drops::sold_out_and_full(&app, due)
                .await
                .map_err(|e| anyhow::anyhow!("telling sellers failed: {e:?}"))
        }
    });
    let rooms = app.clone();
    registry.every("admit_waiting_rooms", Duration::from_secs(1), move |_| {
        let app = rooms.clone();
        async move {
            crate::rooms::admit_open_rooms(&app)
                .await
                .map_err(|e| anyhow::anyhow!("admitting from waiting rooms failed: {e:?}"))
        }
    });
    let reconcile = app.clone();
    registry.every("reconcile_gate", reconcile_every, move |due| {
        let app = reconcile.clone();
        async move {
            app.claims
                .reconcile(&app.store, due)
                .await
                .map_err(|e| anyhow::anyhow!("reconciling the gate failed: {e:?}"))?;
            Ok(())
        }
    });
    let orders = app.clone();
    // Due orders are found by the current time, not the occurrence's due time, which lags it by
    // up to the period: an order is due the moment its time is up.
    registry.every("advance_orders", Duration::from_secs(1), move |_| {
        let app = orders.clone();
        async move {
            crate::orders::advance(&app, app.clock.now())
                .await
                .map(drop)
                .map_err(|e| anyhow::anyhow!("advancing orders failed: {e:?}"))
        }
    });
    let closed = app.clone();
    registry.handle(move |job: crate::drops::DropClosed| {
        let app = closed.clone();
        async move {
            crate::drops::tell_closed(&app, job)
                .await
                .map_err(|e| anyhow::anyhow!("telling of a closed drop failed: {e:?}"))
        }
    });
    let sales = app.clone();
    registry.handle(move |job: crate::stats::RollUpDropSale| {
        let app = sales.clone();
        async move {
            crate::stats::roll_up_sale(&app, job)
                .await
                .map_err(|e| anyhow::anyhow!("rolling up a drop's sale failed: {e:?}"))
        }
    });
    crate::payments::register_jobs(&mut registry, app);
    crate::mail::register(&mut registry, app);
    crate::identity::register_jobs(&mut registry, app);
    crate::trials::register_jobs(&mut registry, app);
    crate::raffles::register_jobs(&mut registry, app);
    crate::settlement::register_jobs(&mut registry, app);
    crate::notifications::register_jobs(&mut registry, app);
    crate::wishlist::register_jobs(&mut registry, app);
    registry
}
