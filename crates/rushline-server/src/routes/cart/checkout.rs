use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::cart::{self, CheckoutRequest};
use rushline_app::coupons::Redeem;
use rushline_domain::Won;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Buyer;
use crate::openapi::errors;
use crate::routes::orders::OrderView;
use crate::{ApiError, AppState, IdempotencyKey, Json};

#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckoutBody {
    /// The lines to buy; absent: the whole cart.
    product_ids: Option<Vec<Uuid>>,
    /// A coupon of the buyer's wallet, applied to the lines its scope covers.
    coupon_id: Option<Uuid>,
    /// Points to spend, one won each: at most the balance and the total after the coupon.
    #[serde(default)]
    #[schema(value_type = i64)]
    points: Won,
}

errors!(CheckoutErrors: [IdempotencyKeyRequired, Unauthorized, Forbidden, SoldOut, NotOnSale, CartLineFull, TooManyPendingOrders, RequestInProgress, CouponUnavailable, CouponExpired, CouponNotYetValid, InsufficientPoints, EmptyCart, NotInCart, IdempotencyMismatch, ValidationFailed, CouponNotFound, CouponNotApplicable, CouponMinimumNotMet, PointsExceedTotal, GateUnavailable, DatabaseUnavailable]);

/// Checks out the cart, or the chosen lines of it, as one order: every line's stock is claimed
/// in the gate or none is (claims already made are undone), then the order is group-committed
/// and the lines leave the cart. A retry with the same `Idempotency-Key` returns the same order.
#[utoipa::path(
    post,
    path = "/api/v1/cart/checkout",
    tag = "cart",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters")),
    request_body = CheckoutBody,
    responses((status = 201, body = OrderView), CheckoutErrors)
)]
pub(crate) async fn checkout(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    IdempotencyKey(key): IdempotencyKey,
    Json(body): Json<CheckoutBody>,
) -> Result<(StatusCode, Json<OrderView>), ApiError> {
    let request = CheckoutRequest {
        product_ids: body.product_ids,
        redeem: Redeem {
            coupon_id: body.coupon_id,
            points: body.points,
        },
    };
    let order = cart::checkout(&state, buyer.id, key, request).await?;
    Ok((StatusCode::CREATED, Json(order.into())))
}
