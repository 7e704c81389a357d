use axum::extract::State;
use rushline_app::payments::PayMethod;
use rushline_domain::Won;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{OrderView, PaymentView};
use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, IdempotencyKey, Json, Path};

/// `{"method": "card", "card_number": "…"}` for the sandbox (only where Toss is not configured),
/// or `{"provider": "toss", "payment_key": "…", "amount": 129000}` to confirm a Toss payment
/// (only where it is).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum PayRequest {
    Card {
        /// Always `card`: tells this shape from the other.
        #[serde(rename = "method")]
        _method: CardMethod,
        card_number: String,
    },
    Toss {
        /// Always `toss`.
        #[serde(rename = "provider")]
        _provider: TossProvider,
        /// As Toss issued it: 1–200 ASCII letters, digits, `-` and `_`.
        payment_key: String,
        #[schema(value_type = i64)]
        amount: Won,
    },
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CardMethod {
    Card,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TossProvider {
    Toss,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PayResponse {
    order: OrderView,
    payment: PaymentView,
}

errors!(PayErrors: [IdempotencyKeyRequired, Unauthorized, Forbidden, CardDeclined, InsufficientFunds, PaymentDeclined, NotFound, AlreadyPaid, PaymentInProgress, HoldExpired, InvalidTransition, RequestInProgress, PaymentRefunded, InvalidBody, ValidationFailed, AmountMismatch, IdempotencyMismatch, PaymentMethodUnavailable, ProviderNotConfigured, PaymentUnavailable]);

/// Pays a `pending_payment` order of the caller while its hold lasts, with the deployment's one
/// provider: Toss Payments where it is configured, else the sandbox, which approves any card
/// except numbers ending in 0002 (declined), 0003 (insufficient funds) and 0004 (times out).
/// A retry with the same `Idempotency-Key` answers where that payment stands.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/pay",
    tag = "orders",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters"),
    ),
    request_body = PayRequest,
    responses((status = 200, body = PayResponse), PayErrors)
)]
pub(crate) async fn pay(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(id): Path<Uuid>,
    IdempotencyKey(key): IdempotencyKey,
    Json(body): Json<PayRequest>,
) -> Result<Json<PayResponse>, ApiError> {
    let method = match body {
        PayRequest::Card { card_number, .. } => PayMethod::Card { card_number },
        PayRequest::Toss {
            payment_key,
            amount,
            ..
        } => PayMethod::Toss {
            payment_key,
            amount,
        },
    };
    let (order, payment) = rushline_app::payments::pay(&state, buyer.id, id, &key, method).await?;
    Ok(Json(PayResponse {
        order: order.into(),
        payment: payment.into(),
    }))
}
