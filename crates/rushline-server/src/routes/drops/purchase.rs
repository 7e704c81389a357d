use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rushline_domain::drop::window_status;
use rushline_domain::pricing::PricedLine;
use rushline_domain::{DropStatus, OrderStatus};
use rushline_gate::{Claim, ClaimOutcome, PoolKey};
use rushline_store::{
    ClaimRow, ClaimWrite, CommitOutcome, DbError, NewOrder, NewOrderLine, ProductDrop,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{AuthUser, Buyer};
use crate::claims::{Creates, first_attempt, request_id};
use crate::coupons::Redeem;
use crate::rooms::{PassRefused, QueuePass, pass_invalid};
use crate::{ApiError, AppState, ErrorBody, IdempotencyKey, Json, Path};

/// The most units one purchase may ask for; the drop's per-user limit usually binds first.
const MAX_QUANTITY: u32 = 1_000;

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
    points: i64,
}

/// The order a purchase created, holding its units until `hold_expires_at`. A retry with the
/// same `Idempotency-Key` answers exactly this again.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PurchaseResponse {
    order_id: Uuid,
    drop_id: Uuid,
    quantity: u32,
    unit_price: i64,
    /// `quantity × unit_price`.
    subtotal: i64,
    /// Won the coupon took off.
    discount: i64,
    /// Points spent.
    points: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    coupon_id: Option<Uuid>,
    /// What payment charges: `subtotal − discount − points`.
    total: i64,
    status: OrderStatus,
    hold_expires_at: DateTime<Utc>,
    /// This purchase's place in the order in which the drop's stock was granted.
    seq: u64,
}

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
    responses(
        (status = 201, body = PurchaseResponse),
        (status = 400, description = "`idempotency_key_required`, `invalid_idempotency_key`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a buyer; `queue_pass_required`: the drop has a waiting room and no pass was sent; `queue_pass_invalid`: the pass is forged, expired, used, or for another buyer or drop", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`sold_out` (also when fewer than `quantity` remain), `limit_reached`, `not_open`, `closed`, `request_in_progress`; `coupon_unavailable` (applied to another order, or used), `coupon_expired`, `coupon_not_yet_valid`, `insufficient_points` (with `details.balance`)", body = ErrorBody),
        (status = 422, description = "`validation_failed` (bad quantity or points), `idempotency_mismatch` (the key was used with another body); `coupon_not_found` (not in the buyer's wallet), `coupon_not_applicable` (its scope covers another product or seller), `coupon_minimum_not_met` (with `details.min_order_amount`), `points_exceed_total` (with `details.payable`)", body = ErrorBody),
        (status = 503, description = "`gate_unavailable`, `database_unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn purchase(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(drop_id): Path<Uuid>,
    IdempotencyKey(key): IdempotencyKey,
    QueuePass(pass): QueuePass,
    Json(body): Json<PurchaseRequest>,
) -> Result<(StatusCode, Json<PurchaseResponse>), ApiError> {
    let quantity = u32::try_from(body.quantity)
        .ok()
        .filter(|q| (1..=MAX_QUANTITY).contains(q))
        .ok_or_else(|| {
            let mut errors = rushline_domain::FieldErrors::new();
            errors.add("quantity", format!("must be between 1 and {MAX_QUANTITY}"));
            ApiError::from(errors)
        })?;
    let drop = state.drops.get(&state.store, drop_id).await?;
    let now = state.clock.now();
    let order_id = request_id(buyer.id, Creates::Order, &key);
    let redeem = Redeem {
        coupon_id: body.coupon_id,
        points: body.points,
    };
    match admissible(&state, &drop, pass.as_deref(), buyer.id, now) {
        Ok(()) => {}
        Err(Refused::Now(refusal)) => return Err(refusal),
        // Only these may be the retry of a purchase that went through: it gets the first answer.
        Err(Refused::UnlessRetried(refusal)) => {
            return match state.store.order(order_id).await {
                Ok(_) => replay(&state, buyer, &drop, quantity, redeem, order_id).await,
                Err(DbError::NotFound) => Err(refusal),
                Err(e) => Err(e.into()),
            };
        }
    }
    let has_room = drop.waiting_room.is_some();
    let subtotal = drop.price * i64::from(quantity);
    let line = PricedLine {
        product_id: drop.product_id,
        seller_id: drop.seller_id,
        amount: subtotal,
    };
    let (total, redemption) =
        match crate::coupons::price(&state, buyer.id, &[line], redeem, now).await {
            Ok(priced) => priced,
            // Only a coupon or points are refused here: a retry finds them taken by its own
            // first attempt, and is answered from that order.
            Err(refused) => match state.store.order(order_id).await {
                Ok(_) => return replay(&state, buyer, &drop, quantity, redeem, order_id).await,
                Err(_) => return Err(refused),
            },
        };

    let pool = PoolKey(drop.pool_key());
    let claim = Claim {
        user: buyer.id,
        qty: quantity,
        request_id: order_id,
        fingerprint: redeem.fingerprint(&[
            b"purchase",
            drop.id.as_bytes(),
            &quantity.to_be_bytes(),
        ]),
        at: now.timestamp_micros(),
    };
    let seq = match state.claims.claim("drop", &pool, &claim).await? {
        ClaimOutcome::Granted { seq } if has_room => {
            use_pass(&state, &pool, &drop, buyer.id, order_id, now).await?;
            seq
        }
        ClaimOutcome::Granted { seq } => seq,
        ClaimOutcome::Replayed { .. } => {
            return replay(&state, buyer, &drop, quantity, redeem, order_id).await;
        }
        ClaimOutcome::Mismatch => return Err(ApiError::idempotency_mismatch()),
        ClaimOutcome::SoldOut => return Err(sold_out()),
        ClaimOutcome::LimitReached => return Err(limit_reached()),
    };

    let order = NewOrder {
        id: order_id,
        buyer_id: buyer.id,
        idempotency_key: key,
        total,
        hold_expires_at: now + state.orders.hold_for,
        created_at: now,
        cause: "purchase",
        lines: vec![NewOrderLine {
            product_id: drop.product_id,
            drop_id: Some(drop.id),
            qty: i32::try_from(quantity).expect("at most MAX_QUANTITY"),
            unit_price: drop.price,
            claim: ClaimRow {
                id: order_id,
                pool_key: pool.0.clone(),
                user_id: buyer.id,
                qty: i32::try_from(quantity).expect("at most MAX_QUANTITY"),
                seq: i64::try_from(seq).expect("seq fits in i64"),
                fingerprint: i64::try_from(claim.fingerprint).expect("fingerprints have 63 bits"),
                claimed_at: now,
                released_at: None,
            },
        }],
        redemption,
    };
    let response = PurchaseResponse {
        order_id,
        drop_id: drop.id,
        quantity,
        unit_price: drop.price,
        subtotal,
        discount: redemption.discount,
        points: redemption.points,
        coupon_id: redemption.coupon_id,
        total,
        status: OrderStatus::PendingPayment,
        hold_expires_at: order.hold_expires_at,
        seq,
    };
    match state.claims.commit(ClaimWrite::Order(order)).await? {
        CommitOutcome::Committed => Ok((StatusCode::CREATED, Json(response))),
        CommitOutcome::Duplicate => replay(&state, buyer, &drop, quantity, redeem, order_id).await,
        CommitOutcome::SoldOut => Err(sold_out()),
        CommitOutcome::LimitReached => Err(limit_reached()),
        CommitOutcome::CouponUnavailable => Err(crate::coupons::coupon_unavailable()),
        CommitOutcome::InsufficientPoints => Err(crate::coupons::insufficient_points()),
    }
}

/// A purchase refused before the gate, answered without I/O unless it may be the retry of one
/// that went through.
enum Refused {
    /// Not open yet, or without a pass this buyer was ever given for this drop.
    Now(ApiError),
    /// The drop has closed, or the pass has expired, since a first attempt may have bought.
    UnlessRetried(ApiError),
}

/// Whether the drop takes this purchase now: its window is open and, on a drop with a waiting
/// room, the buyer's pass is valid.
fn admissible(
    state: &AppState,
    drop: &ProductDrop,
    pass: Option<&str>,
    buyer: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Refused> {
    match window_status(now, drop.opens_at, drop.closes_at) {
        DropStatus::Scheduled => Err(Refused::Now(ApiError::conflict(
            "not_open",
            "the drop has not opened yet",
        ))),
        DropStatus::Closed => Err(Refused::UnlessRetried(ApiError::conflict(
            "closed",
            "the drop has closed",
        ))),
        DropStatus::Open | DropStatus::SoldOut if drop.waiting_room.is_some() => state
            .rooms
            .check_pass(pass, drop.id, buyer, now)
            .map_err(|refused| match refused {
                PassRefused::Invalid(e) => Refused::Now(e),
                PassRefused::Expired(e) => Refused::UnlessRetried(e),
            }),
        DropStatus::Open | DropStatus::SoldOut => Ok(()),
    }
}

/// Uses the buyer's pass up for a grant, in the room shared by every node: of two purchases with
/// one pass, one gets it. Without a valid pass (used, expired) the grant is undone.
async fn use_pass(
    state: &AppState,
    pool: &PoolKey,
    drop: &ProductDrop,
    buyer: Uuid,
    order_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let used = state.rooms.use_pass(drop.id, buyer, now).await;
    if matches!(used, Ok(true)) {
        return Ok(());
    }
    state.claims.undo(pool, order_id).await;
    match used {
        Err(e) => Err(e),
        _ => Err(pass_invalid("the queue pass was used or has expired")),
    }
}

/// Answers a retried request with the order its first attempt created, once that is durable.
async fn replay(
    state: &AppState,
    buyer: AuthUser,
    drop: &ProductDrop,
    quantity: u32,
    redeem: Redeem,
    order_id: Uuid,
) -> Result<(StatusCode, Json<PurchaseResponse>), ApiError> {
    let order = first_attempt(|| state.store.order(order_id)).await?;
    let [line] = order.lines.as_slice() else {
        return Err(ApiError::idempotency_mismatch());
    };
    if order.buyer_id != buyer.id
        || line.drop_id != Some(drop.id)
        || line.qty != i32::try_from(quantity).unwrap_or(-1)
        || order.redemption.coupon_id != redeem.coupon_id
        || order.redemption.points != redeem.points
    {
        return Err(ApiError::idempotency_mismatch());
    }
    Ok((
        StatusCode::CREATED,
        Json(PurchaseResponse {
            order_id,
            drop_id: drop.id,
            quantity,
            unit_price: line.unit_price,
            subtotal: line.unit_price * i64::from(line.qty),
            discount: order.redemption.discount,
            points: order.redemption.points,
            coupon_id: order.redemption.coupon_id,
            total: order.total,
            status: OrderStatus::PendingPayment,
            hold_expires_at: order.hold_expires_at,
            seq: u64::try_from(line.seq).expect("seqs are positive"),
        }),
    ))
}

fn sold_out() -> ApiError {
    ApiError::conflict("sold_out", "not enough units remain")
}

fn limit_reached() -> ApiError {
    ApiError::conflict(
        "limit_reached",
        "this would exceed the drop's per-buyer limit",
    )
}
