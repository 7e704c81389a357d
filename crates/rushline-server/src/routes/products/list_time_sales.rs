use axum::extract::State;
use rushline_app::AppError;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{TimeSaleView, is_public, may_see};
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TimeSaleList {
    /// Past, current and upcoming, by start.
    items: Vec<TimeSaleView>,
}

errors!(ListTimeSalesErrors: [NotFound]);

/// A product's time sales. Visible to whoever may see the product.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/time-sales",
    tag = "catalog",
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "product id")),
    responses((status = 200, body = TimeSaleList), ListTimeSalesErrors)
)]
pub(crate) async fn list_time_sales(
    State(state): State<AppState>,
    viewer: Option<AuthUser>,
    Path(id): Path<Uuid>,
) -> Result<Json<TimeSaleList>, ApiError> {
    let product = state.store.product(id).await?;
    if !may_see(product.seller_id, is_public(&product), viewer) {
        return Err(AppError::not_found().into());
    }
    let sales = state.store.time_sales(id).await?;
    Ok(Json(TimeSaleList {
        items: sales.iter().map(TimeSaleView::from).collect(),
    }))
}
