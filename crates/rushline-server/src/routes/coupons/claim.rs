use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rushline_domain::drop::window_status;
use rushline_domain::{CouponStatus, DropStatus};
use rushline_gate::{Claim, ClaimOutcome, PoolKey};
use rushline_store::{ClaimRow, ClaimWrite, CommitOutcome, CouponCampaign, DbError, NewCoupon};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Buyer;
use crate::claims::{Creates, fingerprint, first_attempt, request_id};
use crate::{ApiError, AppState, ErrorBody, IdempotencyKey, Json, Path};

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
    responses(
        (status = 201, body = ClaimedCoupon),
        (status = 400, description = "`idempotency_key_required`, `invalid_idempotency_key`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a buyer", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`sold_out`, `limit_reached`, `not_open`, `closed`, `request_in_progress`", body = ErrorBody),
        (status = 422, description = "`idempotency_mismatch`: the key was used to claim from another campaign", body = ErrorBody),
        (status = 503, description = "`gate_unavailable`, `database_unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn claim(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(campaign_id): Path<Uuid>,
    IdempotencyKey(key): IdempotencyKey,
) -> Result<(StatusCode, Json<ClaimedCoupon>), ApiError> {
    let campaign = state.campaigns.get(&state.store, campaign_id).await?;
    let now = state.clock.now();
    // Namespaced: the same key sent to a purchase names an order, not this coupon.
    let coupon_id = request_id(buyer.id, Creates::Coupon, &key);
    match window_status(now, campaign.claim_starts_at, campaign.claim_ends_at) {
        DropStatus::Scheduled => {
            return Err(ApiError::conflict(
                "not_open",
                "the campaign's claim window has not opened yet",
            ));
        }
        // A retry of a claim that went through before the window closed gets the first answer.
        DropStatus::Closed => {
            return match state.store.coupon(coupon_id).await {
                Ok(_) => replay(&state, buyer.id, &campaign, coupon_id).await,
                Err(DbError::NotFound) => Err(ApiError::conflict(
                    "closed",
                    "the campaign's claim window has closed",
                )),
                Err(e) => Err(e.into()),
            };
        }
        DropStatus::Open | DropStatus::SoldOut => {}
    }
    let pool = PoolKey(campaign.pool_key());
    let claim = Claim {
        user: buyer.id,
        qty: 1,
        request_id: coupon_id,
        fingerprint: fingerprint(&[b"coupon-claim", campaign.id.as_bytes()]),
        at: now.timestamp_micros(),
    };
    let seq = match state.claims.claim("coupon", &pool, &claim).await? {
        ClaimOutcome::Granted { seq } => seq,
        ClaimOutcome::Replayed { .. } => {
            return replay(&state, buyer.id, &campaign, coupon_id).await;
        }
        ClaimOutcome::Mismatch => return Err(ApiError::idempotency_mismatch()),
        ClaimOutcome::SoldOut => return Err(sold_out()),
        ClaimOutcome::LimitReached => return Err(limit_reached()),
    };
    let coupon = NewCoupon {
        id: coupon_id,
        campaign_id: campaign.id,
        user_id: buyer.id,
        valid_from: campaign.valid_from,
        valid_until: campaign.valid_until,
        claimed_at: now,
        claim: ClaimRow {
            id: coupon_id,
            pool_key: pool.0,
            user_id: buyer.id,
            qty: 1,
            seq: i64::try_from(seq).expect("seq fits in i64"),
            fingerprint: i64::try_from(claim.fingerprint).expect("fingerprints have 63 bits"),
            claimed_at: now,
            released_at: None,
        },
    };
    let response = ClaimedCoupon {
        id: coupon_id,
        campaign_id: campaign.id,
        status: CouponStatus::Available,
        valid_from: campaign.valid_from,
        valid_until: campaign.valid_until,
        claimed_at: now,
    };
    match state.claims.commit(ClaimWrite::Coupon(coupon)).await? {
        CommitOutcome::Committed => Ok((StatusCode::CREATED, Json(response))),
        CommitOutcome::Duplicate => replay(&state, buyer.id, &campaign, coupon_id).await,
        CommitOutcome::SoldOut => Err(sold_out()),
        CommitOutcome::LimitReached => Err(limit_reached()),
        CommitOutcome::CouponUnavailable | CommitOutcome::InsufficientPoints => Err(
            ApiError::internal("a coupon claim redeems nothing, yet was refused for it"),
        ),
    }
}

/// Answers a retried claim with the coupon its first attempt issued, once that is durable.
async fn replay(
    state: &AppState,
    buyer: Uuid,
    campaign: &CouponCampaign,
    coupon_id: Uuid,
) -> Result<(StatusCode, Json<ClaimedCoupon>), ApiError> {
    let coupon = first_attempt(|| state.store.coupon(coupon_id)).await?;
    if coupon.user_id != buyer || coupon.campaign_id != campaign.id {
        return Err(ApiError::idempotency_mismatch());
    }
    Ok((
        StatusCode::CREATED,
        Json(ClaimedCoupon {
            id: coupon.id,
            campaign_id: coupon.campaign_id,
            status: CouponStatus::Available,
            valid_from: coupon.valid_from,
            valid_until: coupon.valid_until,
            claimed_at: coupon.claimed_at,
        }),
    ))
}

fn sold_out() -> ApiError {
    ApiError::conflict("sold_out", "every coupon of this campaign has been claimed")
}

fn limit_reached() -> ApiError {
    ApiError::conflict(
        "limit_reached",
        "this would exceed the campaign's per-buyer limit",
    )
}
