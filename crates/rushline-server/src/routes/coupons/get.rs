use axum::extract::State;
use uuid::Uuid;

use super::CampaignView;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

errors!(GetErrors: [NotFound]);

/// One campaign, with `remaining` from the claim gate. Public.
#[utoipa::path(
    get,
    path = "/api/v1/coupon-campaigns/{id}",
    tag = "coupons",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CampaignView), GetErrors)
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<CampaignView>, ApiError> {
    let campaign = state.campaigns.get(&state.store, id).await?;
    Ok(Json(CampaignView::of(&state, &campaign).await?))
}
