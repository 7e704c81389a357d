use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::ErrorCode;
use rushline_store::CART_ITEMS_QUANTITY_CHECK;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{CartView, buyable, quantity, view};
use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddItem {
    product_id: Uuid,
    /// 1–999; added to what the cart already holds of the product.
    quantity: i64,
}

errors!(AddErrors: [Unauthorized, Forbidden, NotFound, CartLineFull, ValidationFailed]);

/// Puts units of an active product in the cart; the same product merges into one line.
#[utoipa::path(
    post,
    path = "/api/v1/cart/items",
    tag = "cart",
    security(("bearer" = [])),
    request_body = AddItem,
    responses((status = 201, body = CartView), AddErrors)
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
                ApiError::new(
                    ErrorCode::CartLineFull,
                    "a cart line holds at most 999 units",
                )
            } else {
                e.into()
            }
        })?;
    Ok((StatusCode::CREATED, Json(view(&state, buyer.id).await?)))
}
