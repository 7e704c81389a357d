//! Settlement: per seller and business day (a calendar day in `settlement.timezone`), what the
//! seller is owed for their orders that completed that day, and its payout.
//!
//! A run is one transaction of set-based statements (`SettlementStore::settle`), idempotent per
//! (seller, day): a rerun settles only orders no run has settled, as a correction (the next
//! revision), so no settlement is ever rewritten, and a paid one stays as it was paid.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use rushline_domain::FeeRate;
use rushline_domain::notification::Event;
use rushline_domain::settlement::{business_day_bounds, business_day_of};
use rushline_jobs::Registry;
use rushline_store::{
    Audience, DbError, NewJob, SETTLEMENT_PAID, SETTLEMENTS_REVISION_KEY, Settlement,
    SettlementFilter, SettlementLine, SettlementRun,
};
use uuid::Uuid;

use crate::notifications::notice;
use crate::{App, AppError, ErrorCode};

/// How settlements are computed.
#[derive(Debug, Clone)]
pub struct SettlementSettings {
    /// Business days are calendar days here.
    pub zone: Tz,
    /// Of the gross after seller-funded discounts.
    pub platform_fee: FeeRate,
    /// Of the same base.
    pub payment_fee: FeeRate,
}

/// The local time of day from which the previous day is settled.
const SETTLE_AT: TimeDelta = TimeDelta::minutes(30);
/// Statements per run: a day in this many windows, so a run can show its progress. Few: on
/// PostgreSQL each window reads the order lines once (a hash join beats probing them by order).
pub const WINDOWS: i32 = 8;

/// Business day `day` of `zone` as [`WINDOWS`] consecutive windows `[start, end)` in UTC.
pub fn windows(day: NaiveDate, zone: Tz) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let (start, end) = business_day_bounds(day, zone);
    let step = (end - start) / WINDOWS;
    (0..WINDOWS)
        .map(|i| {
            let from = start + step * i;
            (from, if i == WINDOWS - 1 { end } else { from + step })
        })
        .collect()
}

/// The day a run at `now` settles: the previous local day, from 00:30 on.
pub fn previous_day(now: DateTime<Utc>, zone: Tz) -> NaiveDate {
    let today = business_day_of(now - SETTLE_AT, zone);
    today.checked_sub_days(Days::new(1)).unwrap_or(today)
}

/// What one run wrote (or, dry, would have).
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub day: NaiveDate,
    pub settlements: Vec<Settlement>,
    pub elapsed: Duration,
}

impl RunSummary {
    pub fn orders(&self) -> i64 {
        self.settlements.iter().map(|s| s.orders).sum()
    }
}

/// Settles `day` (only `seller`'s orders, when given). `progress` hears the lines written so far
/// after each of the day's windows.
pub async fn settle(
    app: &App,
    day: NaiveDate,
    seller: Option<Uuid>,
    dry_run: bool,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<RunSummary, AppError> {
    let started = std::time::Instant::now();
    let settings = &app.settlement;
    let windows = windows(day, settings.zone);
    let run = SettlementRun {
        day,
        windows,
        seller,
        platform_fee: settings.platform_fee,
        payment_fee: settings.payment_fee,
        at: app.clock.now(),
        dry_run,
        notice: ready_notice,
    };
    let settlements = match app.store.settle(&run, progress).await {
        Err(e) if e.is_conflict_on(SETTLEMENTS_REVISION_KEY) => {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("another run settled {day} meanwhile: run this one again"),
            ));
        }
        other => other?,
    };
    Ok(RunSummary {
        day,
        settlements,
        elapsed: started.elapsed(),
    })
}

/// Tells the seller their settlement is ready: enqueued in the run that writes it.
pub fn ready_notice(settlement: &Settlement) -> NewJob {
    notice(
        Event::SettlementReady,
        Audience::User {
            id: settlement.seller_id,
        },
        settlement.id,
        [
            ("day", settlement.business_day.to_string()),
            ("net", settlement.net.get().to_string()),
        ],
        settlement.created_at,
    )
}

pub fn register_jobs(registry: &mut Registry, app: &Arc<App>) {
    let settle_app = app.clone();
    // Every quarter of an hour, which meets 00:30 in every zone's offset: from then on the
    // previous day is settled, and each later run of the day settles, as a correction, whatever
    // completed on it but was recorded late (nothing, as a rule: then it writes nothing). The
    // day's seller statistics are rolled up with it.
    registry.every(
        "settle_previous_day",
        Duration::from_secs(900),
        move |due| {
            let app = settle_app.clone();
            async move {
                let day = previous_day(due, app.settlement.zone);
                let summary = settle(&app, day, None, false, &|_| {})
                    .await
                    .map_err(|e| anyhow::anyhow!("settling {day} failed: {e:?}"))?;
                // The day's statistics, at its first run and after each correction.
                let first = previous_day(due - TimeDelta::minutes(15), app.settlement.zone) != day;
                if first || !summary.settlements.is_empty() {
                    let (start, end) = business_day_bounds(day, app.settlement.zone);
                    app.store
                        .roll_up_seller_days(day, start, end, app.clock.now())
                        .await
                        .map_err(|e| anyhow::anyhow!("rolling up {day} failed: {e}"))?;
                }
                if !summary.settlements.is_empty() {
                    tracing::info!(
                        %day,
                        settlements = summary.settlements.len(),
                        orders = summary.orders(),
                        "settled"
                    );
                }
                Ok(())
            }
        },
    );
}

/// Settlements of `filter`'s days, of one seller or (an admin's) all.
pub async fn list(app: &App, filter: &SettlementFilter) -> Result<Vec<Settlement>, AppError> {
    Ok(app.store.list_settlements(filter).await?)
}

/// `seller`'s settlements of `day` (every revision) and a page of their lines; not found when the
/// seller has none that day.
pub async fn day(
    app: &App,
    seller: Uuid,
    day: NaiveDate,
    after: Option<(i32, Uuid)>,
    limit: u32,
) -> Result<(Vec<Settlement>, Vec<SettlementLine>), AppError> {
    let settlements = app
        .store
        .list_settlements(&SettlementFilter {
            seller: Some(seller),
            from: Some(day),
            to: Some(day),
            after: None,
            limit: 1_000,
        })
        .await?;
    if settlements.is_empty() {
        return Err(AppError::not_found());
    }
    let lines = app
        .store
        .settlement_lines(seller, day, after, limit)
        .await?;
    Ok((settlements, lines))
}

/// Records that settlement `id` was paid out: from then on it never changes.
pub async fn mark_paid(app: &App, id: i64) -> Result<Settlement, AppError> {
    match app.store.mark_settlement_paid(id, app.clock.now()).await {
        Err(DbError::Conflict { constraint }) if constraint == SETTLEMENT_PAID => {
            Err(AppError::new(
                ErrorCode::SettlementPaid,
                "this settlement was paid out already",
            ))
        }
        other => Ok(other?),
    }
}
