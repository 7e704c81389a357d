use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rushline_app::coupons::Redeem;
use rushline_app::drops::{self, Purchased};
use rushline_domain::{OrderStatus, Won};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, IdempotencyKey, Json, Path, QueuePass};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PurchaseRequest {
    /// Units to buy, 1–1000 (and within the drop's per-user limit).
    quantity: i64,
    /// A coupon of the buyer's wallet (`GET /me/coupons`) to take off the total; reserved with
    /// the order, used when it is paid, given back if it is cancelled, expires or is returned.
    #[serde(default)]
    coupon_id: Option<Uuid>,
    /// Points to spend, one won each: at most the balance and at most the total after the
    /// coupon; refunded if the order is cancelled, expires or is returned. Default 0.
    #[serde(default)]
    #[schema(value_type = i64)]
    points: Won,
}

/// The order a purchase created, holding its units until `hold_expires_at`. A retry with the
/// same `Idempotency-Key` answers exactly this again.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PurchaseResponse {
    order_id: Uuid,
    drop_id: Uuid,
    quantity: u32,
    #[schema(value_type = i64)]
    unit_price: Won,
    /// `quantity × unit_price`.
    #[schema(value_type = i64)]
    subtotal: Won,
    /// Won the coupon took off.
    #[schema(value_type = i64)]
    discount: Won,
    /// Points spent.
    #[schema(value_type = i64)]
    points: Won,
    #[serde(skip_serializing_if = "Option::is_none")]
    coupon_id: Option<Uuid>,
    /// What payment charges: `subtotal − discount − points`.
    #[schema(value_type = i64)]
    total: Won,
    status: OrderStatus,
    hold_expires_at: DateTime<Utc>,
    /// This purchase's place in the order in which the drop's stock was granted.
    seq: u64,
}

errors!(PurchaseErrors: [IdempotencyKeyRequired, InvalidIdempotencyKey, Unauthorized, Forbidden, QueuePassRequired, QueuePassInvalid, NotFound, SoldOut, LimitReached, TooManyPendingOrders, NotOpen, Closed, RequestInProgress, CouponUnavailable, CouponExpired, CouponNotYetValid, InsufficientPoints, ValidationFailed, IdempotencyMismatch, CouponNotFound, CouponNotApplicable, CouponMinimumNotMet, PointsExceedTotal, GateUnavailable, DatabaseUnavailable]);

/// Buys units of an open drop: JWT → window check → (waiting room: pass check) → one atomic step
/// in the claim gate → (pass used up) → group-committed order → 201. No database read on the way,
/// except on a retry (also one refused as `closed` or for an expired pass, which may follow a
/// purchase that went through), and for a coupon or points: the coupon (owner, status,
/// validity, scope, minimum) and the balance are checked first, and the group commit reserves
/// the coupon and spends the points with the order, in its transaction.
///
/// On a drop with a waiting room, the buyer's pass from `GET /drops/{id}/queue/me` goes in
/// `X-Queue-Pass`. The pass is used up when the gate grants the units (freeing its `max_active`
/// place); a purchase refused by the gate (`sold_out`, `limit_reached`) leaves it valid, and a
/// retry with the same `Idempotency-Key` answers with the first order although the pass is used.
/// (Should the order then fail to commit, a 503, the pass stays spent: the room has no way to
/// give a pass back.)
#[utoipa::path(
    post,
    path = "/api/v1/drops/{id}/purchase",
    tag = "drops",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters; a retry with the same key returns the first answer"),
        ("X-Queue-Pass" = Option<String>, Header, description = "Required on a drop with a waiting room: the buyer's pass for this drop"),
    ),
    request_body = PurchaseRequest,
    responses((status = 201, body = PurchaseResponse), PurchaseErrors)
)]
pub(crate) async fn purchase(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(drop_id): Path<Uuid>,
    IdempotencyKey(key): IdempotencyKey,
    QueuePass(pass): QueuePass,
    Json(body): Json<PurchaseRequest>,
) -> Result<(StatusCode, Json<PurchaseResponse>), ApiError> {
    let request = drops::PurchaseRequest {
        drop_id,
        quantity: body.quantity,
        redeem: Redeem {
            coupon_id: body.coupon_id,
            points: body.points,
        },
    };
    let purchased = drops::purchase(&state, buyer.id, key, pass.as_deref(), request).await;
    // Every purchase that reached the application, by how it ended: `created` or the error
    // code (a closed set), so that a dashboard shows sold-out and limit refusals beside sales.
    let outcome = match &purchased {
        Ok(_) => "created",
        Err(e) => e.code().as_str(),
    };
    metrics::counter!("rushline_purchases_total", "outcome" => outcome).increment(1);
    Ok((StatusCode::CREATED, Json(purchased?.into())))
}

impl From<Purchased> for PurchaseResponse {
    fn from(purchased: Purchased) -> Self {
        Self {
            order_id: purchased.order_id,
            drop_id: purchased.drop_id,
            quantity: purchased.quantity,
            unit_price: purchased.unit_price,
            subtotal: purchased.subtotal,
            discount: purchased.discount,
            points: purchased.points,
            coupon_id: purchased.coupon_id,
            total: purchased.total,
            status: purchased.status,
            hold_expires_at: purchased.hold_expires_at,
            seq: purchased.seq,
        }
    }
}
