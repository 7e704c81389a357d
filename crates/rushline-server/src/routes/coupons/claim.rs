use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rushline_app::coupons;
use rushline_domain::CouponStatus;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, IdempotencyKey, Json, Path};

/// The coupon a claim put in the buyer's wallet. A retry with the same `Idempotency-Key`
/// answers exactly this again.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ClaimedCoupon {
    id: Uuid,
    campaign_id: Uuid,
    /// `available`: the claim's answer; `GET /me/coupons` shows where it stands now.
    status: CouponStatus,
    valid_from: DateTime<Utc>,
    valid_until: DateTime<Utc>,
    claimed_at: DateTime<Utc>,
}

errors!(ClaimErrors: [IdempotencyKeyRequired, InvalidIdempotencyKey, Unauthorized, Forbidden, NotFound, SoldOut, LimitReached, NotOpen, Closed, RequestInProgress, IdempotencyMismatch, GateUnavailable, DatabaseUnavailable]);

/// Claims a coupon of an open campaign: JWT → claim window → one atomic step in the claim gate
/// (the campaign's pool, its per-buyer limit) → group-committed coupon → 201. No database read
/// on the way, except on the campaign's first use on this node, on a retry, and after the window
/// closed (a retry of a claim that went through is answered with its coupon).
#[utoipa::path(
    post,
    path = "/api/v1/coupon-campaigns/{id}/claim",
    tag = "coupons",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters; a retry with the same key returns the first answer"),
    ),
    responses((status = 201, body = ClaimedCoupon), ClaimErrors)
)]
pub(crate) async fn claim(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(campaign_id): Path<Uuid>,
    IdempotencyKey(key): IdempotencyKey,
) -> Result<(StatusCode, Json<ClaimedCoupon>), ApiError> {
    let claimed = coupons::claim(&state, buyer.id, &key, campaign_id).await?;
    Ok((StatusCode::CREATED, Json(claimed.into())))
}

impl From<coupons::ClaimedCoupon> for ClaimedCoupon {
    fn from(coupon: coupons::ClaimedCoupon) -> Self {
        Self {
            id: coupon.id,
            campaign_id: coupon.campaign_id,
            status: coupon.status,
            valid_from: coupon.valid_from,
            valid_until: coupon.valid_until,
            claimed_at: coupon.claimed_at,
        }
    }
}
