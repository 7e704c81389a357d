use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::cart;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::CartView;
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

errors!(AddErrors: [Unauthorized, Forbidden, NotFound, CartLineFull, CartFull, ValidationFailed]);

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
    let cart = cart::add(&state, buyer.id, body.product_id, body.quantity).await?;
    Ok((StatusCode::CREATED, Json(cart.into())))
}
