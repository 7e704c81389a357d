//! What a seller hears of their drops and trials: a drop closed (in the transaction that closes
//! it), and a drop sold out or a trial full (seen by the once-a-second drops job, as the gate
//! tells it; the purchase path writes nothing more for it).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rushline_domain::notification::Event;
use rushline_gate::PoolKey;
use rushline_jobs::{Job, new_job};
use rushline_store::{Audience, DropFilter, DropWindow, NewJob, TrialFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::notifications::{Notify, notice, notice_key, publish};
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

/// Enqueued in the transaction that closes drop `drop_id` at `at`: the seller is told, and the
/// sale is rolled up once the grants in flight at the close have committed.
pub fn closed(drop_id: Uuid, at: DateTime<Utc>) -> Vec<NewJob> {
    let mut told = new_job(&DropClosed { drop_id }, at);
    told.dedupe_key = Some(format!("drop_closed:{drop_id}"));
    vec![told, crate::stats::roll_up_sale_job(drop_id, at)]
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
            opening: None,
            limit: OPEN_AT_MOST,
        })
        .await?;
    for drop in drops {
        let seller = Audience::User { id: drop.seller_id };
        if app
            .notifications
            .told(&notice_key(Event::DropSoldOut, drop.id, seller))
            .await
            || app.claims.gate.remaining(&PoolKey(drop.pool_key())).await? != Some(0)
        {
            continue;
        }
        let product = app.store.product(drop.product_id).await?;
        let title = [("title", product.name)];
        jobs.push(notice(Event::DropSoldOut, seller, drop.id, title, now));
    }
    let trials = app
        .store
        .list_trials(&TrialFilter {
            seller_id: None,
            product_id: None,
            window: open,
            opening: None,
            after: None,
            limit: OPEN_AT_MOST,
        })
        .await?;
    for trial in trials {
        let seller = Audience::User {
            id: trial.seller_id,
        };
        if app
            .notifications
            .told(&notice_key(Event::TrialFull, trial.id, seller))
            .await
            || app
                .claims
                .gate
                .remaining(&PoolKey(trial.pool_key()))
                .await?
                != Some(0)
        {
            continue;
        }
        let title = [("title", trial.title.clone())];
        jobs.push(notice(Event::TrialFull, seller, trial.id, title, now));
    }
    app.notifications
        .enqueue_untold(app.store.as_ref(), jobs, app.clock.now())
        .await
}
