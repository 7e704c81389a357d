use axum::extract::State;
use rushline_app::orders;
use uuid::Uuid;

use super::OrderView;
use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

errors!(CancelErrors: [Unauthorized, Forbidden, NotFound, InvalidTransition]);

/// Cancels the buyer's order while it is `pending_payment` or `paid`: its stock goes back on
/// sale, and a paid order is refunded.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/cancel",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = OrderView), CancelErrors)
)]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(id): Path<Uuid>,
) -> Result<Json<OrderView>, ApiError> {
    Ok(Json(orders::cancel(&state, buyer.id, id).await?.into()))
}
