use axum::extract::State;

use rushline_app::cart;

use super::CartView;
use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json};

errors!(ShowErrors: [Unauthorized, Forbidden]);

/// The caller's cart, at current prices and stock.
#[utoipa::path(
    get,
    path = "/api/v1/cart",
    tag = "cart",
    security(("bearer" = [])),
    responses((status = 200, body = CartView), ShowErrors)
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
) -> Result<Json<CartView>, ApiError> {
    Ok(Json(cart::contents(&state, buyer.id).await?.into()))
}
