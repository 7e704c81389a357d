//! Coupon campaigns, each with a pool of coupons, and the coupons in buyers' wallets.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::{CouponScope, CouponStatus, Discount, Won};
use uuid::Uuid;

use crate::DbError;
use crate::claims::ClaimRow;
use crate::drops::DropWindow;

#[derive(Debug, Clone, PartialEq)]
pub struct CouponCampaign {
    pub id: Uuid,
    /// The seller or admin who created it.
    pub owner_id: Uuid,
    pub name: String,
    /// Coupons to hand out: the total of its pool.
    pub total: i64,
    pub per_user_limit: i32,
    pub claim_starts_at: DateTime<Utc>,
    pub claim_ends_at: DateTime<Utc>,
    /// Every coupon of the campaign is valid in `[valid_from, valid_until)`.
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub discount: Discount,
    pub min_order_amount: Won,
    pub scope: CouponScope,
    pub created_at: DateTime<Utc>,
}

impl CouponCampaign {
    pub fn pool_key(&self) -> String {
        campaign_pool_key(self.id)
    }
}

pub fn campaign_pool_key(id: Uuid) -> String {
    format!("coupon:{id}")
}

/// Which campaigns to list, soonest claim window first; the window is the claim window.
#[derive(Debug, Clone, Default)]
pub struct CampaignFilter {
    pub owner_id: Option<Uuid>,
    pub window: Option<DropWindow>,
    pub limit: u32,
}

/// A coupon as the group-commit writer issues it: `available`, with the claim on its
/// campaign's pool.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCoupon {
    /// The claim's request id, derived from the buyer and the idempotency key.
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub user_id: Uuid,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub claimed_at: DateTime<Utc>,
    pub claim: ClaimRow,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Coupon {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub user_id: Uuid,
    /// As stored: an `available` coupon past `valid_until` is shown expired (see
    /// [`CouponStatus::shown`]).
    pub status: CouponStatus,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    /// The order it is applied to while `reserved`, and that paid with it once `used`.
    pub reserved_by_order: Option<Uuid>,
    pub claimed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A buyer's coupons, newest first.
#[derive(Debug, Clone)]
pub struct CouponFilter {
    pub user_id: Uuid,
    /// The status shown at `now`: `available` excludes, and `expired` includes, available
    /// coupons whose validity has ended.
    pub status: Option<CouponStatus>,
    pub now: DateTime<Utc>,
    /// Strictly older than this `(claimed_at, id)`.
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u32,
}

#[async_trait]
pub trait CouponStore: Send + Sync {
    /// Inserts the campaign and its pool (`coupon:<id>`) in one transaction.
    async fn create_campaign(&self, campaign: &CouponCampaign) -> Result<(), DbError>;

    async fn campaign(&self, id: Uuid) -> Result<CouponCampaign, DbError>;

    async fn list_campaigns(&self, filter: &CampaignFilter)
    -> Result<Vec<CouponCampaign>, DbError>;

    async fn coupon(&self, id: Uuid) -> Result<Coupon, DbError>;

    async fn list_coupons(&self, filter: &CouponFilter) -> Result<Vec<Coupon>, DbError>;
}
