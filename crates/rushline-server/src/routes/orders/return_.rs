use axum::extract::State;
use rushline_app::orders;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::OrderView;
use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ReturnReason {
    ChangedMind,
    Defective,
    WrongItem,
    LateDelivery,
    Other,
}

impl ReturnReason {
    fn as_str(self) -> &'static str {
        match self {
            ReturnReason::ChangedMind => "changed_mind",
            ReturnReason::Defective => "defective",
            ReturnReason::WrongItem => "wrong_item",
            ReturnReason::LateDelivery => "late_delivery",
            ReturnReason::Other => "other",
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReturnRequest {
    reason: ReturnReason,
    /// At most 1000 characters.
    note: Option<String>,
}

errors!(RequestReturnErrors: [Unauthorized, Forbidden, NotFound, InvalidTransition, ReturnWindowClosed, ValidationFailed, InvalidBody]);

/// Asks to return a delivered order within the return window. After `orders.return_process`
/// it is `returned`: its stock goes back on sale and the payment is refunded.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/return",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ReturnRequest,
    responses((status = 200, body = OrderView), RequestReturnErrors)
)]
pub(crate) async fn request_return(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(id): Path<Uuid>,
    Json(body): Json<ReturnRequest>,
) -> Result<Json<OrderView>, ApiError> {
    let order = orders::request_return(&state, buyer.id, id, body.reason.as_str(), body.note);
    Ok(Json(order.await?.into()))
}
