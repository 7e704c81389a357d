//! The order lifecycle: status changes by buyers and by time, each applied once, each giving
//! the order's stock back to the gate when it leaves a status that holds stock.

use chrono::{DateTime, TimeDelta, Utc};
use rushline_domain::{OrderStatus, PaymentStatus};
use rushline_gate::PoolKey;
use rushline_store::{DbError, ORDER_STATUS_CHANGED, Order, OrderTransition, Payment};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::{ApiError, AppState};

/// Orders moved per status per run of the lifecycle job; the next run (a second later) takes
/// the rest.
const BATCH: u32 = 500;

/// Applies `change`, then gives back in the gate whatever stock the database released with it.
pub async fn transition(state: &AppState, change: &OrderTransition) -> Result<Order, ApiError> {
    let order = state
        .store
        .transition_order(change)
        .await
        .map_err(|e| match e {
            DbError::Conflict { constraint } if constraint == ORDER_STATUS_CHANGED => {
                ApiError::conflict(
                    "invalid_transition",
                    format!("the order cannot become {} now", change.to),
                )
            }
            other => other.into(),
        })?;
    if change.from.holds_stock() && !change.to.holds_stock() {
        release(state, &order).await;
    }
    Ok(order)
}

/// Gives the order's claims back in the gate. The database already released them; if the gate
/// cannot be reached now, reconciliation undoes the grants later.
async fn release(state: &AppState, order: &Order) {
    for line in &order.lines {
        let pool = PoolKey(line.pool_key.clone());
        if let Err(e) = state.claims.gate.release(&pool, line.claim_id).await {
            tracing::warn!(order = %order.id, pool = %pool.0, error = %e, "could not release a claim in the gate; reconciliation will");
        }
    }
}

/// The order if `user` may see it: its buyer, a seller of one of its lines, or an admin. Anyone
/// else gets 404, as if it did not exist.
pub async fn visible_order(state: &AppState, user: AuthUser, id: Uuid) -> Result<Order, ApiError> {
    let order = state.store.order(id).await?;
    let visible = user.is_admin()
        || order.buyer_id == user.id
        || order.lines.iter().any(|l| l.seller_id == user.id);
    if visible {
        Ok(order)
    } else {
        Err(ApiError::not_found())
    }
}

/// The time-driven steps of the lifecycle, in the order the job applies them.
fn timed_steps(state: &AppState) -> [(OrderStatus, OrderStatus, TimeDelta, &'static str); 5] {
    let settings = &state.orders;
    [
        (
            OrderStatus::PendingPayment,
            OrderStatus::Expired,
            TimeDelta::zero(),
            "hold_expired",
        ),
        (
            OrderStatus::Paid,
            OrderStatus::Shipping,
            settings.ship_after,
            "shipped",
        ),
        (
            OrderStatus::Shipping,
            OrderStatus::Delivered,
            settings.deliver_after,
            "delivered",
        ),
        (
            OrderStatus::Delivered,
            OrderStatus::Completed,
            settings.return_window,
            "return_window_closed",
        ),
        (
            OrderStatus::ReturnRequested,
            OrderStatus::Returned,
            settings.return_process,
            "return_processed",
        ),
    ]
}

/// Moves every order whose time has come at `now`. Safe to run on several nodes at once: each
/// change applies only from its expected status, so a race costs a refused no-op, not a second
/// transition.
pub async fn advance(state: &AppState, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let mut moved = 0;
    for (from, to, after, cause) in timed_steps(state) {
        // Pending orders are due by their hold's end; the others by their last status change.
        let due = state.store.orders_due(from, now - after, BATCH).await?;
        for (id, since) in due {
            // Dated when it was due, not when this run noticed: history stays exact even if
            // the job was down, and the next step counts from there.
            let at = since + after;
            let mut change = OrderTransition::new(id, from, to, at, cause);
            if to == OrderStatus::Returned {
                change.jobs =
                    crate::payments::refunds_for(state, id, "the order was returned", at).await?;
            }
            if to == OrderStatus::Completed {
                // What was charged: the total after the coupon and the points.
                let paid = state.store.order(id).await?.total;
                change.earn_points = state.earn_rate.earned(paid);
            }
            match transition(state, &change).await {
                Ok(_) => moved += 1,
                Err(e) if e.code() == "invalid_transition" => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(moved)
}

/// An order as its buyer, its sellers and admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    id: Uuid,
    buyer_id: Uuid,
    status: OrderStatus,
    /// The lines' sum, KRW.
    subtotal: i64,
    /// Won the coupon took off.
    discount: i64,
    /// Points spent.
    points_spent: i64,
    /// The coupon redeemed; it goes back to the wallet if the order is cancelled, expires or is
    /// returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    coupon_id: Option<Uuid>,
    /// What payment charges: `subtotal − discount − points_spent`, KRW.
    total: i64,
    hold_expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_note: Option<String>,
    lines: Vec<OrderLineView>,
    /// Every status the order took, with when and why; on single orders only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    history: Vec<OrderEventView>,
    /// Its payments, oldest first; on single orders only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    payments: Vec<PaymentView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    id: Uuid,
    /// `sandbox` or `toss`.
    provider: String,
    amount: i64,
    status: PaymentStatus,
}

impl From<Payment> for PaymentView {
    fn from(payment: Payment) -> Self {
        Self {
            id: payment.id,
            provider: payment.provider,
            amount: payment.amount,
            status: payment.status,
        }
    }
}

impl OrderView {
    pub fn with_payments(mut self, payments: Vec<Payment>) -> Self {
        self.payments = payments.into_iter().map(PaymentView::from).collect();
        self
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineView {
    product_id: Uuid,
    seller_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    drop_id: Option<Uuid>,
    quantity: i32,
    unit_price: i64,
    /// The line's place in its pool's order of grants.
    seq: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderEventView {
    status: OrderStatus,
    at: DateTime<Utc>,
    /// `purchase`, `checkout`, `payment`, `buyer`, `hold_expired`, `shipped`, `delivered`,
    /// `return_window_closed`, `return_processed`.
    cause: String,
}

impl From<Order> for OrderView {
    fn from(order: Order) -> Self {
        Self {
            id: order.id,
            buyer_id: order.buyer_id,
            status: order.status,
            subtotal: order.total + order.redemption.discount + order.redemption.points,
            discount: order.redemption.discount,
            points_spent: order.redemption.points,
            coupon_id: order.redemption.coupon_id,
            total: order.total,
            hold_expires_at: order.hold_expires_at,
            created_at: order.created_at,
            updated_at: order.updated_at,
            return_reason: order.return_reason,
            return_note: order.return_note,
            lines: order
                .lines
                .into_iter()
                .map(|line| OrderLineView {
                    product_id: line.product_id,
                    seller_id: line.seller_id,
                    drop_id: line.drop_id,
                    quantity: line.qty,
                    unit_price: line.unit_price,
                    seq: line.seq,
                })
                .collect(),
            history: order
                .history
                .into_iter()
                .map(|event| OrderEventView {
                    status: event.status,
                    at: event.at,
                    cause: event.cause,
                })
                .collect(),
            payments: Vec::new(),
        }
    }
}
