//! Coupon campaigns on the hot path: their terms, read from the database at most once per
//! campaign and node while they are in use, so that a burst of claims costs no database read
//! for the campaign itself.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use rushline_store::{CouponCampaign, DbError, Store};
use uuid::Uuid;

use crate::ApiError;

/// Campaigns never change once created, so a copy is never stale; it is dropped only when
/// unused for this long, to bound memory.
const IDLE_FOR: Duration = Duration::from_secs(10 * 60);

pub struct CampaignCache {
    campaigns: Cache<Uuid, Arc<CouponCampaign>>,
}

impl Default for CampaignCache {
    fn default() -> Self {
        Self {
            campaigns: Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(IDLE_FOR)
                .build(),
        }
    }
}

impl CampaignCache {
    /// The campaign, from this node's copy or, on first use, from the store.
    pub async fn get(
        &self,
        store: &Arc<dyn Store>,
        id: Uuid,
    ) -> Result<Arc<CouponCampaign>, ApiError> {
        self.campaigns
            .try_get_with(id, async { store.campaign(id).await.map(Arc::new) })
            .await
            .map_err(|e: Arc<DbError>| ApiError::from((*e).clone()))
    }
}
