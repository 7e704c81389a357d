use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, Path};

errors!(RemoveErrors: [Unauthorized, Forbidden, NotFound]);

/// Takes a product out of the cart.
#[utoipa::path(
    delete,
    path = "/api/v1/cart/items/{product_id}",
    tag = "cart",
    security(("bearer" = [])),
    params(("product_id" = Uuid, Path)),
    responses(
        (status = 204, description = "removed"),
        RemoveErrors,
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(product): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.store.remove_from_cart(buyer.id, product).await?;
    Ok(StatusCode::NO_CONTENT)
}
