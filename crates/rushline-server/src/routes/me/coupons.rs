use axum::extract::State;
use chrono::{DateTime, Utc};
use rushline_domain::{CouponScope, CouponStatus, Discount, Won};
use rushline_store::CouponFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::routes::orders::list::{decode_cursor, next_cursor};
use crate::{ApiError, AppState, Json, Query};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListCoupons {
    /// Only coupons with this status now: `available` (usable: not applied to an order and
    /// still valid), `reserved` (applied to an order awaiting payment), `used`, `expired`.
    status: Option<CouponStatus>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CouponList {
    items: Vec<CouponView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// A coupon in the caller's wallet, with its campaign's terms.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CouponView {
    /// Pass as `coupon_id` at checkout.
    id: Uuid,
    campaign_id: Uuid,
    name: String,
    status: CouponStatus,
    valid_from: DateTime<Utc>,
    valid_until: DateTime<Utc>,
    discount: Discount,
    #[schema(value_type = i64)]
    min_order_amount: Won,
    scope: CouponScope,
    /// The order it is reserved for or was used on.
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<Uuid>,
    claimed_at: DateTime<Utc>,
}

errors!(ListCouponsErrors: [InvalidQuery, InvalidCursor, Unauthorized]);

/// The caller's coupons, newest claim first.
#[utoipa::path(
    get,
    path = "/api/v1/me/coupons",
    tag = "coupons",
    security(("bearer" = [])),
    params(ListCoupons),
    responses((status = 200, body = CouponList), ListCouponsErrors)
)]
pub(crate) async fn list_coupons(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(query): Query<ListCoupons>,
) -> Result<Json<CouponList>, ApiError> {
    let limit = crate::routes::page_limit(query.limit, 20)?;
    let now = state.clock.now();
    let coupons = state
        .store
        .list_coupons(&CouponFilter {
            user_id: caller.id,
            status: query.status,
            now,
            before: query.cursor.as_deref().map(decode_cursor).transpose()?,
            limit,
        })
        .await?;
    let next_cursor = next_cursor(&coupons, limit, |last| (last.claimed_at, last.id));
    let mut items = Vec::with_capacity(coupons.len());
    for coupon in coupons {
        let campaign = state
            .campaigns
            .get(&state.store, coupon.campaign_id)
            .await?;
        items.push(CouponView {
            id: coupon.id,
            campaign_id: coupon.campaign_id,
            name: campaign.name.clone(),
            status: coupon.status.shown(coupon.valid_until, now),
            valid_from: coupon.valid_from,
            valid_until: coupon.valid_until,
            discount: campaign.discount,
            min_order_amount: campaign.min_order_amount,
            scope: campaign.scope,
            order_id: coupon.reserved_by_order,
            claimed_at: coupon.claimed_at,
        });
    }
    Ok(Json(CouponList { items, next_cursor }))
}
