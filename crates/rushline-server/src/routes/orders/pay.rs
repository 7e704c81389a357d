use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Buyer;
use crate::orders::{OrderView, PaymentView};
use crate::payments::PayMethod;
use crate::{ApiError, AppState, ErrorBody, IdempotencyKey, Json, Path};

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
        payment_key: String,
        amount: i64,
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
    responses(
        (status = 200, body = PayResponse),
        (status = 400, description = "`idempotency_key_required`", body = ErrorBody),
        (status = 402, description = "`card_declined`, `insufficient_funds`, `payment_declined` (with `details.provider_code`)", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_paid`, `payment_in_progress`, `hold_expired`, `invalid_transition`, `request_in_progress`, `payment_refunded` (the charge could not complete the order and is refunded)", body = ErrorBody),
        (status = 422, description = "`invalid_body`, `amount_mismatch`, `idempotency_mismatch`; `payment_method_unavailable`: a sandbox card where Toss is configured; `provider_not_configured`: Toss where it is not", body = ErrorBody),
        (status = 503, description = "`payment_unavailable`: the provider timed out, failed or rate-limited us, or its breaker is open", body = ErrorBody),
    )
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
    let (order, payment) = crate::payments::pay(&state, buyer, id, &key, method).await?;
    Ok(Json(PayResponse {
        order: order.into(),
        payment: payment.into(),
    }))
}
