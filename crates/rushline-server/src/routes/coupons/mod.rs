//! `/api/v1/coupon-campaigns`: coupons handed out first come, first served, through the same
//! gate and group commit as drops.

mod claim;
mod create;
mod get;
mod list;

use chrono::{DateTime, Utc};
use rushline_app::AppError;
use rushline_domain::{CampaignStatus, CouponScope, Discount, Won};
use rushline_gate::PoolKey;
use rushline_store::CouponCampaign;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::{ApiError, AppState};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create::create, list::list))
        .routes(routes!(get::get))
        .routes(routes!(claim::claim))
}

/// A campaign as anyone sees it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CampaignView {
    id: Uuid,
    /// The seller or admin who created it.
    owner_id: Uuid,
    name: String,
    total: i64,
    /// Coupons not yet claimed, from the claim gate.
    remaining: u64,
    per_user_limit: i32,
    claim_starts_at: DateTime<Utc>,
    claim_ends_at: DateTime<Utc>,
    /// Its coupons are valid from `valid_from` until just before `valid_until`.
    valid_from: DateTime<Utc>,
    valid_until: DateTime<Utc>,
    discount: Discount,
    /// The least the lines the coupon covers must come to, in KRW.
    #[schema(value_type = i64)]
    min_order_amount: Won,
    scope: CouponScope,
    status: CampaignStatus,
    created_at: DateTime<Utc>,
}

impl CampaignView {
    /// The view at the current clock; `remaining` comes from the gate, not the database.
    pub(crate) async fn of(state: &AppState, campaign: &CouponCampaign) -> Result<Self, ApiError> {
        let remaining = state
            .claims
            .gate
            .remaining(&PoolKey(campaign.pool_key()))
            .await?
            .ok_or_else(AppError::not_found)?;
        Ok(Self {
            id: campaign.id,
            owner_id: campaign.owner_id,
            name: campaign.name.clone(),
            total: campaign.total,
            remaining,
            per_user_limit: campaign.per_user_limit,
            claim_starts_at: campaign.claim_starts_at,
            claim_ends_at: campaign.claim_ends_at,
            valid_from: campaign.valid_from,
            valid_until: campaign.valid_until,
            discount: campaign.discount,
            min_order_amount: campaign.min_order_amount,
            scope: campaign.scope,
            status: CampaignStatus::shown(
                state.clock.now(),
                campaign.claim_starts_at,
                campaign.claim_ends_at,
                remaining,
            ),
            created_at: campaign.created_at,
        })
    }
}
