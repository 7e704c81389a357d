//! Seller statistics: per business day from the rows the daily job rolls up (and the day's
//! settlements), per drop from the row its sale is rolled up into a minute after it closes (from
//! its claims and its waiting room until then), per product from the review counters, per trial
//! from its counts.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use rushline_domain::Role;
use rushline_domain::settlement::{business_day_bounds, business_day_of};
use rushline_jobs::{Job, new_job};
use rushline_store::{
    DropFilter, DropSale, NewJob, ProductDrop, ProductRating, RoomFigures, SellerDay, Trial,
    TrialFilter, drop_pool_key,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::trials::TrialStats;
use crate::{App, AppError, AuthUser, ErrorCode};

/// The longest range one request may ask for, in days.
pub const MAX_DAYS: i64 = 366;
/// Drops, and trials, of one range at most: a range holding more is refused (ask for a shorter
/// one) rather than answered with some of them.
pub const MAX_CAMPAIGNS: usize = 5_000;

/// One drop's sale.
#[derive(Debug, Clone)]
pub struct DropStats {
    pub drop: ProductDrop,
    /// Units held by orders: now while the drop is open, at its roll-up once it has ended
    /// (released ones went back on sale).
    pub units_sold: i64,
    /// Units sold per unit offered, 0 to 1.
    pub sell_through: f64,
    /// From `opens_at` to the last unit granted, once every unit is sold.
    pub time_to_sell_out: Option<TimeDelta>,
    /// The most purchases granted within one second.
    pub peak_purchases_per_second: i64,
    /// Its waiting room's figures; `None` without a room or when they are not known.
    pub room: Option<RoomFigures>,
}

#[derive(Debug, Clone)]
pub struct SellerStats {
    pub seller_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: Vec<SellerDay>,
    pub drops: Vec<DropStats>,
    pub products: Vec<ProductRating>,
    pub trials: Vec<(Trial, TrialStats)>,
}

/// Whose statistics `caller` asks for: their own as a seller (naming another seller is a 404,
/// as for anything of another seller's), anyone's as an admin, who must name one.
pub fn subject(caller: AuthUser, seller_id: Option<Uuid>) -> Result<Uuid, AppError> {
    match (caller.role, seller_id) {
        (Role::Admin, Some(seller)) => Ok(seller),
        (Role::Admin, None) => Err(AppError::new(
            ErrorCode::InvalidQuery,
            "an admin names the seller with seller_id",
        )),
        (Role::Seller, None) => Ok(caller.id),
        (Role::Seller, Some(seller)) if seller == caller.id => Ok(seller),
        (Role::Seller, Some(_)) => Err(AppError::not_found()),
        (Role::Buyer, _) => Err(AppError::forbidden()),
    }
}

/// The days asked for: by default the 30 days up to yesterday (today is rolled up tomorrow).
pub fn range(
    app: &App,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(NaiveDate, NaiveDate), AppError> {
    let yesterday = business_day_of(app.clock.now(), app.settlement.zone)
        .pred_opt()
        .unwrap_or(NaiveDate::MIN);
    let to = to.unwrap_or(yesterday);
    let from = from.unwrap_or_else(|| to.checked_sub_days(Days::new(29)).unwrap_or(NaiveDate::MIN));
    if from > to || (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::new(
            ErrorCode::InvalidQuery,
            format!("from must be on or before to, and at most {MAX_DAYS} days before it"),
        ));
    }
    Ok((from, to))
}

/// Everything about `seller` from `from` to `to`: drops and trials count by the day they open.
pub async fn seller_stats(
    app: &App,
    seller: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<SellerStats, AppError> {
    let zone = app.settlement.zone;
    let opening = Some((
        business_day_bounds(from, zone).0,
        business_day_bounds(to, zone).1,
    ));
    let days = app.store.seller_days(seller, from, to).await?;
    let products = app.store.product_ratings(seller).await?;
    let drops = app
        .store
        .list_drops(&DropFilter {
            seller_id: Some(seller),
            window: None,
            opening,
            limit: CAMPAIGNS_READ,
        })
        .await?;
    within_cap(drops.len(), "drops")?;
    let ids: Vec<Uuid> = drops.iter().map(|d| d.id).collect();
    let mut rolled_up: HashMap<Uuid, DropSale> = app
        .store
        .drop_sales(&ids)
        .await?
        .into_iter()
        .map(|sale| (sale.drop_id, sale))
        .collect();
    let mut drop_stats = Vec::new();
    for drop in drops {
        let sale = match rolled_up.remove(&drop.id) {
            Some(sale) => sale,
            None => live_sale(app, &drop).await?,
        };
        drop_stats.push(drop_stats_of(drop, &sale));
    }
    let trials = app
        .store
        .list_trials(&TrialFilter {
            seller_id: Some(seller),
            product_id: None,
            window: None,
            opening,
            after: None,
            limit: CAMPAIGNS_READ,
        })
        .await?;
    within_cap(trials.len(), "trials")?;
    let ids: Vec<Uuid> = trials.iter().map(|t| t.id).collect();
    let counts = app.store.trial_counts(&ids).await?;
    let trial_stats = trials
        .into_iter()
        .map(|trial| {
            let stats = crate::trials::stats_of(&trial, &counts[&trial.id]);
            (trial, stats)
        })
        .collect();
    Ok(SellerStats {
        seller_id: seller,
        from,
        to,
        days,
        drops: drop_stats,
        products,
        trials: trial_stats,
    })
}

/// One more than the cap: enough to tell a range over it.
const CAMPAIGNS_READ: u32 = MAX_CAMPAIGNS as u32 + 1;

fn within_cap(found: usize, what: &str) -> Result<(), AppError> {
    if found > MAX_CAMPAIGNS {
        return Err(AppError::new(
            ErrorCode::InvalidQuery,
            format!("more than {MAX_CAMPAIGNS} {what} open in this range: ask for a shorter one"),
        ));
    }
    Ok(())
}

/// The drop, when `caller` is its seller or an admin (404 for anyone else), and its units
/// granted over time: `(claimed_at, units granted so far)` in grant (`seq`) order.
pub async fn sellout(
    app: &App,
    caller: AuthUser,
    drop_id: Uuid,
) -> Result<(ProductDrop, Vec<(DateTime<Utc>, i64)>), AppError> {
    let drop = app.store.drop_by_id(drop_id).await?;
    if drop.seller_id != caller.id && !caller.is_admin() {
        return Err(AppError::not_found());
    }
    let (_, mut claims) = app.store.pool_snapshot(&drop_pool_key(drop.id)).await?;
    claims.sort_by_key(|c| c.seq);
    let mut sold = 0;
    let series = claims
        .iter()
        .map(|c| {
            sold += i64::from(c.qty);
            (c.claimed_at, sold)
        })
        .collect();
    Ok((drop, series))
}

/// A drop's sale from its claims and its room as they are now: what a roll-up records, and what
/// a drop not rolled up yet is answered with.
async fn live_sale(app: &App, drop: &ProductDrop) -> Result<DropSale, AppError> {
    let (_, claims) = app.store.pool_snapshot(&drop_pool_key(drop.id)).await?;
    let mut per_second: HashMap<i64, i64> = HashMap::new();
    for claim in &claims {
        *per_second.entry(claim.claimed_at.timestamp()).or_default() += 1;
    }
    Ok(DropSale {
        drop_id: drop.id,
        units_sold: claims.iter().map(|c| i64::from(c.qty)).sum(),
        last_grant_at: claims.iter().map(|c| c.claimed_at).max(),
        peak_per_second: per_second.into_values().max().unwrap_or(0),
        room: crate::rooms::sale_figures(app, drop).await?,
    })
}

fn drop_stats_of(drop: ProductDrop, sale: &DropSale) -> DropStats {
    #[expect(clippy::cast_precision_loss, reason = "units of a drop, at most 10^7")]
    let sell_through = sale.units_sold as f64 / drop.quantity.max(1) as f64;
    DropStats {
        units_sold: sale.units_sold,
        sell_through,
        time_to_sell_out: sale
            .last_grant_at
            .filter(|_| sale.units_sold >= drop.quantity)
            .map(|last| last - drop.opens_at),
        peak_purchases_per_second: sale.peak_per_second,
        room: sale.room,
        drop,
    }
}

/// Rolls up the sale of drop `drop_id` once it has ended (see [`ROLL_UP_AFTER`]).
#[derive(Debug, Serialize, Deserialize)]
pub struct RollUpDropSale {
    pub drop_id: Uuid,
}

impl Job for RollUpDropSale {
    const KIND: &'static str = "roll_up_drop_sale";
}

/// How long after a drop closes its sale is rolled up: grants in flight at the close have
/// committed by then.
pub const ROLL_UP_AFTER: TimeDelta = TimeDelta::minutes(1);

/// The roll-up of drop `drop_id`, which closed at `closed_at`.
pub(crate) fn roll_up_sale_job(drop_id: Uuid, closed_at: DateTime<Utc>) -> NewJob {
    let mut job = new_job(&RollUpDropSale { drop_id }, closed_at + ROLL_UP_AFTER);
    job.dedupe_key = Some(format!("roll_up_drop_sale:{drop_id}"));
    job
}

/// Records the drop's sale as its claims hold it now; a later roll-up of the same drop changes
/// nothing.
pub(crate) async fn roll_up_sale(app: &App, job: RollUpDropSale) -> Result<(), AppError> {
    let drop = app.store.drop_by_id(job.drop_id).await?;
    let sale = live_sale(app, &drop).await?;
    app.store.record_drop_sale(&sale, app.clock.now()).await?;
    Ok(())
}
