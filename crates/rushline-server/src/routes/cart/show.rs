use axum::extract::State;

use super::{CartView, view};
use crate::auth::Buyer;
use crate::{ApiError, AppState, ErrorBody, Json};

/// The caller's cart, at current prices and stock.
#[utoipa::path(
    get,
    path = "/api/v1/cart",
    tag = "cart",
    security(("bearer" = [])),
    responses(
        (status = 200, body = CartView),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a buyer", body = ErrorBody),
    )
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
) -> Result<Json<CartView>, ApiError> {
    Ok(Json(view(&state, buyer.id).await?))
}
