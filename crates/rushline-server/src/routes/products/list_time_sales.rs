use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{TimeSaleView, is_public, may_see};
use crate::auth::AuthUser;
use crate::{ApiError, AppState, ErrorBody, Json, Path};

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TimeSaleList {
    /// Past, current and upcoming, by start.
    items: Vec<TimeSaleView>,
}

/// A product's time sales. Visible to whoever may see the product.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/time-sales",
    tag = "catalog",
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "product id")),
    responses(
        (status = 200, body = TimeSaleList),
        (status = 404, description = "no such product, or not visible to the caller (`not_found`)", body = ErrorBody),
    )
)]
pub(crate) async fn list_time_sales(
    State(state): State<AppState>,
    viewer: Option<AuthUser>,
    Path(id): Path<Uuid>,
) -> Result<Json<TimeSaleList>, ApiError> {
    let product = state.store.product(id).await?;
    if !may_see(product.seller_id, is_public(&product), viewer) {
        return Err(ApiError::not_found());
    }
    let sales = state.store.time_sales(id).await?;
    Ok(Json(TimeSaleList {
        items: sales.iter().map(TimeSaleView::from).collect(),
    }))
}
