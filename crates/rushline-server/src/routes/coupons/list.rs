use axum::extract::State;
use rushline_domain::CampaignStatus;
use rushline_store::{CampaignFilter, DropWindow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::CampaignView;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Query};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListCampaigns {
    /// Only campaigns with this status at the time of the request.
    status: Option<CampaignStatus>,
    /// Only campaigns of this seller or admin.
    owner_id: Option<Uuid>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CampaignList {
    items: Vec<CampaignView>,
}

errors!(ListErrors: [InvalidQuery]);

/// Campaigns, soonest claim window first. Public.
#[utoipa::path(
    get,
    path = "/api/v1/coupon-campaigns",
    tag = "coupons",
    params(ListCampaigns),
    responses((status = 200, body = CampaignList), ListErrors)
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListCampaigns>,
) -> Result<Json<CampaignList>, ApiError> {
    let now = state.clock.now();
    let limit = crate::routes::page_limit(query.limit, 50)?;
    let window = query.status.map(|status| match status {
        CampaignStatus::Scheduled => DropWindow::Scheduled { now },
        CampaignStatus::Open | CampaignStatus::SoldOut => DropWindow::Open { now },
        CampaignStatus::Closed => DropWindow::Closed { now },
    });
    let filter = CampaignFilter {
        owner_id: query.owner_id,
        window,
        limit,
    };
    let mut items = Vec::new();
    for campaign in state.store.list_campaigns(&filter).await? {
        let view = CampaignView::of(&state, &campaign).await?;
        // Open and sold out share a window; only the gate tells them apart.
        if query.status.is_none_or(|status| status == view.status) {
            items.push(view);
        }
    }
    Ok(Json(CampaignList { items }))
}
