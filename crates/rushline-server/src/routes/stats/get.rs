use axum::extract::State;
use chrono::NaiveDate;
use rushline_app::stats;
use rushline_domain::Won;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::StatsQuery;
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Query};

/// One business day.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DayStats {
    day: NaiveDate,
    /// Orders placed that day with a line of the seller's (holds that expired unpaid left out).
    orders: i64,
    units: i64,
    /// The seller's lines of those orders, KRW.
    gross: Won,
    /// What the day's settlements owe the seller, KRW.
    net: Won,
    /// Orders returned that day.
    returns: i64,
    /// Of the orders placed that day, the share cancelled since, 0 to 1.
    cancellation_rate: f64,
}

/// One drop's sale.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DropSaleStats {
    drop_id: Uuid,
    product_id: Uuid,
    opens_at: chrono::DateTime<chrono::Utc>,
    quantity: i64,
    /// Units held by orders: now while the drop is open, as of a minute after its close once it
    /// has closed (holds that expired unpaid are not sales).
    units_sold: i64,
    /// Units sold per unit offered, 0 to 1.
    sell_through: f64,
    /// From `opens_at` to the last unit granted; null until every unit is sold.
    time_to_sell_out_seconds: Option<f64>,
    /// The most purchases granted within one second.
    peak_purchases_per_second: i64,
    /// The drop's waiting room; null without one, or when its figures are not known (an
    /// in-process room restarted before the sale was rolled up).
    waiting_room: Option<WaitingRoomStats>,
}

/// A drop's waiting room: live while the drop is open, as of the roll-up once it has closed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WaitingRoomStats {
    /// The most places in line at once, the pre-queue included.
    peak_waiting: i64,
    /// The median wait from entering the line (the join, or `opens_at` for the pre-queue) to
    /// admission, in whole seconds (the lower median); null while nobody was admitted.
    median_wait_seconds: Option<i64>,
    admitted: i64,
    /// Admitted buyers who bought (passes used).
    bought: i64,
    /// `bought / admitted`, 0 to 1.
    conversion: f64,
}

/// One product's visible reviews.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProductStats {
    product_id: Uuid,
    name: String,
    rating_average: f64,
    rating_count: i64,
}

/// One trial campaign.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TrialCampaignStats {
    trial_id: Uuid,
    product_id: Uuid,
    opens_at: chrono::DateTime<chrono::Utc>,
    applicants: i64,
    /// From `opens_at` to the last slot taken; null while any slot is free.
    time_to_fill_seconds: Option<f64>,
    /// Reviews written per selected tester, 0 to 1.
    review_rate: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SellerStatsView {
    seller_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    /// Days with any figure, oldest first; a day absent had none.
    days: Vec<DayStats>,
    /// Drops opening within the range.
    drops: Vec<DropSaleStats>,
    /// Every product of the seller's that has reviews.
    products: Vec<ProductStats>,
    /// Trials opening within the range.
    trials: Vec<TrialCampaignStats>,
}

errors!(StatsErrors: [InvalidQuery, Unauthorized, Forbidden, NotFound]);

#[expect(clippy::cast_precision_loss, reason = "durations and counts, to show")]
fn seconds(t: chrono::TimeDelta) -> f64 {
    t.num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6
}

/// A seller's statistics per business day, drop, product and trial: their own, or (admins)
/// the seller named by `seller_id`. Another seller's are 404.
#[utoipa::path(
    get,
    path = "/api/v1/seller/stats",
    tag = "stats",
    security(("bearer" = [])),
    params(StatsQuery),
    responses((status = 200, body = SellerStatsView), StatsErrors)
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<StatsQuery>,
) -> Result<Json<SellerStatsView>, ApiError> {
    let seller = stats::subject(user, query.seller_id)?;
    let (from, to) = stats::range(&state, query.from, query.to)?;
    let s = stats::seller_stats(&state, seller, from, to).await?;
    #[expect(clippy::cast_precision_loss, reason = "counts, to show as shares")]
    let share = |part: i64, whole: i64| {
        if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        }
    };
    Ok(Json(SellerStatsView {
        seller_id: s.seller_id,
        from: s.from,
        to: s.to,
        days: s
            .days
            .iter()
            .map(|d| DayStats {
                day: d.day,
                orders: d.orders,
                units: d.units,
                gross: d.gross,
                net: d.net,
                returns: d.returned,
                cancellation_rate: share(d.cancelled, d.orders),
            })
            .collect(),
        drops: s
            .drops
            .iter()
            .map(|d| DropSaleStats {
                drop_id: d.drop.id,
                product_id: d.drop.product_id,
                opens_at: d.drop.opens_at,
                quantity: d.drop.quantity,
                units_sold: d.units_sold,
                sell_through: d.sell_through,
                time_to_sell_out_seconds: d.time_to_sell_out.map(seconds),
                peak_purchases_per_second: d.peak_purchases_per_second,
                waiting_room: d.room.map(|r| WaitingRoomStats {
                    peak_waiting: r.peak_waiting,
                    median_wait_seconds: r.median_wait_seconds,
                    admitted: r.admitted,
                    bought: r.used,
                    conversion: share(r.used, r.admitted),
                }),
            })
            .collect(),
        products: s
            .products
            .iter()
            .map(|p| ProductStats {
                product_id: p.product_id,
                name: p.name.clone(),
                rating_average: share(p.rating_sum, p.reviews),
                rating_count: p.reviews,
            })
            .collect(),
        trials: s
            .trials
            .iter()
            .map(|(t, stats)| TrialCampaignStats {
                trial_id: t.id,
                product_id: t.product_id,
                opens_at: t.opens_at,
                applicants: stats.applicants,
                time_to_fill_seconds: stats.time_to_fill.map(seconds),
                review_rate: stats.review_rate,
            })
            .collect(),
    }))
}
