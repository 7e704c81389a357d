use axum::extract::State;
use rushline_domain::TrialStatus;
use rushline_store::{DropWindow, TrialFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::TrialView;
use crate::openapi::errors;
use crate::routes::orders::list::{decode_cursor, next_cursor};
use crate::{ApiError, AppState, Json, Query};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListTrials {
    /// Only trials with this status at the time of the request.
    status: Option<TrialStatus>,
    seller_id: Option<Uuid>,
    product_id: Option<Uuid>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TrialList {
    items: Vec<TrialView>,
    /// Pass as `cursor` for the next page; absent on the last page. With `status=open`, `full`
    /// or `paused` a page may hold fewer items than `limit` (those three share a window, which
    /// the page is read by) and still have a next one.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

errors!(ListErrors: [InvalidQuery, InvalidCursor]);

/// Trials, soonest opening first. Public.
#[utoipa::path(
    get,
    path = "/api/v1/trials",
    tag = "trials",
    params(ListTrials),
    responses((status = 200, body = TrialList), ListErrors)
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListTrials>,
) -> Result<Json<TrialList>, ApiError> {
    let now = state.clock.now();
    let limit = crate::routes::page_limit(query.limit, 50)?;
    let window = query.status.map(|status| match status {
        TrialStatus::Scheduled => DropWindow::Scheduled { now },
        TrialStatus::Open | TrialStatus::Full | TrialStatus::Paused => DropWindow::Open { now },
        TrialStatus::Closed => DropWindow::Closed { now },
    });
    let filter = TrialFilter {
        seller_id: query.seller_id,
        product_id: query.product_id,
        window,
        opening: None,
        after: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit,
    };
    let trials = state.store.list_trials(&filter).await?;
    let next_cursor = next_cursor(&trials, limit, |last| (last.opens_at, last.id));
    let mut items = Vec::with_capacity(trials.len());
    for trial in &trials {
        let view = TrialView::of(&state, trial).await?;
        // Open, full and paused share a window; only the gate and the pause tell them apart.
        if query.status.is_none_or(|status| status == view.status) {
            items.push(view);
        }
    }
    Ok(Json(TrialList { items, next_cursor }))
}
