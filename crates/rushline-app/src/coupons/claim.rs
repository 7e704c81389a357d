//! Claiming a coupon of an open campaign: claim window → one atomic step in the claim gate (the
//! campaign's pool, its per-buyer limit) → group-committed coupon. No database read on the way,
//! except on the campaign's first use on this node, on a retry, and after the window closed (a
//! retry of a claim that went through is answered with its coupon).

use chrono::{DateTime, Utc};
use rushline_domain::CouponStatus;
use rushline_domain::drop::{Window, window_status};
use rushline_gate::{Claim, PoolKey};
use rushline_store::{ClaimWrite, CouponCampaign, DbError, NewCoupon};
use uuid::Uuid;

use crate::claims::place::{Placement, Refusal, claim_row, place};
use crate::claims::{Creates, fingerprint, first_attempt, request_id};
use crate::{App, AppError, ErrorCode};

/// The coupon a claim put in the buyer's wallet: the first answer, given again to every retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedCoupon {
    pub id: Uuid,
    pub campaign_id: Uuid,
    /// `available`: the claim's answer; the wallet shows where it stands now.
    pub status: CouponStatus,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub claimed_at: DateTime<Utc>,
}

/// Claims one coupon of campaign `campaign_id` for `buyer`, under the request's idempotency
/// `key`.
pub async fn claim(
    app: &App,
    buyer: Uuid,
    key: &str,
    campaign_id: Uuid,
) -> Result<ClaimedCoupon, AppError> {
    let campaign = app.campaigns.get(&app.store, campaign_id).await?;
    let now = app.clock.now();
    // Namespaced: the same key sent to a purchase names an order, not this coupon.
    let coupon_id = request_id(buyer, Creates::Coupon, key);
    match window_status(now, campaign.claim_starts_at, campaign.claim_ends_at) {
        Window::Scheduled => {
            return Err(AppError::new(
                ErrorCode::NotOpen,
                "the campaign's claim window has not opened yet",
            ));
        }
        // A retry of a claim that went through before the window closed gets the first answer.
        Window::Closed => {
            return match app.store.coupon(coupon_id).await {
                Ok(_) => replay(app, buyer, campaign.id, coupon_id).await,
                Err(DbError::NotFound) => Err(AppError::new(
                    ErrorCode::Closed,
                    "the campaign's claim window has closed",
                )),
                Err(e) => Err(e.into()),
            };
        }
        Window::Open => {}
    }
    let claim = Claim {
        user: buyer,
        qty: 1,
        request_id: coupon_id,
        fingerprint: fingerprint(&[b"coupon-claim", campaign.id.as_bytes()]),
        at: now.timestamp_micros(),
    };
    let mut claim = CouponClaim {
        claims: [(PoolKey(campaign.pool_key()), claim)],
        coupon_id,
        buyer,
        campaign: &campaign,
        now,
    };
    place(app, &mut claim).await
}

/// A coupon claim: one claim in the campaign's pool, one coupon.
struct CouponClaim<'a> {
    claims: [(PoolKey, Claim); 1],
    coupon_id: Uuid,
    buyer: Uuid,
    campaign: &'a CouponCampaign,
    now: DateTime<Utc>,
}

impl Placement for CouponClaim<'_> {
    type Answer = ClaimedCoupon;
    const POOL: &'static str = "coupon";

    fn claims(&self) -> &[(PoolKey, Claim)] {
        &self.claims
    }

    fn refused(&self, refusal: Refusal, _line: Option<usize>) -> AppError {
        match refusal {
            Refusal::SoldOut => AppError::new(
                ErrorCode::SoldOut,
                "every coupon of this campaign has been claimed",
            ),
            Refusal::LimitReached => AppError::new(
                ErrorCode::LimitReached,
                "this would exceed the campaign's per-buyer limit",
            ),
        }
    }

    fn write(&mut self, seqs: &[u64]) -> ClaimWrite {
        let (pool, claim) = &self.claims[0];
        ClaimWrite::Coupon(NewCoupon {
            id: self.coupon_id,
            campaign_id: self.campaign.id,
            user_id: self.buyer,
            valid_from: self.campaign.valid_from,
            valid_until: self.campaign.valid_until,
            claimed_at: self.now,
            claim: claim_row(pool, claim, seqs[0], self.now),
        })
    }

    async fn committed(&self, _app: &App, _seqs: &[u64]) -> Result<ClaimedCoupon, AppError> {
        Ok(ClaimedCoupon {
            id: self.coupon_id,
            campaign_id: self.campaign.id,
            status: CouponStatus::Available,
            valid_from: self.campaign.valid_from,
            valid_until: self.campaign.valid_until,
            claimed_at: self.now,
        })
    }

    async fn replay(&self, app: &App) -> Result<ClaimedCoupon, AppError> {
        replay(app, self.buyer, self.campaign.id, self.coupon_id).await
    }
}

/// Answers a retried claim with the coupon its first attempt issued, once that is durable.
async fn replay(
    app: &App,
    buyer: Uuid,
    campaign_id: Uuid,
    coupon_id: Uuid,
) -> Result<ClaimedCoupon, AppError> {
    let coupon = first_attempt(|| app.store.coupon(coupon_id)).await?;
    if coupon.user_id != buyer || coupon.campaign_id != campaign_id {
        return Err(AppError::idempotency_mismatch());
    }
    Ok(ClaimedCoupon {
        id: coupon.id,
        campaign_id: coupon.campaign_id,
        status: CouponStatus::Available,
        valid_from: coupon.valid_from,
        valid_until: coupon.valid_until,
        claimed_at: coupon.claimed_at,
    })
}
