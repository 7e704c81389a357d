use axum::extract::State;
use rushline_app::orders;
use uuid::Uuid;

use super::OrderView;
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

errors!(GetErrors: [Unauthorized, NotFound]);

/// One order with its lines and the history of its statuses: for its buyer, a seller of one of
/// its lines, or an admin; anyone else gets 404.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = OrderView), GetErrors)
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<OrderView>, ApiError> {
    let order = orders::visible(&state, user.id, user.is_admin(), id).await?;
    let payments = state.store.payments_for_order(id).await?;
    Ok(Json(OrderView::from(order).with_payments(payments)))
}
