//! What a seller hears of their drops and trials: a drop closed (in the transaction that closes
//! it), and a drop sold out or a trial full (seen by the once-a-second drops job, as the gate
//! tells it; the purchase path writes nothing more for it).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use moka::future::Cache;
use rushline_domain::notification::Event;
use rushline_gate::PoolKey;
use rushline_jobs::{Job, new_job};
use rushline_store::{Audience, DropFilter, DropWindow, NewJob, TrialFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::notifications::{Notify, notice, publish};
use crate::{App, AppError};

/// Open drops and trials looked at per run, soonest opening first.
const OPEN_AT_MOST: u32 = 1000;

/// Tells a seller their drop closed, with how many units it sold.
#[derive(Debug, Serialize, Deserialize)]
pub struct DropClosed {
    pub drop_id: Uuid,
}

impl Job for DropClosed {
    const KIND: &'static str = "drop_closed";
}

/// Enqueued in the transaction that closes drop `drop_id` at `at`.
pub fn closed(drop_id: Uuid, at: DateTime<Utc>) -> NewJob {
    let mut job = new_job(&DropClosed { drop_id }, at);
    job.dedupe_key = Some(format!("drop_closed:{drop_id}"));
    job
}

pub(crate) async fn tell_closed(app: &App, job: DropClosed) -> Result<(), AppError> {
    let drop = app.store.drop_by_id(job.drop_id).await?;
    let product = app.store.product(drop.product_id).await?;
    let remaining = app
        .claims
        .gate
        .remaining(&PoolKey(drop.pool_key()))
        .await?
        .unwrap_or(0);
    let sold = drop
        .quantity
        .saturating_sub(i64::try_from(remaining).unwrap_or(i64::MAX))
        .max(0);
    publish(
        app,
        Notify {
            event: Event::DropClosed,
            audience: Audience::User { id: drop.seller_id },
            subject: drop.id.to_string(),
            params: [
                ("title".to_owned(), product.name),
                ("sold".to_owned(), sold.to_string()),
            ]
            .into(),
        },
    )
    .await?;
    Ok(())
}

/// The drops and trials this node has told of already, so that it asks no more of the gate and
/// writes no more for them; another node telling again is a no-op (the notice's dedupe key).
#[derive(Clone)]
pub struct SellerAlerts(Cache<Uuid, ()>);

impl Default for SellerAlerts {
    fn default() -> Self {
        Self(Cache::builder().max_capacity(100_000).build())
    }
}

/// Tells the seller of each open drop the gate finds sold out, and of each open trial it finds
/// full, once.
pub async fn sold_out_and_full(app: &Arc<App>, now: DateTime<Utc>) -> Result<(), AppError> {
    let open = Some(DropWindow::Open { now });
    let mut jobs = Vec::new();
    let drops = app
        .store
        .list_drops(&DropFilter {
            seller_id: None,
            window: open,
            limit: OPEN_AT_MOST,
        })
        .await?;
    for drop in drops {
        if app.seller_alerts.0.contains_key(&drop.id) {
            continue;
        }
        if app.claims.gate.remaining(&PoolKey(drop.pool_key())).await? == Some(0) {
            let product = app.store.product(drop.product_id).await?;
            jobs.push((
                drop.id,
                notice(
                    Event::DropSoldOut,
                    Audience::User { id: drop.seller_id },
                    drop.id,
                    [("title", product.name)],
                    now,
                ),
            ));
        }
    }
    let trials = app
        .store
        .list_trials(&TrialFilter {
            seller_id: None,
            product_id: None,
            window: open,
            after: None,
            limit: OPEN_AT_MOST,
        })
        .await?;
    for trial in trials {
        if app.seller_alerts.0.contains_key(&trial.id) {
            continue;
        }
        if app
            .claims
            .gate
            .remaining(&PoolKey(trial.pool_key()))
            .await?
            == Some(0)
        {
            jobs.push((
                trial.id,
                notice(
                    Event::TrialFull,
                    Audience::User {
                        id: trial.seller_id,
                    },
                    trial.id,
                    [("title", trial.title.clone())],
                    now,
                ),
            ));
        }
    }
    if jobs.is_empty() {
        return Ok(());
    }
    let notices: Vec<NewJob> = jobs.iter().map(|(_, job)| job.clone()).collect();
    app.store.enqueue_all(&notices, app.clock.now()).await?;
    for (id, _) in jobs {
        app.seller_alerts.0.insert(id, ()).await;
    }
    Ok(())
}
