use axum::extract::State;
use rushline_app::cart;
use uuid::Uuid;

use super::{CartView, QuantityBody};
use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

errors!(UpdateErrors: [Unauthorized, Forbidden, NotFound, CartLineFull, ValidationFailed]);

/// Sets how many units of a product the cart holds.
#[utoipa::path(
    patch,
    path = "/api/v1/cart/items/{product_id}",
    tag = "cart",
    security(("bearer" = [])),
    params(("product_id" = Uuid, Path)),
    request_body = QuantityBody,
    responses((status = 200, body = CartView), UpdateErrors)
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(product): Path<Uuid>,
    Json(body): Json<QuantityBody>,
) -> Result<Json<CartView>, ApiError> {
    let cart = cart::set_quantity(&state, buyer.id, product, body.quantity).await?;
    Ok(Json(cart.into()))
}
