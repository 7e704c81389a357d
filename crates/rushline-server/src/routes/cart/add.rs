use axum::extract::State;
use axum::http::StatusCode;
use rushline_store::CART_ITEMS_QUANTITY_CHECK;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{CartView, buyable, quantity, view};
use crate::auth::Buyer;
use crate::{ApiError, AppState, ErrorBody, Json};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddItem {
    product_id: Uuid,
    /// 1–999; added to what the cart already holds of the product.
    quantity: i64,
}

/// Puts units of an active product in the cart; the same product merges into one line.
#[utoipa::path(
    post,
    path = "/api/v1/cart/items",
    tag = "cart",
    security(("bearer" = [])),
    request_body = AddItem,
    responses(
        (status = 201, body = CartView),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a buyer", body = ErrorBody),
        (status = 404, description = "`not_found`: no such product on sale", body = ErrorBody),
        (status = 409, description = "`cart_line_full`: more than 999 units of one product", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
pub(crate) async fn add(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Json(body): Json<AddItem>,
) -> Result<(StatusCode, Json<CartView>), ApiError> {
    let quantity = quantity(body.quantity)?;
    buyable(&state, body.product_id).await?;
    state
        .store
        .add_to_cart(buyer.id, body.product_id, quantity, state.clock.now())
        .await
        .map_err(|e| {
            if e.is_conflict_on(CART_ITEMS_QUANTITY_CHECK) {
                ApiError::conflict("cart_line_full", "a cart line holds at most 999 units")
            } else {
                e.into()
            }
        })?;
    Ok((StatusCode::CREATED, Json(view(&state, buyer.id).await?)))
}
