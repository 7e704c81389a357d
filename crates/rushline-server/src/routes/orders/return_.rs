use axum::extract::State;
use rushline_app::orders::transition;
use rushline_app::{AppError, ErrorCode};
use rushline_domain::OrderStatus;
use rushline_store::OrderTransition;
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

errors!(RequestReturnErrors: [Unauthorized, NotFound, InvalidTransition, ReturnWindowClosed, ValidationFailed, InvalidBody]);

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
    if body
        .note
        .as_ref()
        .is_some_and(|note| note.chars().count() > 1000)
    {
        let mut errors = rushline_domain::FieldErrors::new();
        errors.add("note", "must be at most 1000 characters");
        return Err(errors.into());
    }
    let order = state.store.order(id).await?;
    if order.buyer_id != buyer.id {
        return Err(AppError::not_found().into());
    }
    let now = state.clock.now();
    if order.status != OrderStatus::Delivered {
        return Err(ApiError::new(
            ErrorCode::InvalidTransition,
            format!("a {} order cannot be returned", order.status),
        ));
    }
    if now >= order.status_changed_at + state.orders.return_window {
        return Err(ApiError::new(
            ErrorCode::ReturnWindowClosed,
            "the return window of this order has closed",
        ));
    }
    let mut change = OrderTransition::new(
        id,
        OrderStatus::Delivered,
        OrderStatus::ReturnRequested,
        now,
        format!("buyer: {}", body.reason.as_str()),
    );
    change.return_request = Some((body.reason.as_str().to_owned(), body.note));
    Ok(Json(transition(&state, &change).await?.into()))
}
