use axum::extract::State;
use rushline_app::orders::transition;
use rushline_app::{AppError, ErrorCode};
use rushline_domain::OrderStatus;
use rushline_store::OrderTransition;
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
    let order = state.store.order(id).await?;
    if order.buyer_id != buyer.id {
        return Err(AppError::not_found().into());
    }
    let now = state.clock.now();
    let mut change = OrderTransition::new(id, order.status, OrderStatus::Cancelled, now, "buyer");
    if !order.status.can_become(OrderStatus::Cancelled) {
        return Err(ApiError::new(
            ErrorCode::InvalidTransition,
            format!("a {} order cannot be cancelled", order.status),
        ));
    }
    if order.status == OrderStatus::Paid {
        change.jobs =
            rushline_app::payments::refunds_for(&state, id, "cancelled by the buyer", now).await?;
    }
    Ok(Json(transition(&state, &change).await?.into()))
}
