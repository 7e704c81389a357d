use axum::extract::State;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::orders::{OrderView, visible_order};
use crate::{ApiError, AppState, ErrorBody, Json, Path};

/// One order with its lines and the history of its statuses: for its buyer, a seller of one of
/// its lines, or an admin; anyone else gets 404.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = OrderView),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<OrderView>, ApiError> {
    let order = visible_order(&state, user, id).await?;
    let payments = state.store.payments_for_order(id).await?;
    Ok(Json(OrderView::from(order).with_payments(payments)))
}
