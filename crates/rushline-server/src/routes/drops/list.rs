use axum::extract::State;
use rushline_domain::DropStatus;
use rushline_store::{DropFilter, DropWindow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::DropView;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Query};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListDrops {
    /// Only drops with this status at the time of the request.
    status: Option<DropStatus>,
    seller_id: Option<Uuid>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DropList {
    items: Vec<DropView>,
}

errors!(ListErrors: [InvalidQuery]);

/// Drops, soonest opening first. Public.
#[utoipa::path(
    get,
    path = "/api/v1/drops",
    tag = "drops",
    params(ListDrops),
    responses((status = 200, body = DropList), ListErrors)
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListDrops>,
) -> Result<Json<DropList>, ApiError> {
    let now = state.clock.now();
    let limit = crate::routes::page_limit(query.limit, 50)?;
    let window = query.status.map(|status| match status {
        DropStatus::Scheduled => DropWindow::Scheduled { now },
        DropStatus::Open | DropStatus::Drawing | DropStatus::Claiming | DropStatus::SoldOut => {
            DropWindow::Open { now }
        }
        DropStatus::Closed => DropWindow::Closed { now },
    });
    let filter = DropFilter {
        seller_id: query.seller_id,
        window,
        opening: None,
        limit,
    };
    let mut items = Vec::new();
    for drop in state.store.list_drops(&filter).await? {
        let view = DropView::of(&state, &drop).await?;
        // Open, drawing, claiming and sold out share a window; only the gate and the raffle tell
        // them apart.
        if query.status.is_none_or(|status| status == view.status) {
            items.push(view);
        }
    }
    Ok(Json(DropList { items }))
}
