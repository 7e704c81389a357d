use axum::extract::State;
use rushline_domain::OrderStatus;
use rushline_store::OrderTransition;
use uuid::Uuid;

use crate::auth::Buyer;
use crate::orders::{OrderView, transition};
use crate::{ApiError, AppState, ErrorBody, Json, Path};

/// Cancels the buyer's order while it is `pending_payment` or `paid`: its stock goes back on
/// sale, and a paid order is refunded.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/cancel",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = OrderView),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a buyer", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_transition`: shipped, or already cancelled, expired…", body = ErrorBody),
    )
)]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(id): Path<Uuid>,
) -> Result<Json<OrderView>, ApiError> {
    let order = state.store.order(id).await?;
    if order.buyer_id != buyer.id {
        return Err(ApiError::not_found());
    }
    let now = state.clock.now();
    let mut change = OrderTransition::new(id, order.status, OrderStatus::Cancelled, now, "buyer");
    if !order.status.can_become(OrderStatus::Cancelled) {
        return Err(ApiError::conflict(
            "invalid_transition",
            format!("a {} order cannot be cancelled", order.status),
        ));
    }
    if order.status == OrderStatus::Paid {
        change.jobs =
            crate::payments::refunds_for(&state, id, "cancelled by the buyer", now).await?;
    }
    Ok(Json(transition(&state, &change).await?.into()))
}
